"""The one per-process cache of what model stages load from their files.

A model stage's batch function runs once per batch, in every path (stage by stage on Spark,
the fused UDF, the LightPipeline), and needs what its folder holds loaded: the tagger, the
vectors, the lexicon, the rules. Each is loaded once per Python process and kept, under what
is loaded (the kind of files and any setting the loading depends on) and the fingerprint of
the files' content: a batch function that knows the fingerprint finds it without reading a
file, and two folders with the same content share one copy. The engines' loaders cache
nothing themselves.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sparkner.runtime.shipping import FolderLocation

T = TypeVar("T")

_LOADED: dict[tuple[Hashable, str], Any] = {}
_LOCK = threading.Lock()


def load_once(what: Hashable, fingerprint: str, load: Callable[[], T]) -> T:
    """``load()``, called once per process for ``(what, fingerprint)``; later calls get the
    same object."""
    key = (what, fingerprint)
    found = _LOADED.get(key)  # the common case, without the lock: a dict read is atomic
    if found is None:
        with _LOCK:
            found = _LOADED.get(key)
            if found is None:
                found = _LOADED[key] = load()
    return found


def keep(what: Hashable, fingerprint: str, value: T) -> T:
    """``value`` kept for ``(what, fingerprint)``, unless an object is kept there already,
    which is returned instead (so a process holds one copy)."""
    with _LOCK:
        return _LOADED.setdefault((what, fingerprint), value)


@dataclass(frozen=True)
class ModelFiles(Generic[T]):
    """A model folder as a batch function gets it: where the folder is (on this machine,
    shipped or installed), what is loaded from it and the engine's loader. Small and
    picklable: Spark sends it to the executors inside the batch function."""

    location: FolderLocation
    what: Hashable
    loader: Callable[[str], T]

    def load(self) -> T:
        """What the folder holds, loaded once per process and fingerprint."""
        return load_once(self.what, self.location.fingerprint, self._load_now)

    def check(self) -> T:
        """Load from this very folder now, so that damaged files are refused here (the cache
        may hold the same content loaded from another folder); the result is kept for
        :meth:`load`."""
        return keep(self.what, self.location.fingerprint, self._load_now())

    def _load_now(self) -> T:
        return self.loader(self.location.resolve())
