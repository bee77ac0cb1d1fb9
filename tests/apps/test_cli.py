"""The ``sparkner`` command line."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sparkner.apps.cli import main
from sparkner.embeddings.store import write_store


def test_neighbours_of_a_store(tmp_path, capsys):
    words = ["fever", "pyrexia", "fracture"]
    write_store(tmp_path, words, np.array([[1, 0], [0.95, 0.1], [0, 1]], np.float32), "t")
    assert main(["neighbours", "Fever", "unknownword", "--store", str(tmp_path), "-k", "1"]) == 0
    out = capsys.readouterr().out
    assert "Fever: pyrexia (0.99)" in out
    assert "unknownword: not in the vocabulary" in out


def test_missing_config_is_a_clear_error(tmp_path, capsys):
    code = main(
        [
            "build-embeddings",
            "--config",
            str(tmp_path / "nope.yaml"),
            "--data",
            str(tmp_path),
            "--output",
            str(tmp_path / "out"),
        ]
    )
    assert code == 2
    assert "sparkner build-embeddings: error:" in capsys.readouterr().err


def test_unknown_pretrained_name(capsys):
    assert main(["neighbours", "x", "--name", "no_such_vectors"]) == 2
    assert "unknown pretrained embeddings 'no_such_vectors'" in capsys.readouterr().err


def _tiny_recipe(tmp_path):
    from tests_support import write_tiny_conll

    data = tmp_path / "data"
    (data / "tiny").mkdir(parents=True)
    for split in ("train", "dev", "test"):
        write_tiny_conll(data / "tiny" / f"{split}.tsv", sentences=60 if split == "train" else 20)
    config = tmp_path / "ner_tiny.yaml"
    config.write_text(
        "name: ner_tiny\ntrain: tiny/train.tsv\ndev: tiny/dev.tsv\ntest: tiny/test.tsv\n"
        "settings: {maxEpochs: 3, lr: 0.01, batchSize: 8, randomSeed: 2}\n"
    )
    return config, data


@pytest.mark.slow
def test_train_then_evaluate(spark, tmp_path, capsys):
    config, data = _tiny_recipe(tmp_path)
    output = tmp_path / "tagger"
    assert (
        main(["train", "--config", str(config), "--data", str(data), "--output", str(output)]) == 0
    )
    summary = json.loads(capsys.readouterr().out)
    assert summary["name"] == "ner_tiny" and summary["epochs"] == 3
    assert (output / "tagger.json").is_file() and (output / "weights.npz").is_file()
    # An existing output is refused unless --overwrite.
    assert (
        main(["train", "--config", str(config), "--data", str(data), "--output", str(output)]) == 2
    )
    assert "exists; pass --overwrite" in capsys.readouterr().err
    assert (
        main(["evaluate", "--model", str(output), "--data", str(data / "tiny" / "test.tsv")]) == 0
    )
    table = capsys.readouterr().out
    assert "Disease" in table and "micro" in table


def test_recipe_errors_name_the_file(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntrain: a\ndev: b\nsettings: {maxEpoch: 3}\n")
    assert (
        main(
            [
                "train",
                "--config",
                str(bad),
                "--data",
                str(tmp_path),
                "--output",
                str(tmp_path / "o"),
            ]
        )
        == 2
    )
    assert "bad.yaml: settings.maxEpoch is not a NerDLApproach parameter" in capsys.readouterr().err


@pytest.mark.slow
def test_train_from_brat_folders(spark, tmp_path, capsys):
    folder = tmp_path / "data" / "notes"
    folder.mkdir(parents=True)
    for i in range(30):
        text = f"Patient {i} reports fever. CT was normal. Started aspirin."
        (folder / f"{1000 + i}.txt").write_text(text)
        spans = [
            ("Sign_symptom", "fever"),
            ("Diagnostic_procedure", "CT"),
            ("Medication", "aspirin"),
        ]
        (folder / f"{1000 + i}.ann").write_text(
            "".join(
                f"T{n}\t{kind} {text.index(word)} {text.index(word) + len(word)}\t{word}\n"
                for n, (kind, word) in enumerate(spans, start=1)
            )
        )
    config = tmp_path / "clinical.yaml"
    config.write_text(
        "name: tiny_clinical\nbrat: [{folder: notes, labels: maccrobat}]\n"
        "settings: {maxEpochs: 2, lr: 0.01, batchSize: 8}\n"
    )
    output = tmp_path / "tagger"
    code = main(
        [
            "train",
            "--config",
            str(config),
            "--data",
            str(tmp_path / "data"),
            "--output",
            str(output),
        ]
    )
    assert code == 0, capsys.readouterr().err
    tags = set(json.loads((output / "tagger.json").read_text())["tags"])
    assert tags == {"O", "B-PROBLEM", "B-TEST", "B-TREATMENT"}
    capsys.readouterr()
    assert (
        main(
            [
                "evaluate",
                "--model",
                str(output),
                "--config",
                str(config),
                "--data-dir",
                str(tmp_path / "data"),
                "--split",
                "test",
                "--corpus",
                "notes",
            ]
        )
        == 0
    )
    table = capsys.readouterr().out
    assert "PROBLEM" in table and "TREATMENT" in table
    assert main(["evaluate", "--model", str(output)]) == 2
    assert "give --data FILE" in capsys.readouterr().err


def test_bundled_clinical_recipe_loads():
    from tests_support import REPO

    from sparkner.training.ner import load_recipe

    recipe = load_recipe(REPO / "conf" / "ner_clinical.yaml")
    assert [c["labels"] for c in recipe.brat] == ["maccrobat", "chia", "notes"]
    assert recipe.select_on == ["maccrobat", "clinical_notes"] and not recipe.refit


def test_bad_brat_entry_is_named(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nbrat: [{folder: notes, labels: i2b2}]\n")
    assert (
        main(
            [
                "train",
                "--config",
                str(bad),
                "--data",
                str(tmp_path),
                "--output",
                str(tmp_path / "o"),
            ]
        )
        == 2
    )
    assert "each brat entry needs 'folder' and 'labels'" in capsys.readouterr().err


@pytest.mark.slow
def test_annotate_a_parquet_file(spark, tmp_path, capsys):
    import pandas as pd

    marker = "MARKER-NOTE-TEXT-5521"
    notes = pd.DataFrame(
        {
            "mrn": [10, 11, 12],
            "body": [f"{marker} has fever; CT of the chest showed pneumonia.", None, "No issues."],
        }
    )
    notes.to_parquet(tmp_path / "notes.parquet")
    args = [
        "annotate",
        str(tmp_path / "notes.parquet"),
        str(tmp_path / "out"),
        "--text-col",
        "body",
        "--id-col",
        "mrn",
        "--json",
    ]
    assert main(args) == 0
    out, err = capsys.readouterr()
    summary = json.loads(out)
    assert summary["rows_read"] == 3 and summary["entities"] >= 2
    table = spark.read.parquet(str(tmp_path / "out"))
    assert table.columns == [
        "mrn",
        "chunk",
        "entity",
        "begin",
        "end",
        "sentence",
        "confidence",
        "assertion",
        "section",
    ]
    assert table.count() == summary["entities"]
    assert {"fever", "pneumonia"} <= {r.chunk for r in table.collect()}
    # The same output again is refused; with --overwrite it is replaced.
    assert main(args) == 2
    assert "exists; pass --overwrite" in capsys.readouterr().err
    assert main([*args[:-1], "--overwrite"]) == 0
    out, err = capsys.readouterr()
    assert "rows read            3" in out and "tokens/s" in out
    assert marker not in out + err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["annotate", "NOPE.parquet", "OUT"], "input NOPE.parquet: no such file or folder"),
        (["annotate", "IN", "OUT", "--text-col", "body"], "--text-col 'body'"),
        (["annotate", "IN", "OUT", "--model", "ner_nothing"], "unknown pretrained pipeline"),
        (["annotate", "IN", "IN"], "is the input"),
    ],
)
@pytest.mark.slow
def test_annotate_errors(spark, tmp_path, capsys, args, message):
    import pandas as pd

    marker = "MARKER-NOTE-TEXT-8817"
    source = tmp_path / "notes.parquet"
    pd.DataFrame({"text": [f"{marker} fever"]}).to_parquet(source)
    paths = {"IN": str(source), "OUT": str(tmp_path / "out"), "NOPE.parquet": "NOPE.parquet"}
    assert main([paths.get(a, a) for a in args]) == 2
    out, err = capsys.readouterr()
    assert message in err and marker not in out + err
    assert not (tmp_path / "out").exists()


@pytest.fixture(scope="module")
def saved_pipeline(spark, tmp_path_factory):
    """``ner_clinical_pipeline`` saved with Spark ML's writer, as a user would save it."""
    from sparkner.apps.pretrained import PretrainedPipeline

    folder = tmp_path_factory.mktemp("saved") / "ner_clinical_pipeline"
    PretrainedPipeline("ner_clinical_pipeline").model.write().save(str(folder))
    return folder


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _flip_a_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # inside an array's data: its CRC no longer matches
    path.write_bytes(bytes(data))


def _edit_json(path, change):
    path.write_text(json.dumps(change(json.loads(path.read_text()))))


# What is damaged (a file of the tagger or embeddings stage, or the metadata), how, and what
# the error says (the file it names, relative to the model folder).
DAMAGES = {
    "truncated weights": ("tagger", "weights.npz", _truncate, "weights.npz: unreadable"),
    "corrupted weights": ("tagger", "weights.npz", _flip_a_byte, "weights.npz: unreadable"),
    "tagger.json not JSON": (
        "tagger",
        "tagger.json",
        lambda p: p.write_text('{"format": "sparkner-tagger", '),
        "tagger.json: not valid JSON",
    ),
    "newer tagger format": (
        "tagger",
        "tagger.json",
        lambda p: _edit_json(p, lambda d: {**d, "version": 99}),
        "tagger.json: saved tagger format version 99 is newer than this sparkner reads",
    ),
    "truncated vectors": (
        "embeddings",
        "vectors.npy",
        _truncate,
        "vectors.npy: unreadable",
    ),
    "tagger of other vectors": (
        "tagger",
        "tagger.json",
        lambda p: _edit_json(p, lambda d: {**d, "storage_ref": "other_vectors"}),
        "but this stage was trained with 'other_vectors'",
    ),
    "tampered stage class": (
        "metadata",
        "",
        lambda p: _edit_json(p, lambda d: {**d, "class": "os.system"}),
        "is a 'os.system'; only sparkner stages are loaded",
    ),
}


@pytest.mark.parametrize("damage", list(DAMAGES))
@pytest.mark.slow
def test_annotate_with_a_damaged_model_folder(spark, saved_pipeline, tmp_path, capsys, damage):
    """``sparkner annotate --model FOLDER`` with a damaged saved pipeline: exit 2 and a
    message naming the file, from loading the model in the driver (a failed task would raise
    Spark's exception, not exit 2); no output, no traceback, no note text."""
    import shutil

    import pandas as pd

    where, name, change, message = DAMAGES[damage]
    model = tmp_path / "model"
    shutil.copytree(saved_pipeline, model)
    (tagger,) = (model / "stages").glob("*_NerDLModel_*")
    (vectors,) = (model / "stages").glob("*_WordEmbeddingsModel_*")
    stage = {"tagger": tagger, "embeddings": vectors}.get(where)
    if stage is not None:
        change(stage / "files" / name)
    else:
        (metadata,) = (tagger / "metadata").glob("part-*")
        change(metadata)
    marker = "MARKER-NOTE-TEXT-3306"
    pd.DataFrame({"text": [f"{marker} has fever and cough."]}).to_parquet(tmp_path / "n.parquet")
    args = ["annotate", str(tmp_path / "n.parquet"), str(tmp_path / "out"), "--model", str(model)]
    assert main(args) == 2
    out, err = capsys.readouterr()
    assert err.startswith("sparkner annotate: error: ") and message in err, err
    if damage == "tagger of other vectors":  # found at transform(): names the column
        assert "input column 'embeddings' holds word embeddings 'embeddings_clinical_v2'" in err
    elif stage is not None:  # the file, by its path in the model folder
        assert str(stage / "files" / name) in err, err
    else:  # the model folder and the stage
        position, uid = tagger.name.split("_", 1)  # Spark ML's "<index>_<uid>"
        assert f"{model}: stage {position} ({uid})" in err, err
    assert "Traceback" not in err and marker not in out + err
    assert not (tmp_path / "out").exists()


def test_an_unreachable_connect_server_is_named_at_once(tmp_path, capsys):
    import socket
    import time

    with socket.socket() as probe:  # a port nobody listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    notes = tmp_path / "notes.parquet"
    notes.write_bytes(b"")
    begun = time.monotonic()
    code = main(
        ["annotate", str(notes), str(tmp_path / "out"), "--remote", f"sc://127.0.0.1:{port}"]
    )
    assert code == 2 and time.monotonic() - begun < 30  # not minutes of silent retries
    assert f"no Spark Connect server answers at 127.0.0.1:{port}" in capsys.readouterr().err
    both = [
        "annotate",
        str(notes),
        str(tmp_path / "out"),
        "--master",
        "local[1]",
        "--remote",
        f"sc://127.0.0.1:{port}",
    ]
    assert main(both) == 2 and "--master or --remote" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "env", "spark"),
    [
        ([], {}, False),
        (["--spark"], {}, True),
        (["--master", "local[1]"], {}, True),
        (["--remote", "sc://h:1"], {}, True),
        (["--partitions", "4"], {}, True),
        ([], {"SPARK_REMOTE": "sc://h:1"}, True),
        ([], {"PYSPARK_GATEWAY_PORT": "4040"}, True),
    ],
)
def test_when_spark_is_asked_for(monkeypatch, args, env, spark):
    from sparkner.apps.cli import _spark_asked_for, build_parser

    for name in ("SPARK_REMOTE", "PYSPARK_GATEWAY_PORT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert _spark_asked_for(build_parser().parse_args(["annotate", "in", "out", *args])) is spark
    if "--partitions" not in args:
        assert _spark_asked_for(build_parser().parse_args(["demo", *args])) is spark


def _no_spark(*args, **kwargs):
    raise AssertionError("a small local input starts no Spark")


@pytest.mark.slow
def test_a_small_file_runs_in_process(tmp_path, capsys, monkeypatch):
    import pandas as pd
    import pyarrow.parquet as pq

    import sparkner.apps.cli as cli

    monkeypatch.setattr(cli, "_session", _no_spark)
    monkeypatch.delenv("SPARK_REMOTE", raising=False)
    notes = pd.DataFrame({"text": ["Fever and cough; chest CT showed pneumonia.", None, ""]})
    notes.to_csv(tmp_path / "notes.csv", index=False)
    out = tmp_path / "out"
    args = ["annotate", str(tmp_path / "notes.csv"), str(out), "--resolve", "icd10cm"]
    assert main([*args, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["in_process"] and summary["rows_read"] == 3
    assert summary["entities_coded"] is not None
    table = pq.read_table(out)
    assert table.num_rows == summary["entities"] >= 2
    assert table.column_names[0] == "row_id" and table.column_names[-1] == "concept_name"
    assert set(table.column("row_id").to_pylist()) == {0}
    assert main([*args, "--overwrite"]) == 0
    printed = capsys.readouterr().out
    assert "ran                  in-process, without Spark" in printed


@pytest.mark.slow
def test_the_demo_prints_the_same_table_in_process_and_on_spark(spark, capsys, monkeypatch):
    import sparkner.apps.cli as cli

    monkeypatch.delenv("SPARK_REMOTE", raising=False)
    tables = []
    for args in (["demo"], ["demo", "--spark"]):
        assert main(args) == 0
        printed = capsys.readouterr().out
        table, summary = printed.split("\n\n", 2)[1:]
        tables.append(table)
        ran = "in-process, without Spark" if args == ["demo"] else "Spark"
        assert f"ran                  {ran}" in summary
    assert tables[0] == tables[1] and "chest pain" in tables[0]
    # In-process, no Spark is started.
    monkeypatch.setattr(cli, "_session", _no_spark)
    assert main(["demo"]) == 0
