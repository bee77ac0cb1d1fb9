"""What Spark NLP users import from ``sparknlp.base``: the DocumentAssembler, the
LightPipeline, the Finisher, the EmbeddingsFinisher and ``ReadAs`` (``from sparkner.base import
*``). sparkner's own plumbing lives in :mod:`sparkner.stages.stage`, :mod:`sparkner.stages.model`,
:mod:`sparkner.core.params`, :mod:`sparkner.runtime.udf` and :mod:`sparkner.runtime.steps`."""

from sparkner.annotators.document_assembler import DocumentAssembler
from sparkner.annotators.finisher import EmbeddingsFinisher, Finisher
from sparkner.apps.light_pipeline import LightPipeline
from sparkner.core.common import ReadAs

__all__ = ["DocumentAssembler", "EmbeddingsFinisher", "Finisher", "LightPipeline", "ReadAs"]
