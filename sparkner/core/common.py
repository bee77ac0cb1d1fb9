"""Values Spark NLP keeps in ``sparknlp.common`` that stages here use: how a resource file
is read (:class:`ReadAs`) and the vectors' coverage (:class:`CoverageResult`)."""

from dataclasses import dataclass


class ReadAs:
    """How a resource file is read (Spark NLP's ``ReadAs``): ``TEXT`` or ``BINARY``, e.g.
    ``WordEmbeddings().setStoragePath(path, ReadAs.TEXT)``."""

    TEXT = "TEXT"
    BINARY = "BINARY"


@dataclass(frozen=True)
class CoverageResult:
    """How many tokens the word vectors know (``WordEmbeddingsModel.overallCoverage``):
    ``covered`` of ``total``, and ``percentage``, the share covered as a fraction in [0, 1]
    (as in Spark NLP; NaN when there are no tokens)."""

    covered: int
    total: int
    percentage: float
