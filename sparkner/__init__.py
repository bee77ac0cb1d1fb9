"""sparkner: open clinical named-entity recognition for Apache Spark.

The top-level names are those of the Spark NLP faces (:mod:`sparkner.annotator`,
:mod:`sparkner.base`) plus ``Annotation``, ``start`` and ``version``."""

from sparkner import annotator, base
from sparkner._version import __version__
from sparkner.annotator import *  # noqa: F403  (every annotator, as in sparknlp.annotator)
from sparkner.base import *  # noqa: F403  (the DocumentAssembler, LightPipeline, finishers)
from sparkner.core.annotation import Annotation
from sparkner.runtime.session import start


def version() -> str:
    """sparkner's version (as ``sparknlp.version()``)."""
    return __version__


__all__ = ["Annotation", "__version__", "start", "version"]
__all__ += annotator.__all__
__all__ += [name for name in base.__all__ if name not in annotator.__all__]  # ReadAs: in both
