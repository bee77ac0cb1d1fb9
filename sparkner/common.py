"""What Spark NLP users import from ``sparknlp.common``: the annotation type, ``ReadAs`` and
``CoverageResult``."""

from sparkner.core.annotation import Annotation
from sparkner.core.common import CoverageResult, ReadAs

__all__ = ["Annotation", "CoverageResult", "ReadAs"]
