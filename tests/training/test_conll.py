"""The CoNLL reader: TSV and CoNLL-2003 files, offsets, and errors that name the line."""

from __future__ import annotations

import pytest

from sparkner.training.conll import CoNLL, CoNLLFormatError, read_conll

TSV = "Selegiline\tB-Chemical\n-\tO\ninduced\tO\n\npostural\tB-Disease\nhypotension\tI-Disease\n"
CONLL_2003 = """-DOCSTART- -X- -X- O

EU NNP B-NP B-ORG
rejects VBZ B-VP O

German JJ B-NP B-MISC

-DOCSTART- -X- -X- O

Peter NNP B-NP B-PER
"""


def test_tsv_sentences(spark, tmp_path):
    path = tmp_path / "train.tsv"
    path.write_text(TSV)
    rows = CoNLL().readDataset(spark, str(path)).collect()
    assert [r.text for r in rows] == ["Selegiline - induced", "postural hypotension"]
    first = rows[0]
    expected = [(0, 9, "Selegiline"), (11, 11, "-"), (13, 19, "induced")]
    assert [(t.begin, t.end, t.result) for t in first.token] == expected
    assert [a.result for a in first.label] == ["B-Chemical", "O", "O"]
    assert first.label[0].metadata == {"sentence": "0", "word": "Selegiline"}
    assert [(a.begin, a.end) for a in first.label] == [(t.begin, t.end) for t in first.token]
    for row in rows:
        for column in (row.document, row.sentence, row.token):
            for a in column:
                assert row.text[a.begin : a.end + 1] == a.result


def test_column_types_are_recorded(spark, tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text(TSV)
    frame = CoNLL().readDataset(spark, str(path))
    types = {f.name: f.metadata.get("annotatorType") for f in frame.schema.fields}
    assert types == {
        "text": None,
        "document": "document",
        "sentence": "document",
        "token": "token",
        "pos": "pos",
        "label": "named_entity",
    }
    # A two-column file has no POS tags: the column is there, with no annotations.
    assert [len(r.pos) for r in frame.collect()] == [0, 0]


def test_conll_2003_pos_column_and_doc_ids(tmp_path, spark):
    path = tmp_path / "eng.train"
    second = "-DOCSTART- -X- -X- O\n\nPeter"
    path.write_text(CONLL_2003.replace(second, second.replace("-X- -X-", "-X- d7")))
    frame = CoNLL(includeDocId=True).readDataset(spark, str(path))
    assert frame.columns == ["doc_id", "text", "document", "sentence", "token", "pos", "label"]
    rows = frame.collect()
    assert [r.doc_id for r in rows] == ["X", "X", "d7"]  # "-X-" is CoNLL-2003's "no id"
    first = rows[0]
    assert [(p.begin, p.end, p.result, p.metadata["word"]) for p in first.pos] == [
        (0, 1, "NNP", "EU"),
        (3, 9, "VBZ", "rejects"),
    ]
    assert first.pos[0].annotatorType == "pos"
    assert [a.result for a in first.label] == ["B-ORG", "O"]
    assert "doc_id" not in CoNLL().readDataset(spark, str(path)).columns
    named = CoNLL(posCol="tags", conllDocIdCol="doc", includeDocId=True, explodeSentences=False)
    assert named.readDataset(spark, str(path)).columns == [
        "doc",
        "text",
        "document",
        "sentence",
        "token",
        "tags",
        "label",
    ]


def test_conll_2003_documents(tmp_path, spark):
    path = tmp_path / "eng.train"
    path.write_text(CONLL_2003)
    documents = read_conll(path)
    assert [[[t for t, _ in s] for s in d] for d in documents] == [
        [["EU", "rejects"], ["German"]],
        [["Peter"]],
    ]
    rows = CoNLL(explodeSentences=False).readDataset(spark, str(path)).collect()
    assert [r.text for r in rows] == ["EU rejects\nGerman", "Peter"]
    assert [s.metadata["sentence"] for s in rows[0].sentence] == ["0", "1"]
    assert [t.metadata["sentence"] for t in rows[0].token] == ["0", "0", "1"]
    assert [a.result for a in rows[0].label] == ["B-ORG", "O", "B-MISC"]


def test_real_training_file_reads_completely(spark):
    from tests_support import SHARED_DATA

    path = SHARED_DATA / "ncbi_disease" / "dev.tsv"
    if not path.exists():
        pytest.skip("shared data not available")
    frame = CoNLL().readDataset(spark, str(path))
    assert frame.count() == 923  # the data README's sentence count for the dev split


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("a\tO\nlonely\n", r"t.tsv, line 2: expected a token and a tag"),
        ("a\t\n", r"t.tsv, line 1: expected a token and a tag"),
    ],
)
def test_malformed_lines_are_named(tmp_path, content, message):
    path = tmp_path / "t.tsv"
    path.write_text(content)
    with pytest.raises(CoNLLFormatError, match=message):
        read_conll(path)


def test_not_utf8_and_missing_files(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_bytes(b"caf\xe9\tO\n")
    with pytest.raises(CoNLLFormatError, match="not UTF-8"):
        read_conll(path)
    with pytest.raises(FileNotFoundError, match="no such CoNLL file"):
        read_conll(tmp_path / "absent.tsv")
