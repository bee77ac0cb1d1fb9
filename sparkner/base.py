"""What Spark NLP users import from ``sparknlp.base``: the DocumentAssembler and the
LightPipeline. sparkner's own plumbing lives in :mod:`sparkner.stage`, :mod:`sparkner.model`,
:mod:`sparkner.params`, :mod:`sparkner.udf` and :mod:`sparkner.steps`."""

from sparkner.annotators.document_assembler import DocumentAssembler
from sparkner.light_pipeline import LightPipeline

__all__ = ["DocumentAssembler", "LightPipeline"]
