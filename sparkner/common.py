"""What Spark NLP users import from ``sparknlp.common``: the annotation type and ``ReadAs``."""

from sparkner.annotation import Annotation


class ReadAs:
    """How a resource file is read (Spark NLP's ``ReadAs``): ``TEXT`` or ``BINARY``, e.g.
    ``WordEmbeddings().setStoragePath(path, ReadAs.TEXT)``."""

    TEXT = "TEXT"
    BINARY = "BINARY"


__all__ = ["Annotation", "ReadAs"]
