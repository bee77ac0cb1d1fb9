"""Training-time tools: data splits, corpora readers, recipes for the bundled models.

``from sparkner.training import CoNLL`` as in Spark NLP.
"""

from sparkner.training.conll import CoNLL

__all__ = ["CoNLL"]
