"""Partly labelled training sentences from the PHEE and TAC 2017 ADR corpora.

``../shared/data/partial_labels/`` holds two corpora that mark only SOME of the PROBLEM /
TEST / TREATMENT mentions in their text (see its README): a word outside a labelled span is
not a negative. The readers here turn their training portions into :class:`PartialSentence`
objects, tokens plus labelled spans, for a tagger trained with partial labels
(:func:`sparkner.ner.crf.partial_tag_mask` takes ``len(tokens)`` and ``spans``). Nothing here
ever writes an ``O``: every token outside a span is unlabelled.

Class mapping (the corpora's READMEs):

- PHEE: ``Treatment.Drug`` -> TREATMENT; ``Effect``, ``Treatment.Disorder`` and
  ``Subject.Disorder`` -> PROBLEM. The Effect of a ``Potential_therapeutic_event`` is the
  intended effect ("remission"), so it is left unlabelled unless ``therapeutic_effects``.
- TAC 2017 ADR: ``AdverseReaction`` -> PROBLEM; ``DrugClass`` -> TREATMENT (unless
  ``drug_classes=False``).
- Every other class maps to nothing: its mentions are dropped, i.e. unlabelled (not ``O``).
  Nothing maps to TEST.

Alignment, so that training tokens are the tokens a pipeline sees at inference: each text
(a PHEE ``context``, a TAC section) is cut by the default :class:`SentenceDetector` rules and
each sentence by the default :class:`Tokenizer` pattern, as the pipeline stages do. Then:

- mentions are deduplicated by offsets (one entity can fill several roles and events);
- a discontinuous mention (several fragments) is dropped by default: a fragment is not a
  mention of its own (TAC: "injection site" of "injection site pain, bruising"), and a span
  cannot have a gap; ``discontinuous="fragments"`` makes each fragment a span instead;
- a mention whose first or last character falls inside a token is DROPPED, not extended to
  whole tokens: the tokenizer keeps hyphenated words whole, so PHEE's Drug "insulin" in
  "insulin-induced" would otherwise teach that "insulin-induced" is a TREATMENT. Under partial
  labels an unlabelled token is never wrong, a wrongly labelled one is;
- a mention across a sentence boundary, or over no token, is dropped;
- of overlapping spans in one sentence the longest (in tokens) is kept, ties to the earliest
  (then the type name), because ``partial_tag_mask`` refuses overlaps;
- a sentence with no span left gives no gradient under a partial-label loss, so it is left
  out unless ``keep_unlabelled``.

PHEE dev/test and TAC ``gold_xml`` are evaluation splits: asking for one is a ValueError. A
malformed record is a ValueError naming the file and the line, never the corpus text.
"""

from __future__ import annotations

import json
import lzma
import os
import re
import tarfile
import xml.parsers.expat
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from sparkner.annotators.sentence_detector import SentenceDetector
from sparkner.annotators.tokenizer import Tokenizer
from sparkner.text.sentences import split_sentences
from sparkner.text.tokenizing import token_pattern

PROBLEM, TEST, TREATMENT = "PROBLEM", "TEST", "TREATMENT"
DISCONTINUOUS = ("drop", "fragments")

PHEE_EVALUATION_SPLITS = ("dev", "test")
TAC_EVALUATION_SPLITS = ("gold", "gold_xml", "test", "dev")
# (argument, sub-argument or None, label): the PHEE roles that name a mention.
PHEE_ROLES = (
    ("Treatment", "Drug", TREATMENT),
    ("Treatment", "Disorder", PROBLEM),
    ("Subject", "Disorder", PROBLEM),
    ("Effect", None, PROBLEM),
)
PHEE_EVENT_TYPES = ("Adverse_event", "Potential_therapeutic_event")
TAC_TYPES = ("AdverseReaction", "Severity", "Factor", "DrugClass", "Negation", "Animal")


@dataclass
class PartialSentence:
    """One sentence's tokens and its labelled spans ``(first, last inclusive, type)``;
    ``document`` (PHEE: the PMID, TAC: the label's file stem) is for grouped splits."""

    tokens: list[str]
    spans: list[tuple[int, int, str]]
    document: str = ""


@dataclass
class PartialReport:
    """What reading decided, summed over the records read (pass one to a reader)."""

    mentions: Counter = field(default_factory=Counter)  # mapped mentions, per label, unique
    spans: Counter = field(default_factory=Counter)  # spans returned, per label
    unmapped: Counter = field(default_factory=Counter)  # mentions of no label, per class
    sentences: int = 0  # sentences returned
    unlabelled_sentences: int = 0  # sentences without a span (returned if keep_unlabelled)
    discontinuous: int = 0  # multi-fragment mentions dropped
    cut: int = 0  # dropped: a boundary inside a token
    crossing: int = 0  # dropped: across a sentence boundary
    unaligned: int = 0  # dropped: over no token
    overlaps: int = 0  # dropped: overlapped a longer span


class _Mention(NamedTuple):
    begin: int  # character offsets into the text, end exclusive
    end: int
    label: str


class _Aligner:
    """Sentences and tokens of a text as the default pipeline stages make them, and the
    token spans of character-offset mentions."""

    def __init__(self, keep_unlabelled: bool, report: PartialReport) -> None:
        self.sentence_rules = SentenceDetector().rules()
        self.pattern = token_pattern(Tokenizer().rules())
        self.keep_unlabelled = keep_unlabelled
        self.report = report

    def sentences(
        self, text: str, mentions: Iterable[_Mention], document: str
    ) -> list[PartialSentence]:
        unique = sorted(set(mentions))
        self.report.mentions.update(m.label for m in unique)
        tokens: list[list[str]] = []
        begins: list[int] = []
        ends: list[int] = []
        sentence_of: list[int] = []
        first_token: list[int] = []
        for begin, end in split_sentences(text, self.sentence_rules):
            first_token.append(len(begins))
            words = []
            # The sentence's own text, as the Tokenizer stage sees it (no look-behind into
            # the previous sentence).
            for match in self.pattern.finditer(text[begin:end]):
                words.append(match.group())
                begins.append(begin + match.start())
                ends.append(begin + match.end())
                sentence_of.append(len(tokens))
            tokens.append(words)
        found: list[list[tuple[int, int, str]]] = [[] for _ in tokens]
        for mention in unique:
            first = bisect_right(ends, mention.begin)  # the first token ending after begin
            last = bisect_left(begins, mention.end) - 1  # the last token starting before end
            if first > last:
                self.report.unaligned += 1
            elif sentence_of[first] != sentence_of[last]:
                self.report.crossing += 1
            elif begins[first] < mention.begin or ends[last] > mention.end:
                self.report.cut += 1
            else:
                row = sentence_of[first]
                offset = first_token[row]
                found[row].append((first - offset, last - offset, mention.label))
        out = []
        for words, spans in zip(tokens, found, strict=True):
            if not words:
                continue
            kept = self._without_overlaps(spans)
            if not kept:
                self.report.unlabelled_sentences += 1
                if not self.keep_unlabelled:
                    continue
            self.report.sentences += 1
            self.report.spans.update(label for *_, label in kept)
            out.append(PartialSentence(words, kept, document))
        return out

    def _without_overlaps(self, spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
        kept: list[tuple[int, int, str]] = []
        for span in sorted(set(spans), key=lambda s: (s[0] - s[1], s[0], s[2])):
            if any(span[0] <= k[1] and k[0] <= span[1] for k in kept):
                self.report.overlaps += 1
            else:
                kept.append(span)
        return sorted(kept)


def _check_discontinuous(discontinuous: str) -> None:
    if discontinuous not in DISCONTINUOUS:
        raise ValueError(f"discontinuous must be one of {DISCONTINUOUS}, got {discontinuous!r}")


def _fragment_mentions(
    fragments: list[tuple[int, int]], label: str, discontinuous: str, report: PartialReport
) -> list[_Mention]:
    if len(fragments) > 1 and discontinuous == "drop":
        report.discontinuous += 1
        return []
    return [_Mention(begin, end, label) for begin, end in fragments]


# -- PHEE ---------------------------------------------------------------------------------


def phee_sentences(
    folder: str | os.PathLike[str],
    split: str = "train",
    *,
    therapeutic_effects: bool = False,
    discontinuous: str = "drop",
    keep_unlabelled: bool = False,
    report: PartialReport | None = None,
) -> list[PartialSentence]:
    """PHEE v2.0's training sentences (``folder``/``train.json[.xz]``, JSON lines) with
    their Drug, Effect and Disorder mentions as TREATMENT / PROBLEM spans.

    ``split`` must be ``"train"``: dev and test are evaluation splits and are refused.
    """
    if split in PHEE_EVALUATION_SPLITS:
        raise ValueError(f"PHEE {split!r} is an evaluation split: never train on it")
    if split != "train":
        raise ValueError(f"unknown PHEE split {split!r}; the training split is 'train'")
    _check_discontinuous(discontinuous)
    root = Path(folder)
    candidates = [root / "train.json.xz", root / "train.json"]
    path = next((p for p in candidates if p.is_file()), None)
    if path is None:
        raise FileNotFoundError(f"{root}: no train.json.xz or train.json (PHEE)")
    report = PartialReport() if report is None else report
    aligner = _Aligner(keep_unlabelled, report)
    out: list[PartialSentence] = []
    opener = lzma.open if path.suffix == ".xz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            context, document, mentions = _phee_record(
                line, f"{path}, line {number}", therapeutic_effects, discontinuous, report
            )
            out += aligner.sentences(context, mentions, document)
    return out


def _phee_record(
    line: str, where: str, therapeutic_effects: bool, discontinuous: str, report: PartialReport
) -> tuple[str, str, list[_Mention]]:
    """The context, the PMID and the mapped mentions of one PHEE line."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        # The decoder's message gives a position, never the text; the error is not chained.
        raise ValueError(f"{where}: not JSON ({error.msg}, column {error.colno})") from None
    if not isinstance(record, dict):
        raise ValueError(f"{where}: expected a JSON object")
    context = record.get("context")
    annotations = record.get("annotations")
    if not isinstance(context, str):
        raise ValueError(f"{where}: 'context' is missing or not a string")
    if not isinstance(annotations, list) or not all(
        isinstance(a, dict) and isinstance(a.get("events"), list) for a in annotations
    ):
        raise ValueError(f"{where}: 'annotations' must be a list of {{'events': [...]}}")
    identifier = record.get("id")
    document = identifier.split("_")[0] if isinstance(identifier, str) else ""
    mentions: list[_Mention] = []
    for annotation in annotations:
        for event in annotation["events"]:
            if not isinstance(event, dict) or event.get("event_type") not in PHEE_EVENT_TYPES:
                raise ValueError(f"{where}: an event without a known 'event_type'")
            # Every argument's offsets are checked, mapped or not: a wrong one anywhere
            # means the record cannot be trusted.
            for key, value in event.items():
                if key not in ("event_id", "event_type"):
                    _check_arguments(value, context, f"{where}, {key}")
            for argument, sub, label in PHEE_ROLES:
                value = event.get(argument)
                if sub is not None and isinstance(value, dict):
                    value = value.get(sub)
                if value is None:
                    continue
                role = argument if sub is None else f"{argument}.{sub}"
                therapeutic = event["event_type"] == "Potential_therapeutic_event"
                for fragments in _phee_argument(value, context, f"{where}, {role}"):
                    if argument == "Effect" and therapeutic and not therapeutic_effects:
                        report.unmapped["Effect of a Potential_therapeutic_event"] += 1
                        continue
                    mentions += _fragment_mentions(fragments, label, discontinuous, report)
    return context, document, mentions


def _check_arguments(value: Any, context: str, where: str) -> None:
    """Check an argument, its sub-arguments and sub-events (``Combination``) against the
    context."""
    if isinstance(value, list):
        for item in value:
            _check_arguments(item, context, where)
    elif isinstance(value, dict):
        if "text" in value or "start" in value:
            for _ in _phee_argument(value, context, where):
                pass
        for key, sub in value.items():
            if key not in ("text", "start", "entity_id") and isinstance(sub, (dict, list)):
                _check_arguments(sub, context, f"{where}.{key}")


def _phee_argument(value: Any, context: str, where: str) -> Iterator[list[tuple[int, int]]]:
    """The mentions of one argument, each a list of ``(begin, end)`` fragments, checked
    against the context."""
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected an object with 'text' and 'start'")
    texts, starts = value.get("text"), value.get("start")
    if not isinstance(texts, list) or not isinstance(starts, list) or len(texts) != len(starts):
        raise ValueError(f"{where}: 'text' and 'start' must be lists of the same length")
    for number, (pieces, offsets) in enumerate(zip(texts, starts, strict=True), start=1):
        here = f"{where}, mention {number}"
        if (
            not isinstance(pieces, list)
            or not isinstance(offsets, list)
            or len(pieces) != len(offsets)
            or not pieces
        ):
            raise ValueError(f"{here}: fragments and offsets do not pair up")
        fragments = []
        for piece, begin in zip(pieces, offsets, strict=True):
            if not isinstance(piece, str) or not piece:
                raise ValueError(f"{here}: a fragment is empty or not a string")
            if not isinstance(begin, int) or isinstance(begin, bool):
                raise ValueError(f"{here}: an offset is not an integer")
            end = begin + len(piece)
            if not 0 <= begin < end <= len(context) or context[begin:end] != piece:
                raise ValueError(
                    f"{here}: the fragment at offset {begin} (length {len(piece)}) does not "
                    f"match the context ({len(context)} characters)"
                )
            fragments.append((begin, end))
        yield fragments


# -- TAC 2017 ADR ---------------------------------------------------------------------------

_TAC_MEMBER = re.compile(r"(?:\./)?train_xml/[^/]+\.xml")
_BLANKS = re.compile(r"\s+")


def tac_sentences(
    folder: str | os.PathLike[str],
    split: str = "train",
    *,
    drug_classes: bool = True,
    discontinuous: str = "drop",
    keep_unlabelled: bool = False,
    report: PartialReport | None = None,
) -> list[PartialSentence]:
    """TAC 2017 ADR's training labels (``folder``/``train_xml.tar.xz``, or an unpacked
    ``train_xml/``) as sentences of their sections, with AdverseReaction mentions as
    PROBLEM spans and DrugClass mentions as TREATMENT spans.

    ``split`` must be ``"train"`` (or ``"train_xml"``): ``gold_xml`` is the TAC 2017 test
    set and is refused.
    """
    if split in TAC_EVALUATION_SPLITS:
        raise ValueError(f"TAC 2017 ADR {split!r} is an evaluation split: never train on it")
    if split not in ("train", "train_xml"):
        raise ValueError(f"unknown TAC 2017 ADR split {split!r}; the training split is 'train'")
    _check_discontinuous(discontinuous)
    labels = {"AdverseReaction": PROBLEM}
    if drug_classes:
        labels["DrugClass"] = TREATMENT
    report = PartialReport() if report is None else report
    aligner = _Aligner(keep_unlabelled, report)
    out: list[PartialSentence] = []
    for source, stem, data in _tac_files(Path(folder)):
        for text, mentions in _tac_label(data, source, labels, discontinuous, report):
            out += aligner.sentences(text, mentions, stem)
    return out


def _tac_files(root: Path) -> Iterator[tuple[str, str, bytes]]:
    """``(name for errors, file stem, bytes)`` of every training XML file, in name order."""
    archive = root / "train_xml.tar.xz"
    if archive.is_file():
        with tarfile.open(archive, "r:xz") as tar:
            members = [m for m in tar.getmembers() if m.isfile() and _TAC_MEMBER.fullmatch(m.name)]
            if not members:
                raise ValueError(f"{archive}: no train_xml/*.xml file in the archive")
            for member in sorted(members, key=lambda m: m.name):
                handle = tar.extractfile(member)
                assert handle is not None  # a regular file
                yield f"{archive}[{member.name}]", Path(member.name).stem, handle.read()
        return
    unpacked = root / "train_xml"
    if not unpacked.is_dir():
        raise FileNotFoundError(f"{root}: no train_xml.tar.xz or train_xml/ (TAC 2017 ADR)")
    for path in sorted(unpacked.glob("*.xml")):
        yield str(path), path.stem, path.read_bytes()


def _tac_label(
    data: bytes, source: str, labels: dict[str, str], discontinuous: str, report: PartialReport
) -> list[tuple[str, list[_Mention]]]:
    """Each section's text and mapped mentions of one label file. Expat reports line numbers
    (ElementTree does not) and counts offsets as TAC does: entities decoded, line ends
    normalised to ``\\n``."""
    parser = xml.parsers.expat.ParserCreate()
    parser.buffer_text = True
    sections: dict[str, list[str]] = {}
    mentions: list[tuple[int, dict[str, str]]] = []
    current: list[str] | None = None

    def start(name: str, attributes: dict[str, str]) -> None:
        nonlocal current
        line = parser.CurrentLineNumber
        if name == "Section":
            identifier = attributes.get("id")
            if not identifier or identifier in sections:
                raise ValueError(f"{source}, line {line}: a Section without a unique id")
            current = sections[identifier] = []
        elif name == "Mention":
            mentions.append((line, attributes))

    def end(name: str) -> None:
        nonlocal current
        if name == "Section":
            current = None

    def characters(chunk: str) -> None:
        if current is not None:
            current.append(chunk)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as error:
        # Expat's message names the line and column, never the text.
        message = xml.parsers.expat.ErrorString(error.code)
        raise ValueError(
            f"{source}, line {error.lineno}: not well-formed XML ({message})"
        ) from None
    texts = {identifier: "".join(chunks) for identifier, chunks in sections.items()}
    found: dict[str, list[_Mention]] = {identifier: [] for identifier in texts}
    for line, attributes in mentions:
        where = f"{source}, line {line}"
        fragments, section = _tac_mention(attributes, texts, where)
        kind = attributes["type"]
        label = labels.get(kind)
        if label is None:
            report.unmapped[kind if kind in TAC_TYPES else "other TAC type"] += 1
            continue
        found[section] += _fragment_mentions(fragments, label, discontinuous, report)
    return [(texts[identifier], found[identifier]) for identifier in texts]


def _tac_mention(
    attributes: dict[str, str], texts: dict[str, str], where: str
) -> tuple[list[tuple[int, int]], str]:
    """The ``(begin, end)`` fragments and the section of one ``<Mention>``, checked."""
    missing = [a for a in ("section", "type", "start", "len", "str") if a not in attributes]
    if missing:
        raise ValueError(f"{where}: a Mention without {', '.join(missing)}")
    section = attributes["section"]
    if section not in texts:
        raise ValueError(f"{where}: a Mention of an unknown section")
    try:
        starts = [int(s) for s in attributes["start"].split(",")]
        lengths = [int(n) for n in attributes["len"].split(",")]
    except ValueError:
        raise ValueError(f"{where}: 'start' and 'len' must be integers") from None
    if len(starts) != len(lengths):
        raise ValueError(f"{where}: 'start' and 'len' have different numbers of fragments")
    text = texts[section]
    fragments = []
    for begin, length in zip(starts, lengths, strict=True):
        if begin < 0 or length <= 0 or begin + length > len(text):
            raise ValueError(
                f"{where}: fragment {begin}+{length} is outside its section "
                f"({len(text)} characters)"
            )
        fragments.append((begin, begin + length))
    # The release's str collapses blanks and line breaks; anything more is a wrong offset.
    surface = " ".join(text[b:e] for b, e in fragments)
    if _BLANKS.sub(" ", surface).strip() != _BLANKS.sub(" ", attributes["str"]).strip():
        raise ValueError(f"{where}: the Mention's str does not match its offsets")
    return fragments, section


# -- both -----------------------------------------------------------------------------------

# Each reader takes its folder, the split and its own keyword options.
PARTIAL_CORPORA: dict[str, Callable[..., list[PartialSentence]]] = {
    "phee": phee_sentences,
    "tac2017_adr": tac_sentences,
}


def partial_sentences(
    data_dir: str | os.PathLike[str], name: str, split: str = "train", **options: Any
) -> list[PartialSentence]:
    """The training sentences of one corpus of ``data_dir``/partial_labels/ (``data_dir`` is
    ``../shared/data``): ``name`` is ``"phee"`` or ``"tac2017_adr"``; ``options`` go to its
    reader (:func:`phee_sentences`, :func:`tac_sentences`)."""
    reader = PARTIAL_CORPORA.get(name)
    if reader is None:
        raise ValueError(
            f"unknown partially labelled corpus {name!r}; one of {list(PARTIAL_CORPORA)}"
        )
    return reader(Path(data_dir) / "partial_labels" / name, split, **options)
