"""The ``sparkner`` command line."""

from __future__ import annotations

import numpy as np

from sparkner.cli import main
from sparkner.embeddings.store import write_store


def test_neighbours_of_a_store(tmp_path, capsys):
    words = ["fever", "pyrexia", "fracture"]
    write_store(tmp_path, words, np.array([[1, 0], [0.95, 0.1], [0, 1]], np.float32), "t")
    assert main(["neighbours", "Fever", "unknownword", "--store", str(tmp_path), "-k", "1"]) == 0
    out = capsys.readouterr().out
    assert "Fever: pyrexia (0.99)" in out
    assert "unknownword: not in the vocabulary" in out


def test_missing_config_is_a_clear_error(tmp_path, capsys):
    code = main(["build-embeddings", "--config", str(tmp_path / "nope.yaml"),
                 "--data", str(tmp_path), "--output", str(tmp_path / "out")])  # fmt: skip
    assert code == 2
    assert "sparkner build-embeddings: error:" in capsys.readouterr().err


def test_unknown_pretrained_name(capsys):
    assert main(["neighbours", "x", "--name", "no_such_vectors"]) == 2
    assert "unknown pretrained embeddings 'no_such_vectors'" in capsys.readouterr().err
