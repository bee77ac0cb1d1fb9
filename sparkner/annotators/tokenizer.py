"""Tokenizer: clinical-aware tokens within each sentence.

Kept whole: doses and decimals ("2.5", "1,000"), vitals and dates ("120/80", "11/24/2026",
"10:30"), hyphenated terms ("x-ray", "non-small-cell", "71-year-old"), dotted abbreviations
("b.i.d.", "p.o.", "e.g.") and known abbreviations ("Dr.", "vs."). Split off: units glued to
numbers ("10mg" -> "10", "mg"), percent signs, brackets, slashes between words and every other
punctuation mark.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, overload

from pyspark.ml.param import TypeConverters
from pyspark.sql import DataFrame

from sparkner.core.annotation import DOCUMENT, TOKEN
from sparkner.core.params import HasMaxLength, HasMinLength, declare, no_empty_strings, to_list_of
from sparkner.runtime.udf import BatchFunction
from sparkner.stages.stage import AnnotatorTransformer, roles
from sparkner.text.abbreviations import TOKEN_ABBREVIATIONS
from sparkner.text.tokenizing import TokenRules, read_exceptions, tokenize

if TYPE_CHECKING:
    from pyspark.ml._typing import ParamMap


class Tokenizer(AnnotatorTransformer, HasMinLength, HasMaxLength):
    """Splits sentence ``document`` annotations into ``token`` annotations."""

    input_roles = roles(sentence=DOCUMENT)
    output_annotator_type = TOKEN
    stage_defaults: ClassVar[dict[str, Any]] = {"inputCols": ["sentence"], "outputCol": "token"}

    exceptions = declare(
        "exceptions",
        "words or phrases always kept as one token (e.g. 'St. Jude', 'COVID-19 PCR')",
        TypeConverters.toListString,
        no_empty_strings,
        default=[],
    )
    caseSensitiveExceptions = declare(
        "caseSensitiveExceptions",
        "whether exceptions match only with the same letter case",
        TypeConverters.toBoolean,
        default=TokenRules.case_sensitive_exceptions,
    )
    splitChars = declare(
        "splitChars",
        "characters that always separate tokens, e.g. ['-'] to split 'x-ray' into 3 tokens",
        TypeConverters.toListString,
        default=[],
    )
    abbreviations = declare(
        "abbreviations",
        "abbreviations (without the final period) kept together with their period",
        to_list_of(lambda a: a.rstrip(".")),
        default=list(TOKEN_ABBREVIATIONS),
    )

    exceptionsPath = declare(
        "exceptionsPath",
        "a UTF-8 text file of exceptions, one a line, read when set and added to exceptions",
        TypeConverters.toString,
    )

    def setExceptionsPath(
        self, path: str, read_as: str = "TEXT", options: dict[str, str] | None = None
    ) -> Tokenizer:
        """Add the exceptions in a text file, one a line (blank lines skipped), as Spark NLP's
        ``setExceptionsPath(path, ReadAs.TEXT)``. The file is read now and its exceptions
        join ``exceptions`` (so a saved stage keeps them); errors name the file and line."""
        if str(read_as).upper() != "TEXT":
            raise ValueError(
                f"setExceptionsPath: read_as must be ReadAs.TEXT ('TEXT'), got {read_as!r}"
            )
        if options and str(options.get("format", "text")).lower() != "text":
            raise ValueError(f"setExceptionsPath: options format must be 'text', got {options}")
        found = read_exceptions(path)
        known = list(self.getExceptions())
        self._set(exceptionsPath=str(path))
        return self.setExceptions(known + [e for e in found if e not in known])

    def addException(self, value: str) -> Tokenizer:
        return self.setExceptions([*self.getExceptions(), value])

    def addSplitChars(self, value: str) -> Tokenizer:
        return self.setSplitChars([*self.getSplitChars(), value])

    def rules(self) -> TokenRules:
        return TokenRules(
            exceptions=tuple(self.getOrDefault(self.exceptions)),
            case_sensitive_exceptions=self.getOrDefault(self.caseSensitiveExceptions),
            split_chars=tuple(self.getOrDefault(self.splitChars)),
            abbreviations=tuple(self.getOrDefault(self.abbreviations)),
            min_length=self.getOrDefault(self.minLength),
            max_length=self.getOrDefault(self.maxLength),
        )

    def batch_function(self) -> BatchFunction:
        return partial(tokenize, rules=self.rules())

    @overload
    def fit(self, dataset: DataFrame, params: ParamMap | None = None) -> TokenizerModel: ...

    @overload
    def fit(
        self, dataset: DataFrame, params: list[ParamMap] | tuple[ParamMap, ...]
    ) -> list[TokenizerModel]: ...

    def fit(
        self,
        dataset: DataFrame,
        params: ParamMap | list[ParamMap] | tuple[ParamMap, ...] | None = None,
    ) -> TokenizerModel | list[TokenizerModel]:
        """A :class:`TokenizerModel` with these params (Spark NLP's Tokenizer is an
        estimator: ``Tokenizer().fit(df)``). The input column is checked against
        ``dataset``; nothing is learnt, so a Tokenizer also works as a transformer in a
        Pipeline. ``params``: a param map applied first, or a list of them (a list of
        models)."""
        if isinstance(params, list | tuple):
            return [self.fit(dataset, p) for p in params]
        stage = self.copy(params) if params else self
        stage.checked_inputs(dataset.schema)
        return stage._copyValues(TokenizerModel())


class TokenizerModel(Tokenizer):
    """A fitted Tokenizer (what ``Tokenizer().fit(df)`` returns): the same params and
    tokens."""
