"""The HTML entity renderer: escaping, the chunk forms it reads, offsets, overlaps, colours."""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import zlib
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyspark.sql import Row
from tests_support import TEXTS, result_of_new_process

from sparkner.apps.display import DEFAULT_COLORS, color_of, render
from sparkner.core.annotation import Annotation

NOTE = "Chest pain for 2 days.\nECG normal; started aspirin 81 mg.\n"
CHUNKS = [
    Annotation("chunk", 0, 9, "Chest pain", {"entity": "PROBLEM", "confidence": "0.9712"}),
    Annotation("chunk", 23, 25, "ECG", {"entity": "TEST", "confidence": "0.88"}),
    Annotation("chunk", 43, 49, "aspirin", {"entity": "TREATMENT", "confidence": "0.9"}),
]


class Parsed(HTMLParser):
    """What a reader sees in a fragment: the note text, entities, labels and legend keys."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.note = ""  # text outside labels and legend
        self.entities: list[dict[str, str]] = []  # data-entity, text (without label), style
        self.labels: list[str] = []
        self.legend: list[tuple[str, str]] = []  # (text, style)
        self.sections: list[tuple[str, str]] = []  # section tags: (data-section, text)
        self.headers: list[tuple[str, str]] = []  # headers shown as such: (data-section, text)
        self._open: list[str] = []  # the class of each open element
        self.feed(html)
        self.close()
        assert not self._open, "unclosed elements"

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        css_class = attributes.get("class") or ""
        self.tags.append(tag)
        self._open.append(css_class)
        if css_class == "sparkner-entity":
            self.entities.append({**attributes, "text": ""})
        elif css_class == "sparkner-label":
            self.labels.append("")
        elif css_class == "sparkner-key":
            self.legend.append(("", attributes["style"]))
        elif css_class == "sparkner-section":
            self.sections.append((attributes["data-section"], ""))
        elif css_class == "sparkner-header":
            self.headers.append((attributes["data-section"], ""))

    def handle_endtag(self, tag):
        self._open.pop()

    def handle_data(self, data):
        if "sparkner-label" in self._open:
            self.labels[-1] += data
        elif "sparkner-key" in self._open:
            self.legend[-1] = (self.legend[-1][0] + data, self.legend[-1][1])
        elif "sparkner-section" in self._open:
            self.sections[-1] = (self.sections[-1][0], self.sections[-1][1] + data)
        elif "sparkner-legend" not in self._open:
            self.note += data
            if "sparkner-header" in self._open:
                self.headers[-1] = (self.headers[-1][0], self.headers[-1][1] + data)
            if "sparkner-entity" in self._open:
                self.entities[-1]["text"] += data


def entity_texts(parsed: Parsed) -> list[tuple[str, str]]:
    return [(e["data-entity"], e["text"]) for e in parsed.entities]


def test_annotations_render_highlighted_with_labels_and_legend():
    html = render(NOTE, CHUNKS)
    parsed = Parsed(html)
    assert parsed.note == NOTE
    assert entity_texts(parsed) == [
        ("PROBLEM", "Chest pain"),
        ("TEST", "ECG"),
        ("TREATMENT", "aspirin"),
    ]
    assert parsed.labels == ["PROBLEM 0.97", "TEST 0.88", "TREATMENT 0.90"]
    assert [text for text, _ in parsed.legend] == ["PROBLEM", "TEST", "TREATMENT"]
    assert f"background:{DEFAULT_COLORS['PROBLEM']}" in parsed.entities[0]["style"]
    assert f"background:{DEFAULT_COLORS['TEST']}" in parsed.legend[1][1]


def test_dicts_with_entity_or_metadata_and_without_result():
    chunks = [
        {"begin": 43, "end": 49, "entity": "TREATMENT"},
        {"begin": 0, "end": 9, "result": "Chest pain", "metadata": {"entity": "PROBLEM"}},
        {"begin": 23, "end": 25},
    ]
    parsed = Parsed(render(NOTE, chunks))
    assert parsed.note == NOTE
    # Sorted by begin; a chunk with no type at all is an ENTITY.
    assert entity_texts(parsed) == [
        ("PROBLEM", "Chest pain"),
        ("ENTITY", "ECG"),
        ("TREATMENT", "aspirin"),
    ]
    assert parsed.labels == ["PROBLEM", "ENTITY", "TREATMENT"]


def test_pyspark_rows():
    rows = [
        Row(
            annotatorType="chunk",
            begin=c.begin,
            end=c.end,
            result=c.result,
            metadata=c.metadata,
            embeddings=[],
        )
        for c in CHUNKS
    ]
    rows.append(Row(begin=35, end=41, result="started", metadata=None))
    parsed = Parsed(render(NOTE, rows))
    assert parsed.note == NOTE
    assert entity_texts(parsed) == [
        ("PROBLEM", "Chest pain"),
        ("TEST", "ECG"),
        ("ENTITY", "started"),
        ("TREATMENT", "aspirin"),
    ]
    assert parsed.labels[0] == "PROBLEM 0.97"


def test_metadata_as_arrow_pairs_and_none_items():
    chunks = [None, {"begin": 0, "end": 9, "metadata": [("entity", "PROBLEM")]}]
    assert entity_texts(Parsed(render(NOTE, chunks))) == [("PROBLEM", "Chest pain")]


def test_script_in_note_is_text():
    note = "<script>alert(1)</script> \"quoted\" 'single' & <b>bold</b> &amp; done"
    chunks = [{"begin": 0, "end": 24, "entity": "PROBLEM"}]
    html = render(note, chunks)
    parsed = Parsed(html)
    assert "<script" not in html and "<b>" not in html
    assert parsed.tags.count("script") == 0 and "b" not in parsed.tags
    assert parsed.note == note
    assert entity_texts(parsed) == [("PROBLEM", "<script>alert(1)</script>")]


def test_script_in_entity_type_and_confidence_is_text():
    entity = '"><script>alert(1)</script>'
    chunks = [{"begin": 0, "end": 9, "metadata": {"entity": entity, "confidence": "<b>"}}]
    html = render(NOTE, chunks)
    parsed = Parsed(html)
    assert "<script" not in html
    assert set(parsed.tags) <= {"div", "span", "mark"}
    assert entity_texts(parsed) == [(entity, "Chest pain")]
    assert parsed.labels == [entity]  # an unreadable confidence is left out
    assert [text for text, _ in parsed.legend] == [entity]


def test_fragment_is_self_contained():
    html = render(NOTE, CHUNKS)
    parsed = Parsed(html)
    assert set(parsed.tags) == {"div", "span", "mark"}
    lowered = html.lower()
    for forbidden in ("<script", "<link", "<img", "url(", "http", "@import", "@font-face"):
        assert forbidden not in lowered
    assert " on" not in lowered.replace(" on ", "")  # no event-handler attributes
    assert "white-space:pre-wrap" in html


def test_line_breaks_and_odd_whitespace_survive():
    note = "\nLine one\r\nLine  two\ttab\n\n  indented: fever\n"
    start = note.index("fever")
    parsed = Parsed(render(note, [{"begin": start, "end": start + 4, "entity": "PROBLEM"}]))
    assert parsed.note == note
    assert entity_texts(parsed) == [("PROBLEM", "fever")]


def test_overlaps_keep_the_earliest_then_longest():
    note = "left lower lobe pneumonia with effusion"
    chunks = [
        {"begin": 16, "end": 24, "entity": "PROBLEM"},  # pneumonia: inside the longest
        {"begin": 0, "end": 14, "entity": "TEST"},  # left lower lobe: same begin, shorter
        {"begin": 0, "end": 24, "entity": "PROBLEM"},  # left lower lobe pneumonia: kept
        {"begin": 20, "end": 29, "entity": "TREATMENT"},  # crosses the kept chunk's end
        {"begin": 31, "end": 38, "entity": "PROBLEM"},  # effusion: kept
        {"begin": 31, "end": 38, "entity": "TEST"},  # the same span again: first given wins
    ]
    parsed = Parsed(render(note, chunks))
    assert parsed.note == note
    assert entity_texts(parsed) == [
        ("PROBLEM", "left lower lobe pneumonia"),
        ("PROBLEM", "effusion"),
    ]
    # The legend lists the types shown, not those of skipped chunks.
    assert [text for text, _ in parsed.legend] == ["PROBLEM"]


@pytest.mark.parametrize(
    ("chunk", "message"),
    [
        ({"begin": -1, "end": 3}, r"chunk 1 \(begin=-1, end=3\)"),
        ({"begin": 50, "end": 99}, r"chunk 1 \(begin=50, end=99\).*length 58"),
        ({"begin": 9, "end": 5}, r"chunk 1 \(begin=9, end=5\)"),
        ({"begin": 0, "end": 58}, r"chunk 1 \(begin=0, end=58\)"),
        ({"begin": 0, "end": 4, "result": "Chest pain"}, r"chunk 1 \(begin=0, end=4\): its result"),
        ({"begin": "Chest", "end": 4}, r"chunk 1: begin must be an integer, not str"),
        ({"end": 4}, r"chunk 1: begin must be an integer, not NoneType"),
        ({"begin": 0, "end": 4.0}, r"chunk 1: end must be an integer, not float"),
    ],
)
def test_invalid_chunks_raise_without_patient_text(chunk, message):
    assert len(NOTE) == 58
    chunks = [CHUNKS[0], chunk]
    with pytest.raises(ValueError, match=message) as raised:
        render(NOTE, chunks)
    error = str(raised.value)
    for secret in ("Chest", "pain", "aspirin", "ECG", NOTE):
        assert secret not in error


def test_chunks_without_text_are_invalid():
    with pytest.raises(ValueError, match=r"chunk 0 \(begin=0, end=0\).*length 0"):
        render(None, [{"begin": 0, "end": 0}])


@pytest.mark.parametrize("text", [None, ""])
@pytest.mark.parametrize("chunks", [None, []])
def test_empty_text_and_no_chunks(text, chunks):
    parsed = Parsed(render(text, chunks))
    assert parsed.note == "" and parsed.entities == [] and parsed.legend == []


def test_no_chunks_renders_the_plain_note():
    parsed = Parsed(render(NOTE, None))
    assert parsed.note == NOTE and parsed.entities == [] and parsed.legend == []


def test_options_hide_confidence_and_legend():
    parsed = Parsed(render(NOTE, CHUNKS, show_confidence=False, legend=False))
    assert parsed.labels == ["PROBLEM", "TEST", "TREATMENT"]
    assert parsed.legend == []
    assert parsed.note == NOTE


def test_user_colors_override_case_insensitively_and_pick_readable_ink():
    parsed = Parsed(render(NOTE, CHUNKS, colors={"problem": "#003", "Test": "gold"}))
    assert "background:#003;color:#ffffff" in parsed.entities[0]["style"]
    assert "background:gold;color:#1b1b1b" in parsed.entities[1]["style"]
    assert f"background:{DEFAULT_COLORS['TREATMENT']}" in parsed.entities[2]["style"]


@pytest.mark.parametrize(
    "color",
    ["red;background-image:url(x)", "#12345", "#ggg", '"><script>', "rgb(1,2,3)", "", 3],
)
def test_bad_colors_raise_naming_the_type(color):
    with pytest.raises(ValueError, match="'TREATMENT'"):
        render(NOTE, CHUNKS, colors={"TREATMENT": color})


@pytest.mark.slow
def test_unknown_types_get_deterministic_distinct_from_default_colors():
    chunks = [{"begin": 0, "end": 9, "entity": "DRUG"}, {"begin": 23, "end": 25, "entity": "X"}]
    first, second = render(NOTE, chunks), render(NOTE, chunks)
    assert first == second
    colors = {entity: color_of(entity) for entity in ["DRUG", "DOSAGE", "ANATOMY", "X", "Y"]}
    assert not set(colors.values()) & set(DEFAULT_COLORS.values())
    assert len(set(colors.values())) > 1
    assert f"background:{colors['DRUG']}" in Parsed(first).entities[0]["style"]
    # Python salts str hashes per process; the colours must not depend on the salt.
    script = (
        "from sparkner.apps.display import color_of; "
        "print('RESULT=' + ','.join(color_of(e) for e in ['DRUG', 'DOSAGE', 'ANATOMY', 'X', 'Y']))"
    )
    for seed in ("1", "2"):
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("PYTHONHASHSEED", seed)
            assert result_of_new_process(script, timeout=120).split(",") == list(colors.values())


ENTITY_NAMES = st.sampled_from(["PROBLEM", "TEST", "TREATMENT", "Disease", "<x>", "&"])
ASSERTION_LABELS = st.sampled_from([None, "present", "absent", "Possible", "hypothetical", "<&>"])


@st.composite
def notes_with_chunks(draw):
    text = draw(TEXTS.filter(bool))
    spans = draw(
        st.lists(
            st.tuples(
                st.integers(0, len(text) - 1),
                st.integers(0, len(text) - 1),
                ENTITY_NAMES,
                ASSERTION_LABELS,
            ),
            max_size=12,
        )
    )
    chunks = [
        {
            "begin": min(a, b),
            "end": max(a, b),
            "result": text[min(a, b) : max(a, b) + 1],
            "entity": entity,
            "assertion": assertion,
        }
        for a, b, entity, assertion in spans
    ]
    return text, chunks


@settings(max_examples=300, deadline=None)
@given(notes_with_chunks())
def test_every_character_appears_once_and_entities_match_their_chunks(case):
    text, chunks = case
    parsed = Parsed(render(text, chunks))
    assert parsed.note == text
    spans = {(c["entity"], c["result"]) for c in chunks}
    assert {(e["data-entity"], e["text"]) for e in parsed.entities} <= spans
    if chunks:
        earliest = min(c["begin"] for c in chunks)
        longest = max(c["end"] for c in chunks if c["begin"] == earliest)
        assert parsed.entities[0]["text"] == text[earliest : longest + 1]


# -- assertions ----------------------------------------------------------------------------
# No line break at the very end: a browser renders none there, so copied text would lack it.
ASSERTED_NOTE = (
    "Denies chest pain. Possible pneumonia; ECG if fever recurs.\n"
    "Mother had diabetes.  Takes aspirin."
)


def _span(entity: str, words: str) -> Annotation:
    begin = ASSERTED_NOTE.index(words)
    end = begin + len(words) - 1
    return Annotation("chunk", begin, end, words, {"entity": entity, "confidence": "0.9"})


ASSERTED_CHUNKS = [
    _span("PROBLEM", "chest pain"),
    _span("PROBLEM", "pneumonia"),
    _span("TEST", "ECG"),
    _span("PROBLEM", "diabetes"),
    _span("TREATMENT", "aspirin"),
]
LABELS = ["absent", "possible", "conditional", "associated_with_someone_else", "present"]
ASSERTIONS = [
    Annotation(
        "assertion",
        chunk.begin,
        chunk.end,
        label,
        {"chunk": str(index), "sentence": "0", "confidence": "0.8"},
    )
    for index, (chunk, label) in enumerate(zip(ASSERTED_CHUNKS, LABELS, strict=True))
]


def declarations(style: str) -> dict[str, str]:
    pairs = (item.split(":", 1) for item in style.split(";") if item)
    return {name.strip(): value.strip() for name, value in pairs}


def test_absent_and_possible_are_marked_and_explained_in_the_legend():
    parsed = Parsed(render(ASSERTED_NOTE, ASSERTED_CHUNKS, assertions=ASSERTIONS))
    assert parsed.note == ASSERTED_NOTE
    assert [e.get("data-assertion") for e in parsed.entities] == LABELS
    assert parsed.labels == [
        "PROBLEM 0.90 · absent",
        "PROBLEM 0.90 · possible",
        "TEST 0.90 · conditional",
        "PROBLEM 0.90 · someone else",
        "TREATMENT 0.90",
    ]
    absent, possible, conditional, someone_else, present = (
        declarations(e["style"]) for e in parsed.entities
    )
    assert absent["text-decoration"] == "line-through"
    assert absent["border"].split()[1] == "dashed"
    assert possible["font-style"] == "italic" and possible["border"].split()[1] == "dotted"
    assert "text-decoration" not in possible
    for plain in (conditional, someone_else, present):
        assert "text-decoration" not in plain and "border" not in plain
        assert "font-style" not in plain
    # The mark keeps the type's colour and readable ink; the border is drawn in that ink.
    assert absent["background"] == DEFAULT_COLORS["PROBLEM"]
    assert absent["border"].split()[2] == absent["color"]
    # Entity types first, then a key for each label other than present that is shown.
    assert [text for text, _ in parsed.legend] == [
        "PROBLEM",
        "TEST",
        "TREATMENT",
        "absent",
        "possible",
        "conditional",
        "someone else",
    ]
    keys = {text: declarations(style) for text, style in parsed.legend}
    assert keys["absent"]["text-decoration"] == "line-through"
    assert keys["absent"]["border"].split()[1] == "dashed"
    assert keys["possible"]["border"].split()[1] == "dotted"
    assert keys["possible"]["font-style"] == "italic"
    for secret in ("chest", "pneumonia", "ECG", "diabetes", "aspirin"):
        assert all(secret not in text for text, _ in parsed.legend)


def test_present_chunks_look_as_without_assertions():
    present = [
        Annotation("assertion", c.begin, c.end, "present", {"chunk": str(i)})
        for i, c in enumerate(CHUNKS)
    ]
    plain, asserted = Parsed(render(NOTE, CHUNKS)), Parsed(render(NOTE, CHUNKS, assertions=present))
    assert asserted.note == NOTE
    assert asserted.labels == plain.labels == ["PROBLEM 0.97", "TEST 0.88", "TREATMENT 0.90"]
    assert asserted.legend == plain.legend
    assert [e["style"] for e in asserted.entities] == [e["style"] for e in plain.entities]
    assert [e["data-assertion"] for e in asserted.entities] == ["present"] * 3
    # Without assertions, not even the attribute changes.
    assert render(NOTE, CHUNKS, assertions=[]) == render(NOTE, CHUNKS)
    assert render(NOTE, CHUNKS, assertions=None) == render(NOTE, CHUNKS)


def test_only_labels_of_shown_chunks_reach_the_legend():
    parsed = Parsed(render(ASSERTED_NOTE, ASSERTED_CHUNKS[:1], assertions=ASSERTIONS[:1]))
    assert [text for text, _ in parsed.legend] == ["PROBLEM", "absent"]
    parsed = Parsed(render(ASSERTED_NOTE, ASSERTED_CHUNKS, assertions=ASSERTIONS, legend=False))
    assert parsed.legend == []
    assert parsed.labels[0] == "PROBLEM 0.90 · absent"


def test_assertions_match_by_metadata_chunk_index_in_any_order():
    shuffled = list(reversed(ASSERTIONS))
    parsed = Parsed(render(ASSERTED_NOTE, ASSERTED_CHUNKS, assertions=shuffled))
    assert [e["data-assertion"] for e in parsed.entities] == LABELS
    # Chunks are shown in text order whatever their order in the list; indices are list indices.
    chunks = [ASSERTED_CHUNKS[1], ASSERTED_CHUNKS[0]]
    assertions = [
        {"result": "absent", "metadata": {"chunk": 1}},
        {"result": "possible", "metadata": {"chunk": "0"}},
    ]
    parsed = Parsed(render(ASSERTED_NOTE, chunks, assertions=assertions))
    assert entity_texts(parsed) == [("PROBLEM", "chest pain"), ("PROBLEM", "pneumonia")]
    assert [e["data-assertion"] for e in parsed.entities] == ["absent", "possible"]


def test_assertions_without_chunk_index_match_by_position():
    rows = [
        Row(
            annotatorType="assertion",
            begin=a.begin,
            end=a.end,
            result=a.result,
            metadata={},
            embeddings=[],
        )
        for a in ASSERTIONS
    ]
    parsed = Parsed(render(ASSERTED_NOTE, ASSERTED_CHUNKS, assertions=rows))
    assert [e["data-assertion"] for e in parsed.entities] == LABELS
    # None items keep their places, in chunks and in assertions; None results are skipped.
    chunks = [None, *ASSERTED_CHUNKS[:2]]
    assertions = [None, {"result": None}, {"result": "POSSIBLE"}]
    parsed = Parsed(render(ASSERTED_NOTE, chunks, assertions=assertions))
    assert [e.get("data-assertion") for e in parsed.entities] == [None, "possible"]
    assert parsed.labels == ["PROBLEM 0.90", "PROBLEM 0.90 · possible"]


def test_assertion_on_the_chunk_itself_and_precedence():
    pain, pneumonia, ecg = ({"begin": c.begin, "end": c.end} for c in ASSERTED_CHUNKS[:3])
    chunks = [
        {**pain, "entity": "PROBLEM", "assertion": "absent"},
        {
            **pneumonia,
            "metadata": {"entity": "PROBLEM", "assertion": "possible"},
            "assertion": "absent",
        },
        {**ecg, "metadata": {"entity": "TEST", "assertion": "absent"}},
    ]
    parsed = Parsed(render(ASSERTED_NOTE, chunks))
    # metadata["assertion"] over an assertion field.
    assert [e["data-assertion"] for e in parsed.entities] == ["absent", "possible", "absent"]
    # The assertions argument over both.
    parsed = Parsed(
        render(ASSERTED_NOTE, chunks, assertions=[None, None, {"result": "hypothetical"}])
    )
    assert [e["data-assertion"] for e in parsed.entities] == ["absent", "possible", "hypothetical"]
    assert parsed.labels[2] == "TEST · hypothetical"


def test_unknown_assertion_labels_are_shown_escaped():
    label = '"><script>alert(1)</script>'
    chunks = [{"begin": 0, "end": 9, "entity": "PROBLEM"}]
    html = render(NOTE, chunks, assertions=[{"result": label, "metadata": {"chunk": "0"}}])
    parsed = Parsed(html)
    assert "<script" not in html
    assert set(parsed.tags) <= {"div", "span", "mark"}
    assert parsed.note == NOTE
    assert parsed.entities[0]["data-assertion"] == label
    assert parsed.labels == [f"PROBLEM · {label}"]
    assert [text for text, _ in parsed.legend] == ["PROBLEM", label]
    style = declarations(parsed.entities[0]["style"])
    assert "text-decoration" not in style and "border" not in style


def absent_for(chunk: object, **fields: object) -> dict[str, object]:
    return {"result": "absent", "metadata": {"chunk": chunk}, **fields}


@pytest.mark.parametrize(
    ("assertions", "message"),
    [
        ([absent_for("3")], r"assertion 0 names chunk 3, but there are 3 chunks"),
        ([absent_for("-1")], r"assertion 0 names chunk -1, but there are 3 chunks"),
        ([None, None, None, {"result": "absent"}], r"assertion 3 names chunk 3, but there are 3"),
        ([absent_for("Chest pain")], r"assertion 0: metadata chunk must be a chunk index$"),
        ([absent_for(1.0)], r"assertion 0: metadata chunk must be a chunk index$"),
        ([absent_for("1"), absent_for(1)], r"assertions 0 and 1 both name chunk 1"),
        (
            [absent_for("0", begin=0, end=4)],
            r"assertion 0 \(begin=0, end=4\) names chunk 0 \(begin=0, end=9\): their offsets",
        ),
    ],
)
def test_assertions_naming_no_chunk_raise_without_patient_text(assertions, message):
    with pytest.raises(ValueError, match=message) as raised:
        render(NOTE, CHUNKS, assertions=assertions)
    error = str(raised.value)
    for secret in ("Chest", "pain", "aspirin", "ECG", NOTE):
        assert secret not in error


def test_assertion_of_a_none_chunk_is_refused():
    with pytest.raises(ValueError, match=r"assertion 1 names chunk 1, which is None"):
        render(NOTE, [CHUNKS[0], None], assertions=[None, {"result": "absent"}])


# -- sections ------------------------------------------------------------------------------
SECTION_NOTE = (
    "Seen for fever.\nMEDICATIONS: aspirin, metformin.\nASSESSMENT: Pneumonia.\nPLAN: Rest."
)


def _at(words: str) -> tuple[int, int]:
    begin = SECTION_NOTE.index(words)
    return begin, begin + len(words) - 1


def _chunk(entity: str, words: str, section: str | None) -> Annotation:
    begin, end = _at(words)
    metadata = {"entity": entity, "confidence": "0.9", **({"section": section} if section else {})}
    return Annotation("chunk", begin, end, words, metadata)


def _section(name: str, header: str, body: str) -> Annotation:
    """A SectionDetector annotation: from the header to the end of ``body``."""
    header_begin, header_end = _at(header)
    end = _at(body)[1]
    metadata = {
        "section": name,
        "header": header,
        "header_begin": str(header_begin),
        "header_end": str(header_end),
    }
    return Annotation("section", header_begin, end, name, metadata)


SECTION_CHUNKS = [
    _chunk("PROBLEM", "fever", None),
    _chunk("TREATMENT", "aspirin", "medications"),
    _chunk("TREATMENT", "metformin", "medications"),
    _chunk("PROBLEM", "Pneumonia", "assessment"),
]
SECTIONS = [
    _section("medications", "MEDICATIONS:", "metformin."),
    _section("assessment", "ASSESSMENT:", "Pneumonia."),
    _section("plan", "PLAN:", "Rest."),
]


def test_chunks_show_their_section_from_their_metadata():
    html = render(SECTION_NOTE, SECTION_CHUNKS)
    parsed = Parsed(html)
    assert parsed.note == SECTION_NOTE
    assert [e.get("data-section") for e in parsed.entities] == [
        None,
        "medications",
        "medications",
        "assessment",
    ]
    assert parsed.entities[1]["title"] == "section: medications"
    assert "title" not in parsed.entities[0]
    # A tag before the first entity of each section, none for the entity before any header.
    assert parsed.sections == [("medications", "§ medications"), ("assessment", "§ assessment")]
    assert parsed.headers == []
    assert html.index("&#167; medications") < html.index(">aspirin<")
    assert parsed.labels == ["PROBLEM 0.90", "TREATMENT 0.90", "TREATMENT 0.90", "PROBLEM 0.90"]


def test_sections_show_their_headers_and_name_the_chunks_in_them():
    chunks = [
        {"begin": c.begin, "end": c.end, "entity": c.metadata["entity"]} for c in SECTION_CHUNKS
    ]
    parsed = Parsed(render(SECTION_NOTE, chunks, sections=SECTIONS))
    assert parsed.note == SECTION_NOTE
    # Every section gets its tag where it starts, the plan without entities too.
    assert [name for name, _ in parsed.sections] == ["medications", "assessment", "plan"]
    assert parsed.headers == [
        ("medications", "MEDICATIONS:"),
        ("assessment", "ASSESSMENT:"),
        ("plan", "PLAN:"),
    ]
    assert [e.get("data-section") for e in parsed.entities] == [
        None,
        "medications",
        "medications",
        "assessment",
    ]


def test_a_chunks_own_section_wins_and_a_tag_never_splits_an_entity():
    # A chunk over a header: the header is not set in bold, and the tag follows the chunk.
    over_header = {"begin": 9, "end": 26, "entity": "TEST", "metadata": {"section": "other"}}
    assert SECTION_NOTE[9:27] == "fever.\nMEDICATIONS"
    parsed = Parsed(render(SECTION_NOTE, [over_header], sections=SECTIONS))
    assert parsed.note == SECTION_NOTE
    assert [e.get("data-section") for e in parsed.entities] == ["other"]
    assert [name for name, _ in parsed.headers] == ["assessment", "plan"]
    html = render(SECTION_NOTE, [over_header], sections=SECTIONS)
    assert html.index("</mark>") < html.index("&#167; medications")


def test_show_sections_off_and_no_sections_change_nothing():
    parsed = Parsed(render(SECTION_NOTE, SECTION_CHUNKS, sections=SECTIONS, show_sections=False))
    assert parsed.note == SECTION_NOTE
    assert parsed.sections == parsed.headers == []
    assert [e.get("data-section") for e in parsed.entities][1] == "medications"
    # Chunks without sections and no sections: not even an attribute is new.
    assert render(NOTE, CHUNKS, sections=None) == render(NOTE, CHUNKS)
    assert render(NOTE, CHUNKS, sections=[]) == render(NOTE, CHUNKS)
    assert "section" not in render(NOTE, CHUNKS, assertions=[])


def test_section_names_and_headers_are_escaped():
    name = '"><script>alert(1)</script>'
    chunks = [{"begin": 0, "end": 3, "entity": "PROBLEM", "metadata": {"section": name}}]
    sections = [{"begin": 0, "end": 14, "result": name, "metadata": {"header_begin": 0}}]
    with pytest.raises(ValueError, match="section 0: metadata header_begin and header_end"):
        render(SECTION_NOTE, chunks, sections=sections)
    sections[0]["metadata"] = {"header_begin": "0", "header_end": "3"}
    html = render(SECTION_NOTE, chunks, sections=sections)
    assert "<script" not in html
    parsed = Parsed(html)
    assert parsed.sections == [(name, f"§ {name}")]
    assert parsed.entities[0]["data-section"] == name


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"begin": 0, "end": 999, "result": "x"}, r"section 0 \(begin=0, end=999\) lies outside"),
        ({"begin": "0", "end": 3, "result": "x"}, "section 0: begin must be an integer"),
        (
            {
                "begin": 0,
                "end": 3,
                "result": "x",
                "metadata": {"header_begin": "0", "header_end": "99"},
            },
            "header_begin and header_end must be integer offsets",
        ),
    ],
)
def test_invalid_sections_raise_without_patient_text(section, message):
    with pytest.raises(ValueError, match=message) as caught:
        render("Seen for fever.", [], sections=[None, {"result": None}, section][2:])
    assert "fever" not in str(caught.value)


def test_none_and_nameless_sections_are_skipped():
    sections = [None, {"begin": 0, "end": 3, "result": None}, {"begin": 0, "end": 3, "result": " "}]
    assert render(SECTION_NOTE, SECTION_CHUNKS[:1], sections=sections) == render(
        SECTION_NOTE, SECTION_CHUNKS[:1]
    )


SECTION_NAMES = st.sampled_from(["hpi", "plan", "<x>", "&"])


@st.composite
def notes_with_chunks_and_sections(draw):
    text, chunks = draw(notes_with_chunks())
    sections = []
    for a, b, h, name in draw(
        st.lists(
            st.tuples(
                st.integers(0, len(text) - 1),
                st.integers(0, len(text) - 1),
                st.integers(0, 5),
                SECTION_NAMES,
            ),
            max_size=5,
        )
    ):
        begin, end = min(a, b), max(a, b)
        header_end = min(begin + h, end)
        metadata = {"header_begin": str(begin), "header_end": str(header_end)}
        sections.append({"begin": begin, "end": end, "result": name, "metadata": metadata})
    for chunk in chunks:
        chunk["metadata"] = {"section": draw(st.one_of(st.none(), SECTION_NAMES))}
    return text, chunks, sections


@settings(max_examples=300, deadline=None)
@given(notes_with_chunks_and_sections(), st.booleans())
def test_every_character_appears_once_with_sections(case, with_sections):
    text, chunks, sections = case
    parsed = Parsed(render(text, chunks, sections=sections if with_sections else None))
    assert parsed.note == text
    spans = {(c["entity"], c["result"]) for c in chunks}
    assert {(e["data-entity"], e["text"]) for e in parsed.entities} <= spans
    for name, header in parsed.headers:
        assert header and name in {s["result"] for s in sections}


# -- a real browser: do the colours and assertion marks reach the screen? -----------------
CHROMIUM = next(
    (found for name in ("chromium", "chromium-headless-shell") if (found := shutil.which(name))),
    None,
)


def read_png(path: Path) -> np.ndarray:
    """Pixels of an 8-bit, non-interlaced RGB or RGBA PNG (what Chromium writes)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, idat, header = 8, b"", None
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        position += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
    width, height, depth, color_type, _, _, interlace = header
    assert depth == 8 and color_type in (2, 6) and interlace == 0, header
    channels = 3 if color_type == 2 else 4
    stride = width * channels
    raw = zlib.decompress(idat)
    pixels = np.zeros((height, stride), dtype=np.uint8)
    previous = np.zeros(stride, dtype=np.int64)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]
        row = np.frombuffer(line, dtype=np.uint8).astype(np.int64)
        if kind == 2:  # Up
            row = (row + previous) % 256
        elif kind != 0:  # Sub, Average and Paeth depend on the byte to the left
            row = row.tolist()
            up = previous.tolist()
            for x in range(stride):
                left = row[x - channels] if x >= channels else 0
                corner = up[x - channels] if x >= channels else 0
                if kind == 1:
                    guess = left
                elif kind == 3:
                    guess = (left + up[x]) // 2
                else:
                    estimate = left + up[x] - corner
                    distances = [abs(estimate - v) for v in (left, up[x], corner)]
                    guess = (left, up[x], corner)[distances.index(min(distances))]
                row[x] = (row[x] + guess) % 256
            row = np.array(row, dtype=np.int64)
        pixels[y] = row
        previous = row
    return pixels.reshape(height, width, channels)[:, :, :3]


# Added to the test page, not the fragment (which has no script): what the browser computed for
# each mark, and the text that selecting the whole note and copying it would give.
PROBE = """<pre id="probe"></pre><script>
const text = document.querySelector(".sparkner-text");
const marks = [...text.querySelectorAll("mark")].map((mark) => {
  const style = getComputedStyle(mark);
  return {assertion: mark.dataset.assertion || null, line: style.textDecorationLine,
          border: style.borderTopStyle, font: style.fontStyle,
          label: getComputedStyle(mark.querySelector(".sparkner-label")).display};
});
getSelection().selectAllChildren(text);
document.getElementById("probe").textContent =
  JSON.stringify({marks, copied: getSelection().toString()});
</script>"""


def chromium(page: Path, *options: str) -> str:
    done = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--force-color-profile=srgb",
            *options,
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
        text=True,
    )
    return done.stdout


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium or chromium-headless-shell on PATH")
def test_chromium_paints_the_problem_colour(tmp_path):
    page = tmp_path / "note.html"
    page.write_text(f"<!doctype html><meta charset=utf-8>{render(NOTE, CHUNKS)}", "utf-8")
    shot = tmp_path / "out.png"
    chromium(page, f"--screenshot={shot}", "--window-size=800,400")
    pixels = read_png(shot).astype(np.int64)

    def count(hex_color: str) -> int:
        rgb = np.array([int(hex_color[i : i + 2], 16) for i in (1, 3, 5)])
        return int((np.abs(pixels - rgb).max(axis=2) <= 3).sum())

    # Each highlight covers hundreds of pixels; a colour that is absent gives none.
    assert count(DEFAULT_COLORS["PROBLEM"]) > 200
    assert count(DEFAULT_COLORS["TREATMENT"]) > 200
    assert count("#BB3377") == 0

    # Assertions: absent struck through in a dashed frame, possible dotted and italic, the
    # rest unmarked; labels stay out of the copied text, which is the note, character for
    # character.
    fragment = render(ASSERTED_NOTE, ASSERTED_CHUNKS, assertions=ASSERTIONS)
    page.write_text(f"<!doctype html><meta charset=utf-8>{fragment}{PROBE}", "utf-8")
    dom = chromium(page, "--dump-dom")
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.DOTALL)
    assert found, "the probe script did not run"
    probe = json.loads(unescape(found.group(1)))
    marks = {mark.pop("assertion"): mark for mark in probe["marks"]}
    assert list(marks) == LABELS
    assert marks["absent"] == {
        "line": "line-through",
        "border": "dashed",
        "font": "normal",
        "label": "inline-block",
    }
    assert marks["possible"] == {
        "line": "none",
        "border": "dotted",
        "font": "italic",
        "label": "inline",
    }
    for label in LABELS[2:]:
        assert marks[label] == {
            "line": "none",
            "border": "none",
            "font": "normal",
            "label": "inline",
        }
    assert probe["copied"] == ASSERTED_NOTE


def test_codes_are_written_in_the_label_and_their_concept_in_the_tooltip():
    text = "Hx hypertension; takes lisinopril."
    chunks = [
        {"begin": 3, "end": 14, "metadata": {"entity": "PROBLEM"}},
        {"begin": 23, "end": 32, "metadata": {"entity": "TREATMENT"}},
    ]
    codes = [
        None,
        {
            "result": "I10",
            "metadata": {
                "chunk": "0",
                "vocabulary": "ICD-10-CM",
                "resolved_text": "Essential (primary) hypertension",
            },
        },
        {"result": "I15.9", "metadata": {"chunk": "0"}},  # a second code: the first wins
        {"result": "DB00722", "metadata": {"chunk": "1", "vocabulary": "DrugBank"}},
    ]
    html = render(text, chunks, codes=codes)
    assert 'data-code="I10"' in html and "I15.9" not in html
    assert "&#183; I10</span>" in html and 'data-code="DB00722"' in html
    assert 'title="ICD-10-CM I10 Essential (primary) hypertension"' in html
    assert render(text, chunks) == render(text, chunks, codes=[])
    with pytest.raises(ValueError, match="code 0 names chunk 5"):
        render(text, chunks, codes=[{"result": "X", "metadata": {"chunk": "5"}}])
