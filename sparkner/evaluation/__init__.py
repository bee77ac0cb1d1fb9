"""Scoring: entity-level and token-level metrics of a tagger, and of assertions.

- strict: a predicted entity is right when a gold entity has exactly its span and type;
- relaxed: when it overlaps a gold entity of the same type;
- token: per tag, over tokens, as the reference product's training logs report it;
- assertions: per label, on chunks whose span matches a gold span (:func:`score_assertions`);
- :class:`NerDLMetrics`: per entity, as a Spark DataFrame, in the shape of Spark NLP's.
"""

from sparkner.assertion.scoring import AssertionScores, score_assertions
from sparkner.evaluation.dataframe import evaluate_dataframe
from sparkner.evaluation.ner_dl_metrics import NerDLMetrics
from sparkner.ner.metrics import Evaluation, Report, Scores, evaluate_spans, evaluate_tags

__all__ = [
    "AssertionScores",
    "Evaluation",
    "NerDLMetrics",
    "Report",
    "Scores",
    "evaluate_dataframe",
    "evaluate_spans",
    "evaluate_tags",
    "score_assertions",
]
