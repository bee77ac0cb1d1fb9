"""Processes from ``/proc`` (Linux): the process tree below a pid, a session's processes, the
memory, command line and CPU time of a pid, and :class:`MemorySampler`, which samples the
resident memory of a Spark driver, its JVM and its Python workers.

For the benchmarks (``from procfs import ...``, as ``bench/`` is on ``sys.path`` of a script
run as ``python bench/x.py``). Only the standard library, so that a Spark task can carry it
(bench/embeddings.py). The tests keep their own copy of the few they need (process_alive,
kill_sessions: tests/tests_support.py), as tests import nothing from bench/.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from typing import Any


def read(path: str) -> bytes:
    """The bytes of a ``/proc`` file; empty when the process is gone (or it cannot be read)."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return b""


def stat_fields(pid: int | str) -> list[bytes]:
    """The fields of ``/proc/<pid>/stat`` after the command name: state, ppid, pgrp, session,
    ... (so utime is field 11, 0-based); empty when the process is gone."""
    stat = read(f"/proc/{pid}/stat")
    return stat[stat.rfind(b")") + 2 :].split() if stat else []


def parents() -> dict[int, int]:
    """pid -> parent pid, for every process."""
    found = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            fields = stat_fields(name)
            if len(fields) > 1:
                found[int(name)] = int(fields[1])
    return found


def descendants(root: int) -> dict[int, int]:
    """pid -> parent pid, for the processes below ``root`` (children, their children, ...)."""
    parent_of = parents()
    children: dict[int, list[int]] = {}
    for pid, parent in parent_of.items():
        children.setdefault(parent, []).append(pid)
    found, todo = {}, [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found[child] = parent_of[child]
            todo.append(child)
    return found


def session_pids(session: int) -> list[int]:
    """Live processes of a session: one started with ``start_new_session`` and all it started
    (executor JVMs, Python daemons and workers, which at most change process group)."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            fields = stat_fields(name)  # state ppid pgrp session ...
            if len(fields) > 3 and int(fields[3]) == session and fields[0] != b"Z":
                found.append(int(name))
    return found


def process_alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie does not)."""
    fields = stat_fields(pid)
    return bool(fields) and fields[0] != b"Z"


def kill_sessions(sessions: list[int], grace_s: float = 0, deadline_s: float = 60) -> list[int]:
    """SIGKILL every process of the sessions, by id, until none is left; return their ids.
    With ``grace_s``, first give them that long to end by themselves. Raises RuntimeError
    when some outlive ``deadline_s`` seconds of SIGKILL."""
    seen: set[int] = set()
    grace, deadline = time.monotonic() + grace_s, time.monotonic() + grace_s + deadline_s
    while pids := [pid for session in sessions for pid in session_pids(session)]:
        seen.update(pids)
        if time.monotonic() > deadline:
            raise RuntimeError(f"processes {pids} outlived SIGKILL")
        if time.monotonic() > grace:
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):  # gone meanwhile
                    os.kill(pid, signal.SIGKILL)
        time.sleep(0.2)
    return sorted(seen)


def status_kb(pid: int | str, keys: tuple[str, ...] = ("VmRSS", "VmHWM")) -> dict[str, int]:
    """The ``keys`` of ``/proc/<pid>/status`` (``pid`` may be ``"self"``), in kB; empty when
    the process is gone."""
    wanted = {key.encode() for key in keys}
    values = {}
    for line in read(f"/proc/{pid}/status").splitlines():
        key, _, rest = line.partition(b":")
        if key in wanted:
            values[key.decode()] = int(rest.split()[0])
    return values


def rss_kb(pid: int | str) -> int:
    """The resident memory of ``pid`` in kB (0 when it is gone)."""
    return status_kb(pid, ("VmRSS",)).get("VmRSS", 0)


def cmdline(pid: int | str) -> list[bytes]:
    """The arguments of ``pid`` (empty when it is gone)."""
    return read(f"/proc/{pid}/cmdline").split(b"\0")


def cpu_seconds(pid: int | str) -> float:
    """CPU seconds used by ``pid`` and the children it has reaped (utime, stime, cutime,
    cstime); 0 when it is gone."""
    fields = stat_fields(pid)
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK") if fields else 0.0


class MemorySampler(threading.Thread):
    """Samples, every ``period`` seconds, the resident memory of ``root`` (the driver's Python
    process; this one by default) and of the processes below it: the JVM (``java ...
    SparkSubmit``; not the short-lived launcher JVM) and the Python workers
    (``pyspark.daemon`` and the workers it forks).

    It keeps each sample (:attr:`samples`, RSS over time), the peaks of each :attr:`phase`
    (set it before each part of a run) and each process's VmHWM by role (:meth:`summary`);
    :meth:`cpu_seconds` reads the CPU time of the driver, the JVM and the Python workers
    (it needs no running thread)."""

    def __init__(self, root: int | None = None, period: float = 0.5) -> None:
        super().__init__(name="memory-sampler", daemon=True)
        self.root = os.getpid() if root is None else root
        self.period = period
        self.started = time.monotonic()
        self.phase = "start"
        self.samples: list[dict[str, Any]] = []
        self.peaks: dict[str, dict[str, int]] = {}  # phase -> measure -> kB
        self.hwm: dict[int, tuple[str, int]] = {}  # pid -> (role, VmHWM kB)
        self.with_tensorflow: set[int] = set()
        self.jvm_argv: list[str] = []
        self._roles: dict[int, str] = {}
        self._done = threading.Event()
        self._lock = threading.Lock()

    def stop(self) -> None:
        """End the sampling thread, then take a last sample (none once the driver has ended)."""
        self._done.set()
        self.join()
        self.sample()

    def run(self) -> None:
        while True:
            self.sample()
            if self._done.wait(self.period):
                return

    def _role(self, pid: int, parent: int) -> str:
        known = self._roles.get(pid)
        if known:
            return known
        argv = cmdline(pid)
        role = "other"  # the launcher's shell scripts and JVM, before the real JVM starts
        if any(b"pyspark.daemon" in a or b"pyspark.worker" in a for a in argv):
            role = "worker" if self._roles.get(parent) == "daemon" else "daemon"
        elif (
            argv
            and os.path.basename(argv[0]) == b"java"
            and b"org.apache.spark.deploy.SparkSubmit" in argv
        ):
            role = "jvm"
            self.jvm_argv = [a.decode(errors="replace") for a in argv if a]
        if role != "other":
            self._roles[pid] = role
        return role

    def _processes(self) -> list[tuple[int, str]]:
        """(pid, role) of the JVM and the Python processes below the root, parents first
        (mostly: parents have lower pids)."""
        found = []
        for pid, parent in sorted(descendants(self.root).items()):
            role = self._role(pid, parent)
            if role != "other":
                found.append((pid, role))
        return found

    def sample(self) -> None:
        driver = status_kb(self.root)
        if not driver:
            return  # the driver has ended
        jvm = daemon = workers_sum = worker_max = workers = 0
        for pid, role in self._processes():
            status = status_kb(pid)
            if not status:
                continue
            rss = status.get("VmRSS", 0)
            old = self.hwm.get(pid, (role, 0))[1]
            self.hwm[pid] = (role, max(old, status.get("VmHWM", 0)))
            if role == "jvm":
                jvm += rss
            elif role == "daemon":
                daemon += rss
            else:
                workers += 1
                workers_sum += rss
                worker_max = max(worker_max, rss)
                if pid not in self.with_tensorflow and b"tensorflow" in read(f"/proc/{pid}/maps"):
                    self.with_tensorflow.add(pid)
        self.hwm[self.root] = ("driver", driver.get("VmHWM", 0))
        driver_rss = driver.get("VmRSS", 0)
        record = {
            "t": time.monotonic() - self.started,
            "driver_kb": driver_rss,
            "jvm_kb": jvm,
            "daemon_kb": daemon,
            "workers_kb": workers_sum,
            "one_worker_kb": worker_max,
            "workers": workers,
            "total_kb": driver_rss + jvm + daemon + workers_sum,
        }
        current = {
            "driver_rss_kb": driver_rss,
            "jvm_rss_kb": jvm,
            "one_worker_rss_kb": worker_max,
            "all_python_workers_rss_kb": daemon + workers_sum,
            "python_workers": workers,
            "workers_with_tensorflow": len(self.with_tensorflow),
        }
        with self._lock:
            self.samples.append(record)
            peaks = self.peaks.setdefault(self.phase, {})
            for key, value in current.items():
                peaks[key] = max(peaks.get(key, 0), value)

    def latest(self) -> dict[str, Any] | None:
        """The last sample (None before the first)."""
        with self._lock:
            return self.samples[-1] if self.samples else None

    def max_heap(self) -> str | None:
        """The JVM's -Xmx, as the launcher passed it (the last one wins in Java)."""
        found = [a.removeprefix("-Xmx") for a in self.jvm_argv if a.startswith("-Xmx")]
        return found[-1] if found else None

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds used so far by the root ("driver"), the JVM and the Python workers
        (daemon and workers; the daemon's share includes the workers it has reaped)."""
        totals = {"driver": cpu_seconds(self.root), "jvm": 0.0, "python": 0.0}
        for pid, role in self._processes():
            totals["python" if role in ("daemon", "worker") else role] += cpu_seconds(pid)
        return totals

    def summary(self) -> dict[str, Any]:
        """Peak VmHWM by role, the workers seen, and the peaks of each phase, in kB."""
        by_role: dict[str, list[int]] = {}
        for role, kb in self.hwm.values():
            by_role.setdefault(role, []).append(kb)
        workers = [kb for role, kb in self.hwm.values() if role == "worker"]
        tf_workers = [self.hwm[pid][1] for pid in self.with_tensorflow if pid in self.hwm]
        return {
            "driver_hwm_kb": max(by_role.get("driver", [0])),
            "jvm_hwm_kb": max(by_role.get("jvm", [0])),
            "daemon_hwm_kb": max(by_role.get("daemon", [0])),
            "worker_hwm_kb_max": max(workers, default=0),
            "workers_seen": len(workers),
            "workers_with_tensorflow": len(tf_workers),
            "tensorflow_worker_hwm_kb_min": min(tf_workers, default=0),
            "per_phase": self.peaks,
        }
