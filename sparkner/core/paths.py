"""Path schemes: which paths name this machine's files, and where they are."""

from __future__ import annotations

import re

# A URI scheme as RFC 3986 (and urllib) has it: a letter, then letters, digits, "+", "-", ".".
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")


def filesystem_path(path: str) -> str | None:
    """The path that ``path`` names on this machine's filesystem, or None for another scheme.

    A plain path (a Windows drive's too, ``C:\\notes``) is that path; a ``file:`` URI is its
    path, without the scheme and host (``file:///tmp/x`` and ``file://localhost/tmp/x`` are
    ``/tmp/x``). Other schemes (``hdfs:``, ``s3a:``, ``dbfs:``, ...) are reached through Hadoop,
    not here. As in Hadoop's ``Path``, ``?``, ``#`` and ``%`` are part of the path.
    """
    found = _SCHEME.match(path)
    if found is None or len(found.group(1)) == 1:  # one letter: a drive, not a scheme
        return path
    if found.group(1).lower() != "file":
        return None
    rest = path[found.end() :]
    if rest.startswith("//"):  # an authority: the host, which is this machine
        slash = rest.find("/", 2)
        rest = rest[slash:] if slash != -1 else ""
    return rest
