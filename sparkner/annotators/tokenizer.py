"""Tokenizer: clinical-aware tokens within each sentence.

Kept whole: doses and decimals ("2.5", "1,000"), vitals and dates ("120/80", "11/24/2026",
"10:30"), hyphenated terms ("x-ray", "non-small-cell", "71-year-old"), dotted abbreviations
("b.i.d.", "p.o.", "e.g.") and known abbreviations ("Dr.", "vs."). Split off: units glued to
numbers ("10mg" -> "10", "mg"), percent signs, brackets, slashes between words and every other
punctuation mark. ``setSplitClitics(False)`` keeps "didn't" and "Jane's" whole, as Spark NLP
does; ``setSplitPattern`` cuts tokens at a pattern's matches, the separators dropped.

Setting any of Spark NLP's rule settings (``setTargetPattern``, ``setContextChars``,
``setInfixPatterns`` / ``addInfixPattern``, ``setPrefixPattern``, ``setSuffixPattern``)
tokenizes by Spark NLP's rules instead (:mod:`sparkner.text.rule_tokenizing`): candidates of
the target pattern, each cut by the first prefix + infix + suffix rule that matches, one token
a group; ``splitChars`` then drop their character, as in Spark NLP.
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
from sparkner.text.java_regex import java_regex_problem
from sparkner.text.rule_tokenizing import DEFAULT_CONTEXT_CHARS, DEFAULT_TARGET_PATTERN, RuleSet
from sparkner.text.tokenizing import TokenRules, read_exceptions, tokenize

if TYPE_CHECKING:
    from pyspark.ml._typing import ParamMap


# The params whose setting switches the Tokenizer to Spark NLP's rules.
_SPARK_NLP_RULES = (
    "targetPattern",
    "contextChars",
    "infixPatterns",
    "prefixPattern",
    "suffixPattern",
)


def _infix_problem(values: list[str]) -> str | None:
    if any("(" not in v or ")" not in v for v in values):
        return "must use regex groups (each group is a token)"
    return java_regex_problem(values)


def _anchor_problem(value: str, anchor: str, start: bool) -> str | None:
    if not (value.startswith(anchor) if start else value.endswith(anchor)):
        return f"must {'begin' if start else 'end'} with {anchor}"
    return java_regex_problem(value)


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

    splitClitics = declare(
        "splitClitics",
        'whether clitics are tokens of their own ("didn\'t" -> "didn", "\'t"; the '
        "clinical rules' default, which the bundled taggers were trained with); False keeps "
        "them whole, as Spark NLP does",
        TypeConverters.toBoolean,
        default=TokenRules.split_clitics,
    )
    splitPattern = declare(
        "splitPattern",
        "a regular expression (Java syntax) that cuts tokens inside, the separators dropped "
        "(Spark NLP's; takes priority over splitChars under Spark NLP's rules)",
        TypeConverters.toString,
        java_regex_problem,
    )
    # Spark NLP's rules: setting any of these tokenizes as Spark NLP does (rule_tokenizing).
    targetPattern = declare(
        "targetPattern",
        "Spark NLP's rules: the regular expression of token candidates (Java syntax); setting "
        "it (or another of Spark NLP's rule settings) switches to Spark NLP's rules",
        TypeConverters.toString,
        java_regex_problem,
        default=DEFAULT_TARGET_PATTERN,
    )
    contextChars = declare(
        "contextChars",
        "Spark NLP's rules: characters split off the start and end of a candidate",
        TypeConverters.toListString,
        lambda v: None if all(len(c) == 1 for c in v) else "must hold single characters",
        default=list(DEFAULT_CONTEXT_CHARS),
    )
    infixPatterns = declare(
        "infixPatterns",
        "Spark NLP's rules: regular expressions (Java syntax) with groups, tried in order on "
        "each candidate between prefix and suffix; each group is a token (empty: everything "
        "between the context characters)",
        TypeConverters.toListString,
        _infix_problem,
        default=[],
    )
    prefixPattern = declare(
        "prefixPattern",
        "Spark NLP's rules: a regular expression starting with \\A whose groups are tokens "
        "at the start of a candidate (overrides contextChars there)",
        TypeConverters.toString,
        lambda v: _anchor_problem(v, "\\A", start=True),
    )
    suffixPattern = declare(
        "suffixPattern",
        "Spark NLP's rules: a regular expression ending with \\z whose groups are tokens at "
        "the end of a candidate (overrides contextChars there)",
        TypeConverters.toString,
        lambda v: _anchor_problem(v, "\\z", start=False),
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

    def addInfixPattern(self, value: str) -> Tokenizer:
        """Put a pattern first among the infix patterns (tried before the others)."""
        return self.setInfixPatterns([value, *self.getInfixPatterns()])

    def addContextChars(self, value: str) -> Tokenizer:
        return self.setContextChars([*self.getContextChars(), value])

    def uses_spark_nlp_rules(self) -> bool:
        """Whether any of Spark NLP's rule settings is set (not merely defaulted)."""
        return any(self.isSet(name) for name in _SPARK_NLP_RULES)

    def rules(self) -> TokenRules:
        spark_nlp = None
        if self.uses_spark_nlp_rules():
            spark_nlp = RuleSet(
                target_pattern=self.getOrDefault(self.targetPattern),
                context_chars=tuple(self.getOrDefault(self.contextChars)),
                infix_patterns=tuple(self.getOrDefault(self.infixPatterns)),
                prefix_pattern=self._get_or_none(self.prefixPattern),
                suffix_pattern=self._get_or_none(self.suffixPattern),
            )
        return TokenRules(
            exceptions=tuple(self.getOrDefault(self.exceptions)),
            case_sensitive_exceptions=self.getOrDefault(self.caseSensitiveExceptions),
            split_chars=tuple(self.getOrDefault(self.splitChars)),
            abbreviations=tuple(self.getOrDefault(self.abbreviations)),
            min_length=self.getOrDefault(self.minLength),
            max_length=self.getOrDefault(self.maxLength),
            split_clitics=self.getOrDefault(self.splitClitics),
            split_pattern=self._get_or_none(self.splitPattern),
            spark_nlp=spark_nlp,
        )

    def _get_or_none(self, param: Any) -> Any:
        return self.getOrDefault(param) if self.isDefined(param) else None

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
