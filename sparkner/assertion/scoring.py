"""Scoring assertion labels against gold: per-label precision, recall, F1 and accuracy.

Only chunks whose span is exactly a gold span are scored (the usual setting for assertion,
which is judged on gold or gold-matched chunks, so that the tagger's misses do not count as
assertion errors): a predicted chunk with no gold span of the same ``(begin, end)`` and a
gold span with no predicted chunk are counted apart (``unmatched_predictions``,
``unmatched_gold``) and not scored.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

Mention = tuple[int, int, str]


@dataclass(frozen=True)
class LabelScore:
    label: str
    tp: int
    fp: int
    fn: int

    @property
    def support(self) -> int:
        """Gold mentions of this label."""
        return self.tp + self.fn

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / self.support if self.support else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True)
class AssertionScores:
    """Per-label scores (gold labels and predicted labels, sorted) and overall accuracy."""

    labels: tuple[LabelScore, ...]
    correct: int
    total: int  # gold mentions with a predicted chunk: those scored
    unmatched_predictions: int  # predicted chunks with no gold span: not scored
    unmatched_gold: int = 0  # gold mentions with no predicted chunk: not scored

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    def by_label(self) -> dict[str, LabelScore]:
        return {s.label: s for s in self.labels}

    def table(self) -> str:
        """A plain-text table, one line per label, then the accuracy."""
        lines = [f"{'label':<30} {'prec':>7} {'recall':>7} {'F1':>7} {'support':>8}"]
        for s in self.labels:
            lines.append(
                f"{s.label:<30} {s.precision:7.4f} {s.recall:7.4f} {s.f1:7.4f} {s.support:8d}"
            )
        lines.append(f"accuracy {self.accuracy:.4f} ({self.correct}/{self.total} gold mentions)")
        return "\n".join(lines)


def score_assertions(
    gold: Sequence[Sequence[Mention]], predicted: Sequence[Sequence[Mention]]
) -> AssertionScores:
    """Score per-document lists of ``(begin, end, label)``; documents pair up by position.

    Only predictions whose span exactly matches a gold span of the same document are scored
    (see the module docstring). If a span occurs twice in one list, its first label counts.
    """
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold documents but {len(predicted)} predicted")
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    correct = total = unmatched = missed = 0
    for gold_doc, pred_doc in zip(gold, predicted, strict=True):
        truth = _by_span(gold_doc)
        guess = _by_span(pred_doc)
        unmatched += sum(1 for span in guess if span not in truth)
        for span, label in truth.items():
            got = guess.get(span)
            if got is None:
                missed += 1
                continue
            total += 1
            if got == label:
                tp[label] += 1
                correct += 1
            else:
                fn[label] += 1
                fp[got] += 1
    names = sorted(set(tp) | set(fp) | set(fn))
    return AssertionScores(
        tuple(LabelScore(n, tp[n], fp[n], fn[n]) for n in names),
        correct,
        total,
        unmatched,
        missed,
    )


def _by_span(mentions: Sequence[Mention]) -> dict[tuple[int, int], str]:
    spans: dict[tuple[int, int], str] = {}
    for begin, end, label in mentions:
        spans.setdefault((begin, end), label)
    return spans
