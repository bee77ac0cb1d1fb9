"""NerConverter: every tag scheme, broken sequences, white lists, exact chunk offsets."""

from __future__ import annotations

import pytest

from sparkner import DocumentAssembler, LightPipeline, SentenceDetector, Tokenizer
from sparkner.annotators.ner_converter import NerConverter, convert_to_chunks
from sparkner.core.annotation import NAMED_ENTITY, AnnotationBatch, build_annotations

TEXT = "Pt has breast cancer and DM2. No CT done."


def annotate(texts, tags_per_text, confidences=None, white_list=()):
    """Run the real text stages, attach the given tags to the tokens, convert to chunks."""
    light = LightPipeline([DocumentAssembler(), SentenceDetector(), Tokenizer()])
    batch = light.annotate_batch(texts)
    tokens = AnnotationBatch(batch["token"])
    flat_tags = [t for tags in tags_per_text for t in tags]
    assert len(flat_tags) == len(tokens), [r for r in tokens.result]
    metadata = {"sentence": tokens.int_metadata("sentence"), "word": tokens.result}
    if confidences is not None:
        metadata["confidence"] = [f"{c:.4f}" for c in confidences]
    ner = build_annotations(
        NAMED_ENTITY, tokens.row_offsets, tokens.begin, tokens.end, flat_tags, metadata
    )
    return convert_to_chunks(batch["sentence"], batch["token"], ner, tuple(white_list)).to_pylist()


def chunks_of(row):
    return [(c["result"], dict(c["metadata"])["entity"], c["begin"], c["end"]) for c in row]


# Tokens of TEXT: Pt has breast cancer and DM2 . | No CT done .
@pytest.mark.parametrize(
    "tags",
    [
        ["O", "O", "B-PROBLEM", "I-PROBLEM", "O", "B-PROBLEM", "O", "O", "B-TEST", "O", "O"],
        ["O", "O", "I-PROBLEM", "I-PROBLEM", "O", "I-PROBLEM", "O", "O", "I-TEST", "O", "O"],
        ["O", "O", "B-PROBLEM", "E-PROBLEM", "O", "S-PROBLEM", "O", "O", "S-TEST", "O", "O"],
        ["O", "O", "PROBLEM", "PROBLEM", "O", "PROBLEM", "O", "O", "TEST", "O", "O"],
    ],
    ids=["iob2", "iob1", "bioes", "no_scheme"],
)
def test_schemes_give_the_same_chunks(tags):
    (row,) = annotate([TEXT], [tags])
    assert chunks_of(row) == [
        ("breast cancer", "PROBLEM", 7, 19),
        ("DM2", "PROBLEM", 25, 27),
        ("CT", "TEST", 33, 34),
    ]
    assert [dict(c["metadata"])["chunk"] for c in row] == ["0", "1", "2"]
    assert [dict(c["metadata"])["sentence"] for c in row] == ["0", "0", "1"]


def test_entities_never_cross_sentences():
    tags = ["O"] * 5 + ["B-X", "I-X", "I-X"] + ["O"] * 3  # "DM2 . | No": split at the boundary
    (row,) = annotate([TEXT], [tags])
    assert [c[0] for c in chunks_of(row)] == ["DM2.", "No"]


def test_white_list_and_confidence():
    tags = ["O", "O", "B-PROBLEM", "I-PROBLEM", "O", "B-PROBLEM", "O", "O", "B-TEST", "O", "O"]
    confidences = [0.9, 0.9, 0.8, 0.6, 0.9, 0.5, 0.9, 0.9, 0.7, 0.9, 0.9]
    (row,) = annotate([TEXT], [tags], confidences, white_list=["TEST"])
    assert chunks_of(row) == [("CT", "TEST", 33, 34)]
    assert dict(row[0]["metadata"])["confidence"] == "0.7000"
    (row,) = annotate([TEXT], [tags], confidences)
    assert dict(row[0]["metadata"])["confidence"] == "0.7000"  # mean of 0.8 and 0.6


def test_empty_rows_and_no_confidence():
    rows = annotate([None, "", "Gout ."], [[], [], ["B-P", "O"]])
    assert [len(r) for r in rows] == [0, 0, 1]
    # No confidence in the tags: the key is left out (as in Spark NLP), never written as null.
    assert dict(rows[2][0]["metadata"]) == {"entity": "P", "sentence": "0", "chunk": "0"}


def test_chunks_of_tokens_without_scores_have_no_confidence():
    # Only the second chunk's tokens carry scores (tags of two sources joined in one batch).
    tags = ["O", "O", "B-PROBLEM", "I-PROBLEM", "O", "B-PROBLEM", "O", "O", "B-TEST", "O", "O"]
    light = LightPipeline([DocumentAssembler(), SentenceDetector(), Tokenizer()])
    batch = light.annotate_batch([TEXT])
    tokens = AnnotationBatch(batch["token"])
    scores = [None, None, None, None, None, "0.5000", None, None, "0.7000", None, None]
    metadata = {"sentence": tokens.int_metadata("sentence"), "confidence": scores}
    ner = build_annotations(
        NAMED_ENTITY, tokens.row_offsets, tokens.begin, tokens.end, tags, metadata
    )
    (row,) = convert_to_chunks(batch["sentence"], batch["token"], ner, ()).to_pylist()
    assert [dict(c["metadata"]).get("confidence") for c in row] == [None, "0.5000", "0.7000"]
    assert "confidence" not in dict(row[0]["metadata"])


def test_preserve_position_is_accepted():
    converter = NerConverter().setPreservePosition(True)
    assert converter.getPreservePosition() is True
    with pytest.warns(UserWarning, match="setPreservePosition.False. has no effect"):
        import sparkner.core.params

        sparkner.core.params._WARNED.clear()
        NerConverter().setPreservePosition(False)


def test_offsets_hold_on_odd_text():
    text = "Émoji 😀 pain\u2028 and  ünïcode\tfever."
    light = LightPipeline([DocumentAssembler(), SentenceDetector(), Tokenizer()])
    count = len(light.annotate(text)["token"])
    (row,) = annotate([text], [["B-P"] * count])
    for chunk in row:
        assert text[chunk["begin"] : chunk["end"] + 1] == chunk["result"]


def test_stage_defaults_and_setters():
    stage = NerConverter().setWhiteList(["PROBLEM"])
    assert stage.getInputCols() == ["sentence", "token", "ner"]
    assert stage.getOutputCol() == "ner_chunk"
    assert stage.getOrDefault(stage.whiteList) == ["PROBLEM"]
