"""TensorFlow imported without its start-up notices: checked on a fresh interpreter's real
stderr, with stand-in ``tensorflow`` packages that write as TensorFlow 2.21 does (the real
one is checked end to end in tests/apps/test_quiet_console.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

NOTICES = (
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
    "I0000 00:00:1796528568.397949   21850 port.cc:153] oneDNN custom operations are on. You "
    "may see slightly different numerical results.\n"
    "W0000 00:00:1796528568.546379   21850 cpu_feature_guard.cc:227] This TensorFlow binary is "
    "optimized.\n"
)


def _stand_in(root: Path, body: str) -> Path:
    """A ``tensorflow`` package under ``root`` whose import runs ``body``: it first writes
    TensorFlow's notices to file descriptor 2, as the C++ library does."""
    package = root / "tensorflow"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(
        f"import os, sys\nos.write(2, {NOTICES.encode()!r})\n" + textwrap.dedent(body)
    )
    return root


def _run(path: Path, script: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(path)}
    environment.pop("TF_CPP_MIN_LOG_LEVEL", None)  # sparkner sets it to 2 unless given
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
    )


IMPORT = """
    import sys
    print("before", file=sys.stderr)
    from sparkner.ner.tensorflow_import import import_tensorflow
    tf = import_tensorflow()
    print("after", tf.VERSION, file=sys.stderr)
    assert import_tensorflow() is tf
"""


def test_the_notices_are_held_and_other_lines_pass(tmp_path):
    path = _stand_in(
        tmp_path,
        """
        print("a line of TensorFlow's own Python", file=sys.stderr)
        os.write(2, b"E0000 00:00:1.0   1 some.cc:1] an error line\\n")
        VERSION = "stand-in"
        """,
    )
    out = _run(path, IMPORT)
    assert out.returncode == 0, out.stderr
    assert out.stderr == (
        "before\na line of TensorFlow's own Python\n"
        "E0000 00:00:1.0   1 some.cc:1] an error line\nafter stand-in\n"
    )


def test_level_zero_shows_the_notices(tmp_path):
    path = _stand_in(tmp_path, "VERSION = 'stand-in'\n")
    out = _run(path, IMPORT, TF_CPP_MIN_LOG_LEVEL="0")
    assert out.returncode == 0, out.stderr
    assert out.stderr == f"before\n{NOTICES}after stand-in\n"


def test_a_failed_import_says_everything(tmp_path):
    path = _stand_in(
        tmp_path,
        """
        os.write(2, b"libtensorflow_framework.so.2: cannot open shared object file\\n")
        raise ImportError("TensorFlow could not load its library")
        """,
    )
    out = _run(path, IMPORT)
    assert out.returncode == 1
    assert out.stderr.startswith(f"before\n{NOTICES}libtensorflow_framework.so.2: cannot open")
    assert out.stderr.rstrip().endswith("ImportError: TensorFlow could not load its library")
    # Where it was written, stderr is back: the traceback is on it.
    assert "Traceback" in out.stderr


def test_every_tensorflow_import_goes_through_the_quiet_one():
    """No module of sparkner's imports TensorFlow at run time but through
    import_tensorflow (``import tensorflow`` stays only under TYPE_CHECKING)."""
    import ast

    import sparkner

    root = Path(sparkner.__file__).parent
    found = []
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        checking = {
            id(n)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
            for n in ast.walk(ast.Module(body=node.body, type_ignores=[]))
        }
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(n.split(".")[0] == "tensorflow" for n in names) and id(node) not in checking:
                found.append(f"{path.relative_to(root)}:{node.lineno}")
    assert found == []
