"""NerConverter: every tag scheme, broken sequences, white lists, exact chunk offsets, and the
section of each chunk."""

from __future__ import annotations

from typing import Any, ClassVar

import pyarrow as pa
import pytest
from pyspark.sql.types import StringType, StructField, StructType

from sparkner import DocumentAssembler, LightPipeline, SentenceDetector, Tokenizer
from sparkner.annotator import SectionDetector
from sparkner.annotators.ner_converter import NerConverter, convert_to_chunks
from sparkner.core.annotation import (
    CHUNK,
    DOCUMENT,
    NAMED_ENTITY,
    SECTION,
    TOKEN,
    AnnotationBatch,
    build_annotations,
    column_metadata,
)
from sparkner.core.spark_types import ANNOTATIONS_SPARK_TYPE
from sparkner.stages.stage import AnnotatorInputError, AnnotatorTransformer, roles

TEXT = "Pt has breast cancer and DM2. No CT done."


def text_batch(texts, section_detector=None):
    """The real text stages' columns for ``texts`` (and a SectionDetector's, if given)."""
    stages = [DocumentAssembler(), SentenceDetector(), Tokenizer()]
    return LightPipeline(
        [*stages, *([section_detector] if section_detector else [])]
    ).annotate_batch(texts)


def tags_for(batch, tags_per_text, confidences=None):
    """A ``named_entity`` column: the given tags on the batch's tokens."""
    tokens = AnnotationBatch(batch["token"])
    flat_tags = [t for tags in tags_per_text for t in tags]
    assert len(flat_tags) == len(tokens), [r for r in tokens.result]
    metadata = {"sentence": tokens.int_metadata("sentence"), "word": tokens.result}
    if confidences is not None:
        metadata["confidence"] = [f"{c:.4f}" for c in confidences]
    return build_annotations(
        NAMED_ENTITY, tokens.row_offsets, tokens.begin, tokens.end, flat_tags, metadata
    )


def annotate(texts, tags_per_text, confidences=None, white_list=()):
    """Run the real text stages, attach the given tags to the tokens, convert to chunks."""
    batch = text_batch(texts)
    ner = tags_for(batch, tags_per_text, confidences)
    chunks = convert_to_chunks(batch["sentence"], batch["token"], ner, white_list=tuple(white_list))
    return chunks.to_pylist()


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


def test_confidence_from_every_tags_scores():
    """With includeAllConfidenceScores the tags carry one score per tag and no
    ``confidence``: a chunk's confidence is the mean of its tokens' scores of their own tags,
    as in Spark NLP (never left out)."""
    tags = ["O", "O", "B-PROBLEM", "I-PROBLEM", "O", "B-PROBLEM", "O", "O", "B-TEST", "O", "O"]
    batch = text_batch([TEXT])
    tokens = AnnotationBatch(batch["token"])
    own = [0.9, 0.9, 0.8, 0.6, 0.9, 0.5, 0.9, 0.9, 0.7, 0.9, 0.9]
    metadata = {"sentence": tokens.int_metadata("sentence"), "word": tokens.result}
    for tag in ("O", "B-PROBLEM", "I-PROBLEM", "B-TEST"):
        metadata[tag] = [f"{s if t == tag else 0.01:.4f}" for t, s in zip(tags, own, strict=True)]
    ner = build_annotations(
        NAMED_ENTITY, tokens.row_offsets, tokens.begin, tokens.end, tags, metadata
    )
    (row,) = convert_to_chunks(batch["sentence"], batch["token"], ner).to_pylist()
    assert [dict(c["metadata"])["confidence"] for c in row] == ["0.7000", "0.5000", "0.7000"]


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
    (row,) = convert_to_chunks(batch["sentence"], batch["token"], ner).to_pylist()
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


# -- sections ------------------------------------------------------------------------------
SECTIONED = "Seen today for pain .\nHPI: Fever .\nHEENT: Otitis .\nMEDS: aspirin ."
# Tokens: Seen today for pain . | HPI : Fever . | HEENT : Otitis . | MEDS : aspirin .
SECTIONED_TAGS = [
    *["O", "O", "O", "B-PROBLEM", "O"],
    *["O", "O", "B-PROBLEM", "O"],
    *["O", "O", "B-PROBLEM", "O"],
    *["O", "O", "B-TREATMENT", "O"],
]


def sectioned(texts, tags_per_text, detector=None, confidences=None):
    """Chunks of ``texts`` with and without the sections of ``detector`` (a SectionDetector)."""
    batch = text_batch(texts, detector or SectionDetector())
    ner = tags_for(batch, tags_per_text, confidences)
    with_sections = convert_to_chunks(batch["sentence"], batch["token"], ner, batch["section"])
    without = convert_to_chunks(batch["sentence"], batch["token"], ner)
    return with_sections, without


def sections_of(row):
    return [(c["result"], dict(c["metadata"]).get("section")) for c in row]


def test_each_chunk_names_its_section_and_one_before_any_header_has_no_key():
    confidences = [0.9] * len(SECTIONED_TAGS)
    with_sections, without = sectioned([SECTIONED], [SECTIONED_TAGS], confidences=confidences)
    (row,) = with_sections.to_pylist()
    # "HEENT:" is no known header: it stays inside the section HPI opened.
    assert sections_of(row) == [
        ("pain", None),
        ("Fever", "history_of_present_illness"),
        ("Otitis", "history_of_present_illness"),
        ("aspirin", "medications"),
    ]
    assert "section" not in dict(row[0]["metadata"])
    # The key comes last: the others keep their places and values.
    assert [key for key, _ in row[1]["metadata"]] == [
        "entity",
        "sentence",
        "chunk",
        "confidence",
        "section",
    ]
    for got, want in zip(row, without.to_pylist()[0], strict=True):
        metadata = [pair for pair in got["metadata"] if pair[0] != "section"]
        assert {**got, "metadata": metadata} == want


def test_a_custom_header_names_its_section():
    detector = SectionDetector().setCustomHeaders(["HEENT=heent"])
    (row,) = sectioned([SECTIONED], [SECTIONED_TAGS], detector)[0].to_pylist()
    assert sections_of(row) == [
        ("pain", None),
        ("Fever", "history_of_present_illness"),
        ("Otitis", "heent"),
        ("aspirin", "medications"),
    ]


def test_sections_with_empty_null_and_headerless_rows():
    texts = [None, "", "Gout .", SECTIONED, "   "]
    tags = [[], [], ["B-P", "O"], SECTIONED_TAGS, []]
    with_sections, without = sectioned(texts, tags)
    rows = with_sections.to_pylist()
    assert [len(r) for r in rows] == [len(r) for r in without.to_pylist()] == [0, 0, 1, 4, 0]
    assert sections_of(rows[2]) == [("Gout", None)]
    assert [s for _, s in sections_of(rows[3])][1:] == [
        "history_of_present_illness",
        "history_of_present_illness",
        "medications",
    ]
    # A row of sections that is null (not just empty) is a row without sections.
    batch = text_batch(["Gout ."], SectionDetector())
    ner = tags_for(batch, [["B-P", "O"]])
    null = pa.array([None], batch["section"].type)
    (row,) = convert_to_chunks(batch["sentence"], batch["token"], ner, null).to_pylist()
    assert dict(row[0]["metadata"]) == {"entity": "P", "sentence": "0", "chunk": "0"}


def test_without_sections_the_chunks_are_exactly_as_before():
    texts = [SECTIONED, "Gout .", None]
    tags = [SECTIONED_TAGS, ["B-P", "O"], []]
    batch = text_batch(texts)
    ner = tags_for(batch, tags, confidences=[0.5] * (len(SECTIONED_TAGS) + 2))
    chunks = convert_to_chunks(batch["sentence"], batch["token"], ner)
    assert chunks.equals(convert_to_chunks(batch["sentence"], batch["token"], ner, None))
    # The stage without a section column gives the same batch function as before.
    assert NerConverter().batch_function()(batch["sentence"], batch["token"], ner).equals(chunks)
    # Sections in none of whose spans a chunk begins: the same annotations.
    no_sections = pa.array([[], [], None], batch["token"].type)
    with_empty = convert_to_chunks(batch["sentence"], batch["token"], ner, no_sections)
    assert with_empty.to_pylist() == chunks.to_pylist()


def test_the_section_input_is_optional_and_found_by_its_type():
    def field(name, annotator_type):
        return StructField(name, ANNOTATIONS_SPARK_TYPE, True, column_metadata(annotator_type))

    schema = StructType(
        [
            StructField("text", StringType()),
            field("sentence", DOCUMENT),
            field("token", TOKEN),
            field("ner", NAMED_ENTITY),
            field("sections", SECTION),
        ]
    )
    plain = NerConverter()
    assert plain.checked_inputs(schema) == {"sentence": "sentence", "token": "token", "ner": "ner"}
    given = NerConverter().setInputCols(["sections", "ner", "sentence", "token"])
    assert given.checked_inputs(schema) == {
        "sentence": "sentence",
        "token": "token",
        "ner": "ner",
        "section": "sections",
    }
    assert given.transformSchema(schema)["ner_chunk"].metadata == column_metadata(CHUNK)
    wrong = NerConverter().setInputCols(["sentence", "token", "ner", "token"])
    with pytest.raises(AnnotatorInputError, match="optionally followed by \\['section'\\]"):
        NerConverter().setInputCols(["sentence", "token"]).checked_inputs(schema)
    with pytest.raises(AnnotatorInputError, match="holds 'token' annotations, expected 'section'"):
        wrong.checked_inputs(schema)


class WordTagger(AnnotatorTransformer):
    """A stand-in tagger: ``B-PROBLEM`` on the words of PROBLEM_WORDS, ``O`` elsewhere."""

    input_roles = roles(token=TOKEN)
    output_annotator_type = NAMED_ENTITY
    stage_defaults: ClassVar[dict[str, Any]] = {"inputCols": ["token"], "outputCol": "ner"}

    def batch_function(self):
        return tag_words


PROBLEM_WORDS = {"pain", "Fever", "Otitis", "aspirin"}


def tag_words(tokens: pa.Array) -> pa.Array:
    batch = AnnotationBatch(tokens)
    tags = ["B-PROBLEM" if word in PROBLEM_WORDS else "O" for word in batch.result]
    metadata = {"sentence": batch.int_metadata("sentence")}
    return build_annotations(
        NAMED_ENTITY, batch.row_offsets, batch.begin, batch.end, tags, metadata
    )


def test_light_pipeline_with_the_section_column_in_any_place():
    stages = [DocumentAssembler(), SentenceDetector(), Tokenizer(), WordTagger()]
    plain = LightPipeline([*stages, NerConverter()]).fullAnnotate([SECTIONED, None])
    for columns in (
        ["sentence", "token", "ner", "section"],
        ["section", "ner", "token", "sentence"],
    ):
        converter = NerConverter().setInputCols(columns)
        light = LightPipeline([*stages, SectionDetector(), converter])
        rows = light.fullAnnotate([SECTIONED, None])
        assert [(c.result, c.metadata.get("section")) for c in rows[0]["ner_chunk"]] == [
            ("pain", None),
            ("Fever", "history_of_present_illness"),
            ("Otitis", "history_of_present_illness"),
            ("aspirin", "medications"),
        ]
        assert rows[1]["ner_chunk"] == []
        for got, want in zip(rows[0]["ner_chunk"], plain[0]["ner_chunk"], strict=True):
            metadata = {k: v for k, v in got.metadata.items() if k != "section"}
            assert (got.begin, got.end, got.result, metadata) == (
                want.begin,
                want.end,
                want.result,
                want.metadata,
            )
