"""StopWordsCleaner: tokens without the stop words (Spark NLP's ``StopWordsCleaner``, token
-> token).

``setStopWords`` (default: Spark ML's English list, bundled), ``setCaseSensitive`` (default
False). Kept tokens are unchanged (spans, results and metadata).
"""

from __future__ import annotations

from functools import partial
from typing import Any, ClassVar

from pyspark.ml.param import TypeConverters

from sparkner.core.annotation import TOKEN
from sparkner.core.params import declare
from sparkner.runtime.udf import BatchFunction
from sparkner.stages.stage import AnnotatorTransformer, roles
from sparkner.text.normalizing import clean_stop_words, stop_word_set
from sparkner.text.stopwords import ENGLISH_STOP_WORDS


class StopWordsCleaner(AnnotatorTransformer):
    """Drops the stop words from ``token`` annotations (input: token)."""

    input_roles = roles(token=TOKEN)
    output_annotator_type = TOKEN
    stage_defaults: ClassVar[dict[str, Any]] = {
        "inputCols": ["token"],
        "outputCol": "cleanTokens",
    }

    stopWords = declare(
        "stopWords",
        "the words to drop (default: Spark ML's English stop words)",
        TypeConverters.toListString,
        default=list(ENGLISH_STOP_WORDS),
    )
    caseSensitive = declare(
        "caseSensitive",
        "whether stop words match only with the same letter case",
        TypeConverters.toBoolean,
        default=False,
    )

    @staticmethod
    def loadDefaultStopWords(language: str = "english") -> list[str]:
        """The bundled stop words of ``language`` (English only, as bundled)."""
        if language.lower() != "english":
            raise ValueError(f"only the English stop words are bundled, not {language!r}")
        return list(ENGLISH_STOP_WORDS)

    def batch_function(self) -> BatchFunction:
        case_sensitive = self.getOrDefault(self.caseSensitive)
        return partial(
            clean_stop_words,
            stop_words=stop_word_set(self.getOrDefault(self.stopWords), case_sensitive),
            case_sensitive=case_sensitive,
        )
