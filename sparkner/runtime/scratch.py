"""sparkner's temporary files: nothing outlives the process that made it.

Everything goes into one folder per process, ``<tmp>/sparkner-<uid>/<pid>``, removed when
the process exits. A process that cannot run its exit handlers (killed, or a Spark Python
worker, which leaves with ``os._exit``) leaves its folder behind; the next sparkner process
that makes a folder removes the folders of processes that no longer run.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
from pathlib import Path

_LOCK = threading.Lock()
_FOLDER: dict[int, Path] = {}  # by pid: a forked worker gets its own folder


def user_folder() -> Path:
    """The per-user parent of the process folders (private to the user)."""
    folder = Path(tempfile.gettempdir()) / f"sparkner-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def process_folder() -> Path:
    """This process's folder, made on first use and removed when the process exits."""
    pid = os.getpid()
    with _LOCK:
        folder = _FOLDER.get(pid)
        if folder is None:
            parent = user_folder()
            remove_orphans(parent)
            folder = parent / str(pid)
            shutil.rmtree(folder, ignore_errors=True)  # a dead process's, with a reused pid
            folder.mkdir(mode=0o700)
            atexit.register(shutil.rmtree, folder, True)
            _FOLDER[pid] = folder
        return folder


def scratch_folder(prefix: str) -> str:
    """A new private folder inside this process's folder."""
    return tempfile.mkdtemp(prefix=prefix, dir=process_folder())


def remove_orphans(parent: Path) -> list[str]:
    """Remove the folders of processes that no longer run; their names."""
    removed = []
    for entry in parent.iterdir():
        if entry.name.isdigit() and not _running(int(entry.name)):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry.name)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process with that pid: not ours to judge
        return True
    return True
