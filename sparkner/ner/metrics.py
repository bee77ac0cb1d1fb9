"""NER metrics: entity-level (strict and relaxed) and token-level precision, recall and F1.

- strict: a predicted entity is right when a gold entity has exactly its span and type;
- relaxed: when it overlaps a gold entity of the same type (recall likewise: a gold entity
  is found when an overlapping prediction of its type exists);
- token: per tag, over tokens, as the reference product's training logs report it.

Micro averages pool the counts of all types; macro averages the per-type F1.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sparkner.ner.tags import tag_spans

Span = tuple[int, int, str]


@dataclass
class Scores:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
        }


@dataclass
class Report:
    """Per-type scores with micro and macro averages."""

    by_type: dict[str, Scores] = field(default_factory=dict)

    @property
    def micro(self) -> Scores:
        total = Scores()
        for s in self.by_type.values():
            total.tp, total.fp, total.fn = total.tp + s.tp, total.fp + s.fp, total.fn + s.fn
        return total

    @property
    def macro_f1(self) -> float:
        return sum(s.f1 for s in self.by_type.values()) / len(self.by_type) if self.by_type else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "micro": self.micro.as_dict(),
            "macro_f1": round(self.macro_f1, 4),
            "by_type": {k: v.as_dict() for k, v in sorted(self.by_type.items())},
        }


@dataclass
class Evaluation:
    strict: Report
    relaxed: Report
    token: Report

    def as_dict(self) -> dict[str, object]:
        return {
            "strict": self.strict.as_dict(),
            "relaxed": self.relaxed.as_dict(),
            "token": self.token.as_dict(),
        }

    def table(self) -> str:
        """A plain-text table of strict and relaxed entity scores per type."""
        lines = [f"{'type':<16}{'strict P':>9}{'R':>7}{'F1':>7}{'relaxed P':>11}{'R':>7}{'F1':>7}"]
        types = sorted(set(self.strict.by_type) | set(self.relaxed.by_type))
        rows = [
            (t, self.strict.by_type.get(t, Scores()), self.relaxed.by_type.get(t, Scores()))
            for t in types
        ]
        rows.append(("micro", self.strict.micro, self.relaxed.micro))
        for name, s, r in rows:
            lines.append(
                f"{name:<16}{s.precision:>9.4f}{s.recall:>7.4f}{s.f1:>7.4f}"
                f"{r.precision:>11.4f}{r.recall:>7.4f}{r.f1:>7.4f}"
            )
        lines.append(
            f"{'macro F1':<16}{'':>14}{self.strict.macro_f1:>7.4f}{'':>18}"
            f"{self.relaxed.macro_f1:>7.4f}"
        )
        return "\n".join(lines)


def _scores(report: Report, entity: str) -> Scores:
    return report.by_type.setdefault(entity, Scores())


def evaluate_spans(
    gold: Iterable[Sequence[Span]], predicted: Iterable[Sequence[Span]]
) -> tuple[Report, Report]:
    """Strict and relaxed reports from spans (any units: token or character offsets)."""
    strict, relaxed = Report(), Report()
    for gold_spans, pred_spans in zip(gold, predicted, strict=True):
        gold_set, pred_set = set(gold_spans), set(pred_spans)
        for span in gold_set | pred_set:
            _scores(strict, span[2])
            _scores(relaxed, span[2])
        for span in pred_set:
            _scores(strict, span[2]).tp += span in gold_set
            _scores(strict, span[2]).fp += span not in gold_set
            hit = any(_overlap(span, g) for g in gold_set)
            _scores(relaxed, span[2]).tp += hit
            _scores(relaxed, span[2]).fp += not hit
        for span in gold_set:
            _scores(strict, span[2]).fn += span not in pred_set
            _scores(relaxed, span[2]).fn += not any(_overlap(span, p) for p in pred_set)
    return strict, relaxed


def _overlap(a: Span, b: Span) -> bool:
    return a[2] == b[2] and a[0] <= b[1] and b[0] <= a[1]


def evaluate_tags(
    gold: Iterable[Sequence[str | None]], predicted: Iterable[Sequence[str | None]]
) -> Evaluation:
    """Evaluate tag sequences (one list of tags per sentence, the same tokens in both)."""
    gold_spans: list[list[Span]] = []
    pred_spans: list[list[Span]] = []
    token = Report()
    for number, (g, p) in enumerate(zip(gold, predicted, strict=True)):
        if len(g) != len(p):
            raise ValueError(f"sentence {number}: {len(g)} gold tags but {len(p)} predicted tags")
        gold_spans.append(tag_spans(g))
        pred_spans.append(tag_spans(p))
        counts: Counter[tuple[str, str]] = Counter()
        for gt, pt in zip(g, p, strict=True):
            counts[(gt or "O", pt or "O")] += 1
        for (gt, pt), n in counts.items():
            if gt != "O":
                _scores(token, gt).tp += n * (gt == pt)
                _scores(token, gt).fn += n * (gt != pt)
            if pt != "O" and pt != gt:
                _scores(token, pt).fp += n
    strict, relaxed = evaluate_spans(gold_spans, pred_spans)
    return Evaluation(strict, relaxed, token)


# The kinds of error :func:`error_classes` counts, as the issues report them.
ERROR_CLASSES = ("spurious", "missed", "boundary", "type")


def error_classes(
    gold: Iterable[Sequence[Span]], predicted: Iterable[Sequence[Span]]
) -> Counter[str]:
    """Every strict error counted once, by kind (spans inclusive at both ends):

    - ``boundary``: a prediction overlaps a gold mention of its type but not exactly;
    - ``type``: a prediction overlaps gold mentions of other types only;
    - ``spurious``: a prediction overlaps no gold mention;
    - ``missed``: a gold mention that no prediction overlaps.

    A gold mention overlapped by a wrong prediction is not counted again as missed.
    """
    counts: Counter[str] = Counter({kind: 0 for kind in ERROR_CLASSES})
    for gold_spans, pred_spans in zip(gold, predicted, strict=True):
        gold_set, pred_set = set(gold_spans), set(pred_spans)
        for span in pred_set - gold_set:
            touching = [g for g in gold_set if g[0] <= span[1] and span[0] <= g[1]]
            if any(g[2] == span[2] for g in touching):
                counts["boundary"] += 1
            elif touching:
                counts["type"] += 1
            else:
                counts["spurious"] += 1
        for span in gold_set - pred_set:
            if not any(p[0] <= span[1] and span[0] <= p[1] for p in pred_set):
                counts["missed"] += 1
    return counts
