"""ConText over sparkner's tokens: is each chunk present, absent, possible, hypothetical,
conditional or about someone else?

The algorithm (Harkema et al. 2009, as in pyConTextNLP, medspaCy and NegEx):

- trigger phrases (lowercased token sequences) carry a label and a direction: ``forward``
  triggers modify what follows them ("denies", "no evidence of"), ``backward`` ones what
  precedes them ("is unlikely", "free"), ``bidirectional`` ones both;
- ``pseudo`` triggers match and assert nothing ("no change", "not only", "gram negative");
  they win over the shorter triggers inside them ("no", "not");
- ``terminate`` terms ("but", "however", "which") end a scope, for every label or, where the
  rule names one, for that label only;
- overlapping matches: a match inside a longer one is dropped, and so is one that overlaps a
  pseudo trigger; two real triggers that only overlap both count ("was negative for");
- a scope spans at most ``max_scope`` word tokens (``max_scope_backward`` for what precedes
  a trigger; punctuation is not counted) and never leaves its sentence;
- a chunk is modified by a trigger when the chunk lies at least partly in its scope; the
  chunk's own tokens are never triggers for that chunk (they may be for another chunk).

When several triggers modify a chunk, :attr:`ContextRules.priority` decides: the first label
of that order among the triggers' labels wins (the nearest trigger of that label counts);
with ``priority=None`` the nearest trigger wins (ties go to the default order). The default
order, associated_with_someone_else > hypothetical > conditional > absent > possible, says
that "no family history of X" is about the family, and "return if no fever" is hypothetical.
A chunk no trigger modifies is ``present``, and so is a chunk of an entity class in
:attr:`ContextRules.unasserted_entities` (the bundled rules: TEST).
"""

from __future__ import annotations

import json
import os
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cached_property
from itertools import accumulate
from pathlib import Path
from typing import cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sparkner.core.annotation import ASSERTION, AnnotationBatch, build_annotations
from sparkner.resources import bundled_folder

PRESENT = "present"
ABSENT = "absent"
POSSIBLE = "possible"
HYPOTHETICAL = "hypothetical"
CONDITIONAL = "conditional"
SOMEONE_ELSE = "associated_with_someone_else"
LABELS = (PRESENT, ABSENT, POSSIBLE, HYPOTHETICAL, CONDITIONAL, SOMEONE_ELSE)

FORWARD = "forward"
BACKWARD = "backward"
BIDIRECTIONAL = "bidirectional"
PSEUDO = "pseudo"
TERMINATE = "terminate"
DIRECTIONS = (FORWARD, BACKWARD, BIDIRECTIONAL, PSEUDO, TERMINATE)
_TRIGGERS = (FORWARD, BACKWARD, BIDIRECTIONAL)

DEFAULT_PRIORITY = (SOMEONE_ELSE, HYPOTHETICAL, CONDITIONAL, ABSENT, POSSIBLE)
RULES_FILE = "context_rules.json"
RULES_FORMAT = "sparkner-context-rules"

# What a rule-based decision's "confidence" is: the rules are deterministic, so always 1.
RULE_CONFIDENCE = "1.0000"


@dataclass(frozen=True)
class Rule:
    """One trigger: its lowercased tokens, direction and label.

    ``label`` is the asserted label of a trigger, None for a pseudo trigger, and for a
    terminate term the one label whose scopes it ends (None: every label's).
    """

    phrase: tuple[str, ...]
    direction: str
    label: str | None = None
    source: str = ""

    def __post_init__(self) -> None:
        if not self.phrase or any(not t or t != t.strip() for t in self.phrase):
            raise ValueError(f"a rule's phrase must be non-empty tokens: {self.phrase!r}")
        if self.direction not in DIRECTIONS:
            raise ValueError(f"unknown rule direction {self.direction!r}")
        if self.direction in _TRIGGERS and self.label not in LABELS[1:]:
            raise ValueError(f"a {self.direction} trigger needs a label of {LABELS[1:]}")
        if self.direction == PSEUDO and self.label is not None:
            raise ValueError("a pseudo trigger asserts no label")


@dataclass(frozen=True)
class ContextRules:
    """Immutable, hashable rule set, with its scope settings."""

    rules: tuple[Rule, ...]
    max_scope: int = 8
    # The window of backward triggers ("X was not seen"); None: ``max_scope``.
    max_scope_backward: int | None = None
    priority: tuple[str, ...] | None = DEFAULT_PRIORITY
    # Chunks of these entity classes (their ``entity`` metadata) are not asserted: they are
    # ``present``. Tests, for one: "negative for CD3" reports a test that was done.
    unasserted_entities: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.max_scope < 1 or (self.max_scope_backward or 1) < 1:
            raise ValueError("max_scope and max_scope_backward must be at least 1")
        if self.priority is not None and set(self.priority) != set(LABELS[1:]):
            raise ValueError(f"priority must order exactly the labels {LABELS[1:]}")

    def with_settings(self, **changes: object) -> ContextRules:
        """A copy with other settings (``max_scope``, ``max_scope_backward``, ``priority``:
        None for nearest-wins, ``unasserted_entities``); the rules stay."""
        if "rules" in changes:
            raise TypeError("with_settings changes settings, not rules")
        if "unasserted_entities" in changes:
            entities = cast(Iterable[str], changes["unasserted_entities"])
            changes["unasserted_entities"] = tuple(entities)
        return replace(self, **changes)  # type: ignore[arg-type]

    @cached_property
    def index(self) -> dict[str, tuple[tuple[int, int], ...]]:
        """First token -> (rule number, phrase length), longest phrases first."""
        by_first: dict[str, list[tuple[int, int]]] = {}
        for number, rule in enumerate(self.rules):
            by_first.setdefault(rule.phrase[0], []).append((number, len(rule.phrase)))
        return {k: tuple(sorted(v, key=lambda x: -x[1])) for k, v in by_first.items()}

    @cached_property
    def first_words(self) -> pa.Array:
        """The first tokens of the rules' phrases (where a match may start)."""
        return pa.array(sorted(self.index), pa.string())

    @cached_property
    def phrase_index(
        self,
    ) -> tuple[dict[str, tuple[int, ...]], dict[tuple[str, ...], tuple[int, ...]]]:
        """First token -> the lengths of the phrases it starts, longest first; and phrase ->
        the numbers of its rules, in order (a phrase is looked up once, not once per rule)."""
        lengths: dict[str, set[int]] = {}
        numbers: dict[tuple[str, ...], list[int]] = {}
        for number, rule in enumerate(self.rules):
            lengths.setdefault(rule.phrase[0], set()).add(len(rule.phrase))
            numbers.setdefault(rule.phrase, []).append(number)
        return (
            {k: tuple(sorted(v, reverse=True)) for k, v in lengths.items()},
            {k: tuple(v) for k, v in numbers.items()},
        )

    @cached_property
    def pseudo(self) -> tuple[bool, ...]:
        """Whether each rule is a pseudo trigger."""
        return tuple(rule.direction == PSEUDO for rule in self.rules)

    @cached_property
    def rank(self) -> dict[str, int]:
        """Label -> rank in the priority order (0 wins)."""
        return {label: i for i, label in enumerate(self.priority or DEFAULT_PRIORITY)}


def load_rules(folder: str | os.PathLike[str], max_scope: int | None = None) -> ContextRules:
    """Read ``context_rules.json`` of ``folder`` (plain JSON: no code is run)."""
    path = Path(folder) / RULES_FILE
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    if not isinstance(data, dict) or data.get("format") != RULES_FORMAT:
        raise ValueError(f"{path}: not a {RULES_FORMAT} file")
    try:
        rules = tuple(
            Rule(
                phrase=tuple(entry["phrase"].lower().split(" ")),
                direction=entry["direction"],
                label=entry.get("label"),
                source=entry.get("source", ""),
            )
            for entry in data["rules"]
        )
        priority = data.get("priority", list(DEFAULT_PRIORITY))
        return ContextRules(
            rules,
            max_scope=int(data.get("max_scope", 8) if max_scope is None else max_scope),
            max_scope_backward=data.get("max_scope_backward"),
            priority=None if priority is None else tuple(priority),
            unasserted_entities=tuple(str(e) for e in data.get("unasserted_entities", ())),
        )
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        raise ValueError(f"{path}: invalid rule file ({error})") from None


def bundled_rules() -> ContextRules:
    """The rules shipped with sparkner (resources/assertion_clinical)."""
    return load_rules(bundled_folder("assertion_clinical", RULES_FILE, "assertion rules"))


# -- matching within one sentence ---------------------------------------------------------


def find_triggers(
    words: list[str], rules: ContextRules, starts: Iterable[int] | None = None
) -> list[tuple[int, int, int]]:
    """Accepted matches ``(start, end exclusive, rule number)`` in lowercased ``words``,
    sorted by start. Longer matches go first, a pseudo trigger before others of its length;
    a match inside an accepted one is dropped ("no" in "no evidence of"), and so is one that
    overlaps an accepted pseudo trigger ("with no" against "no change"). Two real triggers
    that only overlap both count ("was negative" and "negative for"). ``starts``: the
    positions, in order, where a match may start (those of :attr:`ContextRules.first_words`;
    None: every position)."""
    lengths_of, numbers_of = rules.phrase_index
    found = []
    n = len(words)
    # Longer phrases first, each phrase's rules in order (as the rules are numbered).
    for i in range(n) if starts is None else starts:
        lengths = lengths_of.get(words[i])
        if lengths is None:
            continue
        for length in lengths:
            if i + length <= n:
                for number in numbers_of.get(tuple(words[i : i + length]), ()):
                    found.append((i, i + length, number))
    if len(found) < 2:
        return found
    is_pseudo = rules.pseudo
    found.sort(key=lambda m: (m[0] - m[1], not is_pseudo[m[2]], m[0]))
    accepted: list[tuple[int, int, int]] = []
    for start, end, number in found:
        pseudo = is_pseudo[number]
        if not any(
            (s <= start and end <= e) or ((pseudo or is_pseudo[r]) and start < e and s < end)
            for s, e, r in accepted
        ):
            accepted.append((start, end, number))
    accepted.sort()
    return accepted


def words_before(words: list[str]) -> list[int]:
    """For each position ``i`` of ``words`` (and their end): the word tokens among
    ``words[:i]`` (punctuation does not count)."""
    return list(accumulate((w[0].isalnum() or w[-1].isalnum() for w in words), initial=0))


def trigger_scopes(
    matches: list[tuple[int, int, int]],
    words: list[str],
    rules: ContextRules,
    counts: list[int] | None = None,
) -> list[tuple[int, int, int, int, int]]:
    """For each trigger among ``matches``: ``(start, end, rule, scope_start, scope_end)``.

    The scope is the tokens before (backward), after (forward) or both, cut at ``max_scope``
    word tokens (punctuation does not count, so "no fever, chills, sweats or rash" reaches
    the whole list), at a terminate term that applies to the trigger's label and at the
    sentence end. ``counts``: :func:`words_before` of ``words``, where the caller has it."""
    n, window, all_rules = len(words), rules.max_scope, rules.rules
    back_window = rules.max_scope_backward or window
    ends = [
        (s, e, all_rules[r].label) for s, e, r in matches if all_rules[r].direction == TERMINATE
    ]
    triggers = [m for m in matches if all_rules[m[2]].direction in _TRIGGERS]
    if not triggers:
        return []
    if counts is None:
        counts = words_before(words)
    scopes = []
    for start, end, number in triggers:
        rule = all_rules[number]
        lo, hi = start, end
        if rule.direction != BACKWARD:
            hi = min(bisect_left(counts, counts[end] + window + 1) - 1, n)
            for s, _, label in ends:
                if s >= end and (label is None or label == rule.label):
                    hi = min(hi, s)
                    break
        if rule.direction != FORWARD:
            lo = max(bisect_left(counts, counts[start] - back_window), 0)
            for _, e, label in reversed(ends):
                if e <= start and (label is None or label == rule.label):
                    lo = max(lo, e)
                    break
        scopes.append((start, end, number, lo, hi))
    return scopes


def triggers_in_scope(
    first: int, last: int, scopes: list[tuple[int, int, int, int, int]]
) -> list[tuple[int, int, bool]]:
    """Every trigger whose scope holds a chunk on tokens ``first..last`` (inclusive, sentence
    positions; they may run past the sentence): ``(rule number, distance in tokens, whether
    the trigger comes before the chunk)``. The chunk's own tokens are never its trigger."""
    found = []
    for start, end, number, lo, hi in scopes:
        if start <= last and first < end:  # the chunk's own tokens: not its trigger
            continue
        if first >= hi or last < lo:  # out of scope
            continue
        before = first >= end
        found.append((number, first - end if before else start - last - 1, before))
    return found


def best_trigger(
    first: int, last: int, scopes: list[tuple[int, int, int, int, int]], rules: ContextRules
) -> tuple[tuple[int, int], int] | None:
    """The trigger that decides a chunk on tokens ``first..last`` (inclusive, sentence
    positions; they may run past the sentence): ``(sort key, rule number)``, or None."""
    best: tuple[tuple[int, int], int] | None = None
    rank, nearest, all_rules = rules.rank, rules.priority is None, rules.rules
    for number, distance, _ in triggers_in_scope(first, last, scopes):
        label_rank = rank[all_rules[number].label]  # type: ignore[index]
        key = (distance, label_rank) if nearest else (label_rank, distance)
        if best is None or key < best[0]:
            best = (key, number)
    return best


def decide(
    first: int, last: int, scopes: list[tuple[int, int, int, int, int]], rules: ContextRules
) -> tuple[str, int]:
    """The label of a chunk on tokens ``first..last`` and the number of the deciding rule
    (-1: none, ``present``)."""
    best = best_trigger(first, last, scopes, rules)
    if best is None:
        return PRESENT, -1
    return rules.rules[best[1]].label, best[1]  # type: ignore[return-value]


def assert_sentence(
    words: list[str], chunks: list[tuple[int, int]], rules: ContextRules
) -> list[tuple[str, int]]:
    """Labels (and deciding rule numbers) of chunks given as inclusive token positions in
    one sentence's lowercased ``words``. The plain-Python core, for tests and notebooks."""
    scopes = trigger_scopes(find_triggers(words, rules), words, rules)
    return [decide(first, last, scopes, rules) for first, last in chunks]


# -- the batch function -------------------------------------------------------------------


@dataclass
class ChunkContexts:
    """What the rules see of every chunk of a batch (flat, in the chunks' order): the label
    the rules give it and the deciding rule (-1: none) and the row-local number of its first
    token's sentence (-1: none).

    With ``collect`` (:func:`chunk_contexts`), also every trigger whose scope (by the
    collecting rules' scopes) holds a chunk, as flat arrays ``trigger_chunk``,
    ``trigger_rule``, ``trigger_distance`` (tokens between) and ``trigger_before``; and the
    lowercased tokens of the sentences that hold chunks, ``words``, with each chunk's
    positions there: ``first`` and ``last`` (its tokens; -1: no token), ``sentence_start``
    (its first token's sentence) and ``sentence_end`` (exclusive: its last token's
    sentence)."""

    labels: list[str]
    deciding: np.ndarray
    token_sentence: np.ndarray
    trigger_chunk: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    trigger_rule: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    trigger_distance: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    trigger_before: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    words: list[str] = field(default_factory=list)
    first: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    last: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    sentence_start: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    sentence_end: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    def left(self, chunk: int, window: int) -> list[str]:
        """At most ``window`` words before a chunk, within its sentence."""
        first = int(self.first[chunk])
        if first < 0:
            return []
        return self.words[max(int(self.sentence_start[chunk]), first - window) : first]

    def inside(self, chunk: int) -> list[str]:
        first, last = int(self.first[chunk]), int(self.last[chunk])
        return self.words[first : last + 1] if first >= 0 else []

    def right(self, chunk: int, window: int) -> list[str]:
        """At most ``window`` words after a chunk, within its sentence."""
        last = int(self.last[chunk])
        if last < 0:
            return []
        return self.words[last + 1 : min(int(self.sentence_end[chunk]), last + 1 + window)]

    def triggers(self, chunk: int) -> list[tuple[int, int, bool]]:
        """The triggers in scope of a chunk: ``(rule number, distance, before)``."""
        at = np.flatnonzero(self.trigger_chunk == chunk)
        return list(
            zip(
                self.trigger_rule[at].tolist(),
                self.trigger_distance[at].tolist(),
                self.trigger_before[at].tolist(),
                strict=True,
            )
        )


def _batches(
    sentences: pa.Array, tokens: pa.Array, chunks: pa.Array
) -> tuple[AnnotationBatch, AnnotationBatch, AnnotationBatch]:
    chunk_batch = AnnotationBatch(chunks)
    token_batch = AnnotationBatch(tokens)
    sentence_batch = AnnotationBatch(sentences)
    n_rows = chunk_batch.num_rows
    if token_batch.num_rows != n_rows or sentence_batch.num_rows != n_rows:
        raise ValueError(
            f"sentences, tokens and chunks must have as many rows: {sentence_batch.num_rows}, "
            f"{token_batch.num_rows}, {n_rows}"
        )
    return sentence_batch, token_batch, chunk_batch


def chunk_contexts(
    sentences: pa.Array,
    tokens: pa.Array,
    chunks: pa.Array,
    rules: ContextRules,
    collect: ContextRules | None = None,
) -> ChunkContexts:
    """The rules' view of every chunk, as :func:`assert_chunks` decides (same arguments);
    with ``collect`` (the same rules, perhaps with other scopes) also the triggers in their
    scopes and the words of the chunks' sentences (see :class:`ChunkContexts`: the features
    of :mod:`sparkner.assertion.classifier`)."""
    sentence_batch, token_batch, chunk_batch = _batches(sentences, tokens, chunks)
    count = len(chunk_batch)
    contexts = ChunkContexts(
        labels=[PRESENT] * count,
        deciding=np.full(count, -1, dtype=np.int64),
        token_sentence=np.full(count, -1, dtype=np.int64),
    )
    if collect is not None:
        if collect.rules != rules.rules:
            raise ValueError("collect must hold the same rules (other settings only)")
        for name in ("first", "last", "sentence_start", "sentence_end"):
            setattr(contexts, name, np.full(count, -1, dtype=np.int64))
    if count and len(token_batch):
        _label_chunks(sentence_batch, token_batch, chunk_batch, rules, contexts, collect)
    return contexts


def assert_chunks(
    sentences: pa.Array, tokens: pa.Array, chunks: pa.Array, rules: ContextRules
) -> pa.Array:
    """One ``assertion`` annotation per chunk, for a batch of rows (one note per row).

    Inputs are ``list<annotation>`` arrays with one list per row: ``document`` sentences,
    ``token`` tokens and ``chunk`` chunks. Each output annotation has the chunk's begin and
    end, the label as ``result``, and metadata ``chunk`` (the chunk's index in the row: its
    ``chunk`` metadata, else its position), ``sentence`` (the chunk's, else its first
    token's), ``confidence`` (the probability of the label under the model that chose it;
    rules are deterministic, so ``1.0000``) and ``trigger`` (the number of the deciding rule
    in ``rules.rules``, ``-1`` for none). No text of the note is copied anywhere.

    A chunk's tokens are the tokens that overlap it; its sentence is the sentence annotation
    that holds its tokens (tokens outside every sentence form one sentence per run). A chunk
    with no token, or of an entity class in ``rules.unasserted_entities``, is ``present``;
    one over two sentences gets the triggers of both.
    """
    contexts = chunk_contexts(sentences, tokens, chunks, rules)
    count = len(contexts.labels)
    return assertion_annotations(
        AnnotationBatch(chunks),
        contexts,
        pa.array(contexts.labels, pa.string()),
        pa.repeat(pa.scalar(RULE_CONFIDENCE, pa.string()), count),
    )


def assertion_annotations(
    chunk_batch: AnnotationBatch,
    contexts: ChunkContexts,
    labels: pa.Array,
    confidence: pa.Array,
) -> pa.Array:
    """The ``assertion`` column of :func:`assert_chunks`: one annotation per chunk with the
    chunk's span, ``labels`` as results and metadata ``chunk``, ``sentence``, ``confidence``
    and ``trigger`` (the rules' deciding rule)."""
    count = len(chunk_batch)
    chunk_rows = chunk_batch.row_of()
    position = np.arange(count) - chunk_batch.row_offsets[chunk_rows]
    chunk_index = pc.coalesce(chunk_batch.metadata("chunk"), _strings(position))
    sentence = pc.coalesce(
        chunk_batch.metadata("sentence"), _strings(np.maximum(contexts.token_sentence, 0))
    )
    return build_annotations(
        ASSERTION,
        chunk_batch.row_offsets,
        chunk_batch.begin,
        chunk_batch.end,
        labels,
        metadata={
            "chunk": chunk_index,
            "sentence": sentence,
            "confidence": confidence,
            "trigger": _strings(contexts.deciding),
        },
    )


def _strings(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())


def _label_chunks(
    sentence_batch: AnnotationBatch,
    token_batch: AnnotationBatch,
    chunk_batch: AnnotationBatch,
    rules: ContextRules,
    contexts: ChunkContexts,
    collect: ContextRules | None,
) -> None:
    """Fill ``contexts`` in place (its triggers and words only with ``collect``)."""
    labels, deciding, token_sentence = contexts.labels, contexts.deciding, contexts.token_sentence
    # One number line for all rows: row * span + offset keeps rows apart and in order.
    span = 2 + int(
        max(
            token_batch.end.max(initial=0),
            chunk_batch.end.max(initial=0),
            sentence_batch.end.max(initial=0),
            0,
        )
    )
    t_rows = token_batch.row_of()
    t_begin = t_rows * span + token_batch.begin
    t_end = t_rows * span + token_batch.end
    sorting = np.argsort(t_begin, kind="stable")
    order: np.ndarray | None = None  # None: the tokens are in order already
    if not (sorting == np.arange(len(sorting))).all():
        order = sorting
        t_begin, t_end, t_rows = t_begin[order], t_end[order], t_rows[order]
    segment, local_sentence = _token_segments(sentence_batch, t_rows, t_begin, span)
    c_rows = chunk_batch.row_of()
    c_begin = c_rows * span + chunk_batch.begin
    c_end = c_rows * span + chunk_batch.end
    # Running maximum: with overlapping tokens the ends need not be sorted.
    first = np.searchsorted(np.maximum.accumulate(t_end), c_begin, side="left")
    last = np.searchsorted(t_begin, c_end, side="right") - 1
    asserted = first <= last
    token_sentence[asserted] = local_sentence[first[asserted]]
    if rules.unasserted_entities:
        skipped = pc.is_in(
            chunk_batch.metadata("entity"),
            value_set=pa.array(rules.unasserted_entities, pa.string()),
        )
        asserted &= ~pc.fill_null(skipped, False).to_numpy(zero_copy_only=False)
    has_tokens = np.flatnonzero(asserted)
    if len(has_tokens) == 0:
        return
    seg_starts = np.flatnonzero(np.concatenate([[True], segment[1:] != segment[:-1]]))
    seg_bounds = np.concatenate([seg_starts, [len(segment)]])
    seg_of_token = np.cumsum(np.concatenate([[True], segment[1:] != segment[:-1]])) - 1
    # Which segments each chunk touches (usually one).
    per_segment: dict[int, list[int]] = {}
    for c, lo_seg, hi_seg in zip(
        has_tokens.tolist(),
        seg_of_token[first[has_tokens]].tolist(),
        seg_of_token[last[has_tokens]].tolist(),
        strict=True,
    ):
        for s in range(lo_seg, hi_seg + 1):
            per_segment.setdefault(s, []).append(c)
    needed = np.fromiter(sorted(per_segment), dtype=np.int64, count=len(per_segment))
    words, word_start, starts = _lowered_words(token_batch, order, seg_bounds, needed, rules)
    # Where each sentence's possible match starts are in ``starts``.
    start_cuts = np.searchsorted(starts, [*word_start, len(words)]).tolist()
    starts_list = starts.tolist()
    best: dict[int, tuple[tuple[int, int], int]] = {}
    found_triggers: list[tuple[int, int, int, bool]] = []
    for number, (s, base) in enumerate(zip(needed.tolist(), word_start, strict=True)):
        cut, next_cut = start_cuts[number], start_cuts[number + 1]
        if cut == next_cut:  # no word that starts a rule: no trigger
            continue
        lo, hi = int(seg_bounds[s]), int(seg_bounds[s + 1])
        sentence = words[base : base + hi - lo]
        matches = find_triggers(sentence, rules, [p - base for p in starts_list[cut:next_cut]])
        if not matches:
            continue
        if collect is None:
            scopes = reach = trigger_scopes(matches, sentence, rules)
        else:  # both scopes count the same words
            counts = words_before(sentence)
            scopes = trigger_scopes(matches, sentence, rules, counts)
            reach = trigger_scopes(matches, sentence, collect, counts)
        for c in per_segment[s]:
            # Sentence positions; a chunk over two sentences runs past this one's edges.
            c_first, c_last = int(first[c]) - lo, int(last[c]) - lo
            if collect is not None:
                found_triggers.extend(
                    (c, n, d, b) for n, d, b in triggers_in_scope(c_first, c_last, reach)
                )
            found = best_trigger(c_first, c_last, scopes, rules) if scopes else None
            if found is not None and (c not in best or found[0] < best[c][0]):
                best[c] = found
    for c, (_, number) in best.items():
        labels[c] = rules.rules[number].label  # type: ignore[assignment]
        deciding[c] = number
    if collect is not None:
        if found_triggers:
            flat = np.array(found_triggers, dtype=np.int64)
            contexts.trigger_chunk, contexts.trigger_rule = flat[:, 0], flat[:, 1]
            contexts.trigger_distance, contexts.trigger_before = flat[:, 2], flat[:, 3] > 0
        # Positions in ``words``, which holds the needed segments one after another (a
        # chunk's segments are all needed, so its words are contiguous there).
        start_of = np.zeros(len(seg_bounds), dtype=np.int64)
        start_of[needed] = word_start
        seg_first, seg_last = seg_of_token[first[has_tokens]], seg_of_token[last[has_tokens]]
        contexts.words = words
        contexts.first[has_tokens] = start_of[seg_first] + first[has_tokens] - seg_bounds[seg_first]
        contexts.last[has_tokens] = start_of[seg_last] + last[has_tokens] - seg_bounds[seg_last]
        contexts.sentence_start[has_tokens] = start_of[seg_first]
        contexts.sentence_end[has_tokens] = (
            start_of[seg_last] + seg_bounds[seg_last + 1] - seg_bounds[seg_last]
        )


def _token_segments(
    sentence_batch: AnnotationBatch, t_rows: np.ndarray, t_begin: np.ndarray, span: int
) -> tuple[np.ndarray, np.ndarray]:
    """A segment id per token (equal ids in a run = one sentence) and the row-local number
    of the token's sentence (-1 outside every sentence)."""
    n_sent = len(sentence_batch)
    s_rows = sentence_batch.row_of()
    s_begin = s_rows * span + sentence_batch.begin
    s_end = s_rows * span + sentence_batch.end
    s_order = np.argsort(s_begin, kind="stable")
    s_begin, s_end, s_rows = s_begin[s_order], s_end[s_order], s_rows[s_order]
    j = np.searchsorted(s_begin, t_begin, side="right") - 1
    jc = np.clip(j, 0, max(n_sent - 1, 0))
    inside = (j >= 0) & (n_sent > 0)
    if n_sent:
        inside &= (s_rows[jc] == t_rows) & (t_begin <= s_end[jc])
    # Outside every sentence: one pseudo-sentence per row (runs split further by position).
    segment = np.where(inside, jc, n_sent + t_rows)
    local = np.full(len(t_begin), -1, dtype=np.int64)
    if n_sent:
        row_first = sentence_batch.row_offsets[:-1]
        local_number = s_order - row_first[s_rows]  # position in its row's sentence list
        local = np.where(inside, local_number[jc], -1)
    return segment, local


# From this many words on, one Arrow set lookup finds the words that may start a match faster
# than a Python loop does (the Arrow call first builds its set of the rules' first words).
_ARROW_LOOKUP_WORDS = 1000


def _lowered_words(
    token_batch: AnnotationBatch,
    order: np.ndarray | None,
    seg_bounds: np.ndarray,
    needed: np.ndarray,
    rules: ContextRules,
) -> tuple[list[str], list[int], np.ndarray]:
    """Lowercased tokens of the needed segments only (one Arrow take, one conversion), where
    each segment starts in that list, and the positions there of the words that may start a
    rule's match (:attr:`ContextRules.first_words`), in order."""
    starts = seg_bounds[needed]
    lengths = seg_bounds[needed + 1] - starts
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    picks = np.repeat(starts - offsets[:-1], lengths) + np.arange(offsets[-1])
    if order is not None:
        picks = order[picks]
    texts = pc.take(token_batch.annotations.field("result"), pa.array(picks))
    lowered = pc.replace_substring(pc.utf8_lower(pc.fill_null(texts, "")), "\u2019", "'")
    words = lowered.to_pylist()
    if len(words) >= _ARROW_LOOKUP_WORDS:
        may_start = pc.is_in(lowered, value_set=rules.first_words)
        found = np.flatnonzero(may_start.to_numpy(zero_copy_only=False))
    else:
        index = rules.index
        found = np.array([i for i, word in enumerate(words) if word in index], dtype=np.int64)
    return words, offsets[:-1].tolist(), found
