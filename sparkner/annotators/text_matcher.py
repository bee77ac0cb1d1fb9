"""TextMatcher / TextMatcherModel: phrases from a file, found over the tokens as ``chunk``
annotations (Spark NLP's ``TextMatcher``, inputs document and token).

``TextMatcher().setEntities("drugs.txt", ReadAs.TEXT)`` reads the phrases (one a line) when
set, so a saved stage keeps them. Each occurrence is a chunk whose metadata holds ``entity``
(``setEntityValue``, default ``entity``), ``sentence`` and ``chunk``; ``setCaseSensitive``
(default True, as in Spark NLP), ``setMergeOverlapping`` (default False: overlapping
occurrences are all chunks) and ``setBuildFromTokens`` (phrases split at whitespace rather
than by sparkner's tokenizer) as in Spark NLP. For many classes at once, the bundled clinical
terms and annotator type ``lexicon``, see :class:`LexiconMatcherModel`.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, overload

from pyspark.ml.param import TypeConverters
from pyspark.sql import DataFrame

from sparkner.core.annotation import CHUNK, DOCUMENT, TOKEN
from sparkner.core.params import declare, no_empty_strings, non_empty
from sparkner.lexicon.phrases import PhraseSet, match_phrases, read_phrases
from sparkner.runtime.udf import BatchFunction
from sparkner.stages.stage import AnnotatorTransformer, roles

if TYPE_CHECKING:
    from pyspark.ml._typing import ParamMap


def check_text_resource(setter: str, read_as: str, options: dict[str, str] | None) -> None:
    """Spark NLP's ``ReadAs.TEXT`` with a text format is the one resource kind read here."""
    if str(read_as).upper() != "TEXT":
        raise ValueError(f"{setter}: read_as must be ReadAs.TEXT ('TEXT'), got {read_as!r}")
    if options and str(options.get("format", "text")).lower() != "text":
        raise ValueError(f"{setter}: options format must be 'text', got {options}")


class TextMatcher(AnnotatorTransformer):
    """Finds the phrases of ``entities`` in the tokens (inputs: document, token)."""

    input_roles = roles(document=DOCUMENT, token=TOKEN)
    output_annotator_type = CHUNK
    stage_defaults: ClassVar[dict[str, Any]] = {
        "inputCols": ["document", "token"],
        "outputCol": "entity",
    }

    phrases = declare(
        "phrases",
        "the phrases to find (setEntities reads them from a file)",
        TypeConverters.toListString,
        no_empty_strings,
        default=[],
    )
    entities = declare(
        "entities",
        "the file the phrases were read from (one a line)",
        TypeConverters.toString,
        non_empty,
    )
    caseSensitive = declare(
        "caseSensitive",
        "whether phrases match only with the same letter case",
        TypeConverters.toBoolean,
        default=True,
    )
    mergeOverlapping = declare(
        "mergeOverlapping",
        "whether overlapping occurrences are joined into one chunk",
        TypeConverters.toBoolean,
        default=False,
    )
    entityValue = declare(
        "entityValue",
        "the value of every chunk's metadata 'entity'",
        TypeConverters.toString,
        non_empty,
        default="entity",
    )
    buildFromTokens = declare(
        "buildFromTokens",
        "whether phrases are split into tokens at whitespace (else by sparkner's tokenizer)",
        TypeConverters.toBoolean,
        default=False,
    )

    def setEntities(
        self, path: str, read_as: str = "TEXT", options: dict[str, str] | None = None
    ) -> TextMatcher:
        """Read the phrases of a UTF-8 text file, one a line (Spark NLP's
        ``setEntities(path, ReadAs.TEXT)``); errors name the file and line."""
        check_text_resource("setEntities", read_as, options)
        found = read_phrases(path)
        self._set(entities=str(path))
        return self.setPhrases(found)

    def phrase_set(self) -> PhraseSet:
        return PhraseSet(
            tuple(self.getOrDefault(self.phrases)),
            case_sensitive=self.getOrDefault(self.caseSensitive),
            build_from_tokens=self.getOrDefault(self.buildFromTokens),
        )

    def output_labels(self, input_labels: Any) -> tuple[str, ...] | None:
        return (self.getOrDefault(self.entityValue),)

    def batch_function(self) -> BatchFunction:
        return partial(
            match_phrases,
            phrases=self.phrase_set(),
            merge_overlapping=self.getOrDefault(self.mergeOverlapping),
            entity=self.getOrDefault(self.entityValue),
        )

    @overload
    def fit(self, dataset: DataFrame, params: ParamMap | None = None) -> TextMatcherModel: ...

    @overload
    def fit(
        self, dataset: DataFrame, params: list[ParamMap] | tuple[ParamMap, ...]
    ) -> list[TextMatcherModel]: ...

    def fit(
        self,
        dataset: DataFrame,
        params: ParamMap | list[ParamMap] | tuple[ParamMap, ...] | None = None,
    ) -> TextMatcherModel | list[TextMatcherModel]:
        """A :class:`TextMatcherModel` with these params (Spark NLP's TextMatcher is an
        estimator); the inputs are checked against ``dataset``. A TextMatcher also works as
        a transformer in a Pipeline."""
        if isinstance(params, list | tuple):
            return [self.fit(dataset, p) for p in params]
        stage = self.copy(params) if params else self
        stage.checked_inputs(dataset.schema)
        return stage._copyValues(TextMatcherModel())


class TextMatcherModel(TextMatcher):
    """A fitted TextMatcher (what ``TextMatcher().fit(df)`` returns): the same phrases."""
