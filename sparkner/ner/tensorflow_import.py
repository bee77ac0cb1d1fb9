"""TensorFlow, imported without its start-up notices on the console.

TensorFlow 2.21 writes ``WARNING: All log messages before absl::InitializeLog() is called are
written to STDERR`` and an ``I0000 ... port.cc:153] oneDNN custom operations are on`` line
straight to the process's stderr file descriptor while it is imported, before it reads
``TF_CPP_MIN_LOG_LEVEL``; a Spark job printed them once in the driver and once in every Python
worker. So every module of sparkner that needs TensorFlow gets it from
:func:`import_tensorflow`, which points file descriptor 2 at a temporary file for the import
only, then drops TensorFlow's own notices from what was written there and passes the rest on
(another thread's lines are delayed, not lost). When the import fails, everything it wrote is
passed on before the error is raised. ``TF_CPP_MIN_LOG_LEVEL=0`` shows the notices again.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

# absl's log line format (severity letter, MMDD, time, thread, file:line]) for INFO and
# WARNING, and absl's one-line preamble: what TensorFlow writes as it loads.
_NOTICE = re.compile(
    rb"^(?:[IW]\d{4} \d\d:\d\d:[\d.]+ +\d+ [^\]\s]+:\d+\] .*"
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to "
    rb"STDERR)$"
)
# One import at a time swaps the descriptor, so that two threads never restore each
# other's copies.
_LOCK = threading.Lock()


def import_tensorflow() -> Any:
    """The ``tensorflow`` module, imported (the first time) with its start-up notices
    silenced, in whichever process calls it: the driver, a Python worker, a training run."""
    with _LOCK:
        if "tensorflow" not in sys.modules and _notices_unwanted():
            with notices_held():
                importlib.import_module("tensorflow")
    return importlib.import_module("tensorflow")


def _notices_unwanted() -> bool:
    """TensorFlow's INFO notices are unwanted unless ``TF_CPP_MIN_LOG_LEVEL`` is 0."""
    return os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0").strip() not in ("", "0")


@contextmanager
def notices_held() -> Iterator[None]:
    """File descriptor 2 held in a temporary file for the block; afterwards what was written
    there goes to the real stderr, without TensorFlow's notices if the block succeeded and
    all of it if it raised."""
    _flush_stderr()
    try:
        saved = os.dup(2)
    except OSError:  # no stderr at all: nothing to hold
        yield
        return
    failed = False
    with tempfile.TemporaryFile() as held:
        try:
            os.dup2(held.fileno(), 2)
            try:
                yield
            finally:
                _flush_stderr()
                os.dup2(saved, 2)
        except BaseException:
            failed = True
            raise
        finally:
            os.close(saved)
            held.seek(0)
            _pass_on(held.read(), failed)


def _pass_on(written: bytes, everything: bool) -> None:
    lines = written.splitlines(keepends=True)
    kept = lines if everything else [x for x in lines if not _NOTICE.match(x.rstrip(b"\r\n"))]
    data = b"".join(kept)
    _flush_stderr()
    while data:
        data = data[os.write(2, data) :]


def _flush_stderr() -> None:
    if sys.stderr is not None:
        with suppress(OSError, ValueError):  # closed or detached: nothing buffered to keep
            sys.stderr.flush()
