"""sparkner's temporary files live in one folder per process, which is removed at exit or,
if the process was killed, by the next sparkner process."""

from __future__ import annotations

import os
import subprocess
import sys

from sparkner.runtime import scratch


def test_scratch_folders_are_inside_this_process_folder():
    folder = scratch.scratch_folder("tagger-")
    assert os.path.dirname(folder) == str(scratch.process_folder())
    assert scratch.process_folder().name == str(os.getpid())
    assert scratch.process_folder().parent == scratch.user_folder()


def test_folders_of_dead_processes_are_removed_and_live_ones_kept(tmp_path):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    (tmp_path / dead.stdout.strip() / "ship-x").mkdir(parents=True)
    (tmp_path / str(os.getpid())).mkdir()
    (tmp_path / "not-a-pid").mkdir()
    assert scratch.remove_orphans(tmp_path) == [dead.stdout.strip()]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([str(os.getpid()), "not-a-pid"])


def test_a_process_removes_its_folder_at_exit():
    script = "from sparkner.runtime import scratch; print(scratch.scratch_folder('x-'))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    folder = out.stdout.strip()
    assert folder.startswith(str(scratch.user_folder())) and not os.path.exists(folder)
    assert not os.path.exists(os.path.dirname(folder))
