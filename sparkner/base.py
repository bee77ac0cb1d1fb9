"""What Spark NLP users import from ``sparknlp.base``: the DocumentAssembler, the
LightPipeline, the Finisher and the EmbeddingsFinisher (``from sparkner.base import *``).
sparkner's own plumbing lives in :mod:`sparkner.stage`, :mod:`sparkner.model`,
:mod:`sparkner.params`, :mod:`sparkner.udf` and :mod:`sparkner.steps`."""

from sparkner.annotators.document_assembler import DocumentAssembler
from sparkner.annotators.finisher import EmbeddingsFinisher, Finisher
from sparkner.light_pipeline import LightPipeline

__all__ = ["DocumentAssembler", "EmbeddingsFinisher", "Finisher", "LightPipeline"]
