"""The partial-label readers (PHEE, TAC 2017 ADR): offsets to tokens, the class mapping,
dropped classes, overlaps, spans inside a token, errors that name the file and line but no
text, refused evaluation splits; then the real corpora of ../shared/data when present."""

from __future__ import annotations

import io
import json
import lzma
import tarfile
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pytest

from sparkner.training.partial import (
    PartialReport,
    PartialSentence,
    partial_sentences,
    phee_sentences,
    tac_sentences,
)

# A made-up word in every synthetic text: no error message may contain it.
SECRET = "Zyxorbital"


def labelled(sentence: PartialSentence) -> list[tuple[str, str]]:
    """``(span's words, type)`` for each span of a sentence."""
    return [(" ".join(sentence.tokens[a : b + 1]), kind) for a, b, kind in sentence.spans]


# -- PHEE: JSON lines, one sentence per line ------------------------------------------------


def argument(context: str, *mentions: str | tuple[str, ...]) -> dict:
    """A PHEE argument: each mention is a string or a tuple of fragments (discontinuous);
    the offsets are those of each fragment's first occurrence in ``context``."""
    texts, starts = [], []
    for mention in mentions:
        fragments = [mention] if isinstance(mention, str) else list(mention)
        texts.append(fragments)
        starts.append([context.index(f) for f in fragments])
    return {"text": texts, "start": starts, "entity_id": [f"T{i}" for i in range(len(texts))]}


def phee_record(ident: str, context: str, *events: dict) -> dict:
    numbered = [{"event_id": f"E{i}", **e} for i, e in enumerate(events, start=1)]
    return {
        "id": ident,
        "context": context,
        "is_mult_event": len(events) > 1,
        "annotations": [{"events": numbered}],
    }


def phee_records() -> list[dict]:
    c1 = f"{SECRET} hepatotoxicity in an 8-month-old infant with epilepsy."
    c2 = "Severe drug rash and insulin-induced lipoatrophies with acute renal failure."
    c3 = "Complete remission of psoriasis after methotrexate."
    c4 = "Nausea and vomiting after cisplatin."
    c5 = "Rash appeared after amoxicillin. It resolved after stopping."
    return [
        phee_record(
            "1001_1",
            c1,
            {
                "event_type": "Adverse_event",
                "Trigger": argument(c1, "in"),
                "Treatment": {
                    **argument(c1, SECRET),
                    "Drug": argument(c1, SECRET),
                    "Disorder": argument(c1, "epilepsy"),
                },
                "Subject": {
                    **argument(c1, "an 8-month-old infant with epilepsy"),
                    "Age": argument(c1, "8-month-old infant"),
                    "Disorder": argument(c1, "epilepsy"),
                },
                "Effect": argument(c1, "hepatotoxicity"),
            },
        ),
        phee_record(
            "1001_2",
            c2,
            {
                "event_type": "Adverse_event",
                # "insulin" ends inside the token "insulin-induced": dropped, not extended.
                "Treatment": {
                    **argument(c2, "insulin"),
                    "Drug": argument(c2, "insulin"),
                    "Disorder": argument(c2, "drug rash"),
                },
                "Subject": {
                    **argument(c2, "renal failure"),
                    "Disorder": argument(c2, "renal failure"),
                },
                # "Severe drug" and "drug rash" tie (2 tokens): the earliest wins; "renal failure"
                # lies inside the longer "acute renal failure".
                "Effect": argument(c2, "Severe drug", "lipoatrophies", "acute renal failure"),
                "Severity": argument(c2, "Severe"),
            },
        ),
        phee_record(
            "1002_1",
            c3,
            {
                "event_type": "Potential_therapeutic_event",
                "Treatment": {
                    **argument(c3, "methotrexate"),
                    "Drug": argument(c3, "methotrexate"),
                    "Disorder": argument(c3, "psoriasis"),
                },
                "Effect": argument(c3, "Complete remission"),
            },
        ),
        phee_record(
            "1003_1",
            c4,
            {
                "event_type": "Adverse_event",
                "Treatment": {**argument(c4, "cisplatin"), "Drug": argument(c4, "cisplatin")},
                "Effect": argument(c4, ("Nausea", "vomiting")),
            },
        ),
        phee_record(
            "1004_1",
            c5,
            {
                "event_type": "Adverse_event",
                "Treatment": {**argument(c5, "amoxicillin"), "Drug": argument(c5, "amoxicillin")},
                "Effect": argument(c5, "Rash"),
                # Across the sentence boundary: dropped.
                "Time_elapsed": argument(c5, "amoxicillin. It"),
                "Subject": {**argument(c5, "It"), "Disorder": argument(c5, "amoxicillin. It")},
            },
        ),
    ]


def write_phee(folder: Path, records: list[dict], name: str = "train.json.xz") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(r) + "\n" for r in records)
    path = folder / name
    if name.endswith(".xz"):
        with lzma.open(path, "wt", encoding="utf-8") as handle:
            handle.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_phee_mapping_offsets_overlaps_and_dropped_spans(tmp_path):
    write_phee(tmp_path, phee_records())
    # An evaluation file that would fail to parse: it must never be opened.
    (tmp_path / "dev.json").write_text("not json\n")
    report = PartialReport()
    sentences = phee_sentences(tmp_path, report=report)
    assert [labelled(s) for s in sentences] == [
        [(SECRET, "TREATMENT"), ("hepatotoxicity", "PROBLEM"), ("epilepsy", "PROBLEM")],
        [
            ("Severe drug", "PROBLEM"),
            ("lipoatrophies", "PROBLEM"),
            ("acute renal failure", "PROBLEM"),
        ],
        [("psoriasis", "PROBLEM"), ("methotrexate", "TREATMENT")],
        [("cisplatin", "TREATMENT")],
        [("Rash", "PROBLEM"), ("amoxicillin", "TREATMENT")],
    ]
    first = sentences[0]
    assert first.tokens == [
        SECRET,
        "hepatotoxicity",
        "in",
        "an",
        "8-month-old",
        "infant",
        "with",
        "epilepsy",
        ".",
    ]
    assert first.spans == [(0, 0, "TREATMENT"), (1, 1, "PROBLEM"), (7, 7, "PROBLEM")]
    assert [s.document for s in sentences] == ["1001", "1001", "1002", "1003", "1004"]
    # "epilepsy" fills two roles at the same offsets: one mention, one span.
    assert report.cut == 1  # "insulin" in "insulin-induced"
    assert report.overlaps == 2  # "drug rash" (a tie, later), "renal failure" (nested)
    assert report.crossing == 1  # "amoxicillin. It" (deduplicated over two roles)
    assert report.discontinuous == 1  # "Nausea ... vomiting"
    assert report.unmapped == {"Effect of a Potential_therapeutic_event": 1}
    assert report.unlabelled_sentences == 1  # "It resolved after stopping."
    assert report.sentences == 5
    assert report.spans == {"PROBLEM": 7, "TREATMENT": 4}


def test_phee_options_and_plain_json(tmp_path):
    write_phee(tmp_path, phee_records(), name="train.json")
    sentences = phee_sentences(
        tmp_path, therapeutic_effects=True, discontinuous="fragments", keep_unlabelled=True
    )
    assert labelled(sentences[2])[0] == ("Complete remission", "PROBLEM")
    assert labelled(sentences[3]) == [
        ("Nausea", "PROBLEM"),
        ("vomiting", "PROBLEM"),
        ("cisplatin", "TREATMENT"),
    ]
    assert sentences[-1].tokens == ["It", "resolved", "after", "stopping", "."]
    assert sentences[-1].spans == []
    with pytest.raises(ValueError, match="discontinuous"):
        phee_sentences(tmp_path, discontinuous="join")


def test_tokens_are_the_inference_pipelines(tmp_path):
    from sparkner import DocumentAssembler, SentenceDetector, Tokenizer
    from sparkner.apps.light_pipeline import LightPipeline

    records = phee_records()
    records[0]["context"] = "OBJECTIVE: " + records[0]["context"]
    for event in records[0]["annotations"][0]["events"]:
        for value in event.values():
            for arg in [value, *value.values()] if isinstance(value, dict) else []:
                if isinstance(arg, dict) and "start" in arg:
                    arg["start"] = [[s + len("OBJECTIVE: ") for s in m] for m in arg["start"]]
    write_phee(tmp_path, records)
    sentences = phee_sentences(tmp_path, keep_unlabelled=True)
    pipeline = LightPipeline([DocumentAssembler(), SentenceDetector(), Tokenizer()])
    expected = [pipeline.annotate(r["context"]) for r in records]
    assert [t for s in sentences for t in s.tokens] == [t for e in expected for t in e["token"]]
    assert len(sentences) == sum(len(e["sentence"]) for e in expected)
    assert sentences[0].tokens == ["OBJECTIVE", ":"] and sentences[0].spans == []
    assert labelled(sentences[1])[0] == (SECRET, "TREATMENT")


def test_phee_evaluation_splits_are_refused(tmp_path):
    write_phee(tmp_path, phee_records())
    write_phee(tmp_path, phee_records(), name="dev.json")
    write_phee(tmp_path, phee_records(), name="test.json")
    for split in ("dev", "test"):
        with pytest.raises(ValueError, match=f"'{split}' is an evaluation split"):
            phee_sentences(tmp_path, split)
        with pytest.raises(ValueError, match=f"'{split}' is an evaluation split"):
            partial_sentences(tmp_path.parent, "phee", split=split)
    with pytest.raises(ValueError, match="unknown PHEE split"):
        phee_sentences(tmp_path, "validation")


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda r: f"{SECRET} {{not json", "not JSON"),
        (lambda r: json.dumps({**r, "context": 7}), "'context'"),
        (lambda r: json.dumps({**r, "annotations": {}}), "'annotations'"),
        (lambda r: json.dumps({**r, "annotations": [{"events": [{"Effect": {}}]}]}), "event_type"),
        (
            lambda r: json.dumps(r).replace('"start": [[0]]', '"start": [[3]]', 1),
            "Treatment.*does not match the context",
        ),
        (
            lambda r: json.dumps(r).replace('"start": [[0]]', '"start": [[900]]', 1),
            "does not match the context",
        ),
        (
            lambda r: json.dumps(r).replace('"start": [[0]]', '"start": [["0"]]', 1),
            "not an integer",
        ),
        (
            lambda r: json.dumps(r).replace('"start": [[0]]', '"start": [[0, 1]]', 1),
            "do not pair up",
        ),
    ],
)
def test_phee_malformed_line_names_file_and_line_but_no_text(tmp_path, damage, reason):
    records = phee_records()
    lines = [json.dumps(r) for r in records]
    lines[2] = damage(records[0])
    path = tmp_path / "train.json"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=reason) as error:
        phee_sentences(tmp_path)
    message = str(error.value)
    assert f"{path}, line 3" in message
    assert SECRET not in message and "hepatotoxicity" not in message
    # Nothing chained either (a traceback would print it).
    assert error.value.__cause__ is None
    assert error.value.__suppress_context__ or error.value.__context__ is None


def test_phee_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"train\.json"):
        phee_sentences(tmp_path)


# -- TAC 2017 ADR: XML labels, offsets into a section's text --------------------------------

S1 = (
    "6 ADVERSE REACTIONS\n\n  The most common adverse reactions (>=20%) were severe "
    f"neutropenia, {SECRET} nausea, and injection site pain, bruising.\n"
)
S2 = "Avoid use with other ACE inhibitors.  Hepatotoxicity was reported."


def tac_mention(
    ident: str,
    section: str,
    kind: str,
    text: str,
    *fragments: str,
    start: str | None = None,
    length: str | None = None,
    str_: str | None = None,
) -> str:
    """A ``<Mention>`` line; offsets are each fragment's first occurrence in the section."""
    body = S2 if section == "S2" else S1
    starts = ",".join(str(body.index(f)) for f in fragments)
    lengths = ",".join(str(len(f)) for f in fragments)
    attributes = {
        "id": ident,
        "section": section,
        "type": kind,
        "start": start or starts,
        "len": length or lengths,
        "str": str_ if str_ is not None else text,
    }
    return "    <Mention " + " ".join(f"{k}={quoteattr(v)}" for k, v in attributes.items()) + " />"


def tac_mentions() -> list[str]:
    return [
        tac_mention("M1", "S1", "AdverseReaction", "neutropenia", "neutropenia"),
        tac_mention("M2", "S1", "Severity", "severe", "severe"),
        tac_mention("M3", "S1", "AdverseReaction", "nausea", "nausea"),
        tac_mention("M4", "S1", "AdverseReaction", "injection site pain", "injection site pain"),
        tac_mention(
            "M5", "S1", "AdverseReaction", "injection site bruising", "injection site", "bruising"
        ),
        tac_mention("M6", "S2", "DrugClass", "ACE inhibitors", "ACE inhibitors"),
        tac_mention("M7", "S2", "AdverseReaction", "Hepatotoxicity", "Hepatotoxicity"),
        # Ends inside the token "Hepatotoxicity": dropped, not extended.
        tac_mention("M8", "S2", "AdverseReaction", "Hepato", "Hepato"),
        tac_mention("M9", "S2", "Factor", "other", "other"),
    ]


def tac_xml(mentions: list[str], s1: str = S1) -> str:
    return (
        "\n".join(
            [
                '<?xml version="1.0" encoding="UTF-8"?>',
                '<Label drug="testdrug" track="TAC2017_ADR">',
                "  <Text>",
                f'    <Section name="adverse reactions" id="S1">{escape(s1)}</Section>',
                f'    <Section name="warnings and precautions" id="S2">{escape(S2)}</Section>',
                "  </Text>",
                "  <Mentions>",
                *mentions,
                "  </Mentions>",
                '  <Relations>\n    <Relation id="RL1" type="Hypothetical" arg1="M1" arg2="M2" />',
                "  </Relations>",
                '  <Reactions>\n    <Reaction id="AR1" str="neutropenia" />\n  </Reactions>',
                "</Label>",
            ]
        )
        + "\n"
    )


def write_tar(path: Path, files: dict[str, str]) -> None:
    with tarfile.open(path, "w:xz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def write_tac_folder(folder: Path, mentions: list[str]) -> Path:
    (folder / "train_xml").mkdir(parents=True)
    path = folder / "train_xml" / "TESTDRUG.xml"
    path.write_text(tac_xml(mentions), encoding="utf-8")
    return path


def test_tac_mapping_offsets_and_dropped_spans(tmp_path):
    xml = tac_xml(tac_mentions())
    write_tar(
        tmp_path / "train_xml.tar.xz",
        {"train_xml/TESTDRUG.xml": xml, "train_xml/README": "not a label"},
    )
    # An evaluation archive that would fail to parse: it must never be opened.
    (tmp_path / "gold_xml.tar.xz").write_bytes(b"not an archive")
    report = PartialReport()
    sentences = tac_sentences(tmp_path, report=report)
    assert [labelled(s) for s in sentences] == [
        [("neutropenia", "PROBLEM"), ("nausea", "PROBLEM"), ("injection site pain", "PROBLEM")],
        [("ACE inhibitors", "TREATMENT")],
        [("Hepatotoxicity", "PROBLEM")],
    ]
    # Offsets count "&gt;" as one character ">", as the release does.
    assert sentences[0].tokens[5:11] == ["(", ">", "=", "20", "%", ")"]
    assert {s.document for s in sentences} == {"TESTDRUG"}
    assert report.unmapped == {"Severity": 1, "Factor": 1}
    assert report.discontinuous == 1 and report.cut == 1 and report.overlaps == 0
    assert report.unlabelled_sentences == 1  # "6 ADVERSE REACTIONS"
    # An unpacked train_xml/ folder reads the same.
    write_tac_folder(tmp_path / "unpacked", tac_mentions())
    assert tac_sentences(tmp_path / "unpacked") == sentences


def test_tac_options(tmp_path):
    write_tac_folder(tmp_path, tac_mentions())
    sentences = tac_sentences(tmp_path, drug_classes=False, discontinuous="fragments")
    report = PartialReport()
    assert [labelled(s) for s in sentences] == [
        [
            ("neutropenia", "PROBLEM"),
            ("nausea", "PROBLEM"),
            ("injection site pain", "PROBLEM"),
            ("bruising", "PROBLEM"),
        ],
        [("Hepatotoxicity", "PROBLEM")],
    ]
    sentences = tac_sentences(tmp_path, discontinuous="fragments", report=report)
    assert report.overlaps == 1  # the fragment "injection site" inside "injection site pain"
    everything = tac_sentences(tmp_path, keep_unlabelled=True)
    assert everything[0].tokens == ["6", "ADVERSE", "REACTIONS"] and everything[0].spans == []


def test_tac_evaluation_split_is_refused(tmp_path):
    write_tac_folder(tmp_path, tac_mentions())
    for split in ("gold_xml", "gold", "test"):
        with pytest.raises(ValueError, match=f"'{split}' is an evaluation split"):
            tac_sentences(tmp_path, split)
    with pytest.raises(ValueError, match="'gold_xml' is an evaluation split"):
        partial_sentences(tmp_path, "tac2017_adr", split="gold_xml")
    with pytest.raises(ValueError, match="unknown TAC 2017 ADR split"):
        tac_sentences(tmp_path, "validation")
    assert tac_sentences(tmp_path, "train_xml") == tac_sentences(tmp_path)


@pytest.mark.parametrize(
    ("mention", "reason"),
    [
        (tac_mention("M1", "S1", "AdverseReaction", "x", "nausea", start="9000"), "outside"),
        (tac_mention("M1", "S1", "AdverseReaction", "x", "nausea", start="a"), "integers"),
        (
            tac_mention("M1", "S1", "AdverseReaction", "x", "nausea", length="6,2"),
            "numbers of fragments",
        ),
        (tac_mention("M1", "S9", "AdverseReaction", "x", "nausea"), "unknown section"),
        (
            tac_mention("M1", "S1", "AdverseReaction", "nausea", "nausea", start="3"),
            "str does not match",
        ),
        ('    <Mention id="M1" section="S1" start="3" len="2" str="x" />', "without type"),
        (f"    <Mention id=M1 {SECRET} />", "not well-formed XML"),
    ],
)
def test_tac_malformed_mention_names_file_and_line_but_no_text(tmp_path, mention, reason):
    mentions = tac_mentions()
    mentions[3] = mention
    path = write_tac_folder(tmp_path, mentions)
    line = tac_xml(mentions).splitlines().index(mention.splitlines()[0]) + 1
    with pytest.raises(ValueError, match=reason) as error:
        tac_sentences(tmp_path)
    message = str(error.value)
    assert message.startswith(f"{path}, line {line}")
    assert SECRET not in message and "nausea" not in message


def test_tac_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="train_xml"):
        tac_sentences(tmp_path)
    write_tar(tmp_path / "train_xml.tar.xz", {"gold_xml/X.xml": tac_xml(tac_mentions())})
    with pytest.raises(ValueError, match="no train_xml"):
        tac_sentences(tmp_path)


def test_dispatcher(tmp_path):
    write_phee(tmp_path / "partial_labels" / "phee", phee_records())
    write_tac_folder(tmp_path / "partial_labels" / "tac2017_adr", tac_mentions())
    assert partial_sentences(tmp_path, "phee") == phee_sentences(
        tmp_path / "partial_labels" / "phee"
    )
    assert partial_sentences(tmp_path, "tac2017_adr", drug_classes=False) == tac_sentences(
        tmp_path / "partial_labels" / "tac2017_adr", drug_classes=False
    )
    with pytest.raises(ValueError, match="unknown partially labelled corpus"):
        partial_sentences(tmp_path, "bc5cdr")


# -- the real corpora -------------------------------------------------------------------------

TAGS = ["O", "B-PROBLEM", "I-PROBLEM", "B-TEST", "I-TEST", "B-TREATMENT", "I-TREATMENT"]
# data/README.md, section 7: training sentences / labels and unique mentions per class.
README_COUNTS = {
    "phee": {"records": 2866, "PROBLEM": 3959, "TREATMENT": 3550},
    "tac2017_adr": {"records": 100, "PROBLEM": 13660, "TREATMENT": 249},
}


@pytest.mark.parametrize("name", ["phee", "tac2017_adr"])
def test_real_corpus(name):
    from tests_support import SHARED_DATA

    folder = SHARED_DATA / "partial_labels" / name
    if not folder.is_dir():
        pytest.skip(f"{folder} not found (set SPARKNER_SHARED_DATA)")
    from sparkner.ner.crf import partial_tag_mask

    report = PartialReport()
    sentences = partial_sentences(SHARED_DATA, name, report=report)
    expected = README_COUNTS[name]
    assert report.sentences == len(sentences)
    if name == "phee":
        # Some records are cut in two by the sentence detector ("OBJECTIVE: ..."); a few
        # have no mapped mention left.
        assert 0.9 * expected["records"] <= len(sentences) <= 1.2 * expected["records"]
    else:
        assert len({s.document for s in sentences}) == expected["records"]
        assert 3000 <= len(sentences) <= 6000
    # The README's counts are upper bounds: discontinuous mentions, mentions cut inside a
    # token ("insulin" in "insulin-induced") and overlaps are dropped, but most survive.
    for kind in ("PROBLEM", "TREATMENT"):
        assert 0.8 * expected[kind] <= report.spans[kind] <= expected[kind], (kind, report)
    assert report.spans["TEST"] == 0
    assert sum(report.spans.values()) == sum(len(s.spans) for s in sentences)
    for sentence in sentences:
        assert sentence.tokens and sentence.spans
        assert all(0 <= a <= b < len(sentence.tokens) for a, b, _ in sentence.spans)
        mask = partial_tag_mask(len(sentence.tokens), sentence.spans, TAGS)
        assert mask.shape == (len(sentence.tokens), len(TAGS))
