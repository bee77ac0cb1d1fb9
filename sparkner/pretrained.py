"""What Spark NLP users import from ``sparknlp.pretrained``: ``PretrainedPipeline``
(``from sparkner.pretrained import PretrainedPipeline``). The pipelines themselves are in
:mod:`sparkner.apps.pretrained`."""

from sparkner.apps.pretrained import PretrainedPipeline, available_pipelines

__all__ = ["PretrainedPipeline", "available_pipelines"]
