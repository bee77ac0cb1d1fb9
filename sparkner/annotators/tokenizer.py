"""Tokenizer: clinical-aware tokens within each sentence.

Kept whole: doses and decimals ("2.5", "1,000"), vitals and dates ("120/80", "11/24/2026",
"10:30"), hyphenated terms ("x-ray", "non-small-cell", "71-year-old"), dotted abbreviations
("b.i.d.", "p.o.", "e.g.") and known abbreviations ("Dr.", "vs."). Split off: units glued to
numbers ("10mg" -> "10", "mg"), percent signs, brackets, slashes between words and every other
punctuation mark.
"""

from __future__ import annotations

import os
import re
import sys
import unicodedata
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
from pyspark.ml.param import TypeConverters
from pyspark.sql import DataFrame

from sparkner.annotation import DOCUMENT, TOKEN, AnnotationBatch, build_annotations
from sparkner.annotators.abbreviations import TOKEN_ABBREVIATIONS
from sparkner.params import HasMaxLength, HasMinLength, declare, no_empty_strings, to_list_of
from sparkner.stage import AnnotatorTransformer
from sparkner.udf import BatchFunction


@dataclass(frozen=True)
class TokenRules:
    """The settings of tokenization (hashable, so the compiled pattern can be cached)."""

    exceptions: tuple[str, ...] = ()
    case_sensitive_exceptions: bool = True
    split_chars: tuple[str, ...] = ()
    abbreviations: tuple[str, ...] = TOKEN_ABBREVIATIONS
    min_length: int = 0
    max_length: int = 0


@lru_cache(maxsize=1)
def _combining_marks() -> str:
    """A character-class body of every combining mark (Unicode categories Mn, Mc, Me).

    Python's ``\\w`` leaves them out, so without them "e\\u0301" (a decomposed "é") or any
    Devanagari word would fall apart into letters and lone marks.
    """
    ranges: list[list[int]] = []
    for code in range(sys.maxunicode + 1):
        if unicodedata.category(chr(code)) in ("Mn", "Mc", "Me"):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1][1] = code
            else:
                ranges.append([code, code])
    return "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
        for a, b in ranges
    )


@lru_cache(maxsize=32)
def token_pattern(rules: TokenRules) -> re.Pattern[str]:
    """One regular expression whose matches, left to right, are the tokens."""
    split = set("".join(rules.split_chars))

    def joiners(chars: str) -> str:
        kept = "".join(c for c in chars if c not in split)
        return re.escape(kept) if kept else ""

    number_join = joiners(".,:/")
    hyphen = "-" not in split
    alternatives = []
    exceptions = sorted(set(rules.exceptions) - {""}, key=len, reverse=True)
    if exceptions:
        # An exception ending in a word character must end the word too: "PCR" is no
        # exception in "PCRs" (it would leave "s" as a token of its own).
        body = "|".join(
            re.escape(e) + (r"(?!\w)" if re.match(r"\w", e[-1]) else "") for e in exceptions
        )
        alternatives.append(body if rules.case_sensitive_exceptions else f"(?i:{body})")
    if "." not in split:
        # "b.i.d.", "p.o.", "e.g.": letters each followed by a period.
        alternatives.append(r"(?<![\w.])(?:[A-Za-z]\.){2,}")
        if rules.abbreviations:
            names = "|".join(
                re.escape(a) for a in sorted(set(rules.abbreviations), key=len, reverse=True)
            )
            alternatives.append(rf"(?<![\w.])(?i:{names})\.(?!\w)")
    # Word characters, then any combining marks with more word characters; the cheap
    # non-ASCII lookahead keeps the large mark class off the common path.
    word_rest = rf"\w*(?:(?=[^\x00-\x7f])[{_combining_marks()}]+\w*)*"
    hyphen_tail = rf"(?:-(?=\w)\w{word_rest})*" if hyphen else ""
    number = rf"\d+(?:[{number_join}]\d+)*" if number_join else r"\d+"
    alternatives.append(r"\d+(?:st|nd|rd|th)(?![^\W\d_])")  # ordinals "2nd"
    if hyphen:
        alternatives.append(number + r"(?:-(?=\w)\w+)+")  # "71-year-old", "5-FU"
    alternatives.append(number)  # "10mg" -> "10", then "mg"
    if "." not in split:
        alternatives.append(r"(?<![\w.])\.\d+")  # ".5 mg"
    alternatives.append(r"(?<=\w)['’](?i:s|re|ve|ll|d|m|t)(?!\w)")  # "patient's" -> "'s"
    alternatives.append(rf"[^\W\d_]{word_rest}{hyphen_tail}")
    alternatives.append(rf"[_\d]{word_rest}")
    if "." not in split:  # a split "." separates always, in an ellipsis too
        alternatives.append(r"\.{2,}")  # an ellipsis stays one token
    alternatives.append(r"\S")
    return re.compile("|".join(f"(?:{a})" for a in alternatives))


def tokenize_text(text: str, rules: TokenRules = TokenRules()) -> list[tuple[int, int]]:
    """Token spans of one text as ``(begin, end)`` with ``end`` exclusive."""
    spans = [m.span() for m in token_pattern(rules).finditer(text)]
    if rules.min_length or rules.max_length:
        spans = [(b, e) for b, e in spans if _length_ok(e - b, rules)]
    return spans


def _length_ok(length: int, rules: TokenRules) -> bool:
    return length >= rules.min_length and (rules.max_length <= 0 or length <= rules.max_length)


def tokenize(sentences: pa.Array, rules: TokenRules) -> pa.Array:
    """Tokens of every sentence in a batch, with the sentence's number as metadata."""
    batch = AnnotationBatch(sentences)
    pattern = token_pattern(rules)
    filter_length = bool(rules.min_length or rules.max_length)
    begins: list[int] = []
    results: list[str] = []
    per_sentence = np.zeros(len(batch), dtype=np.int64)
    for i, (text, offset) in enumerate(zip(batch.result, batch.begin.tolist(), strict=True)):
        before = len(begins)
        for m in pattern.finditer(text):
            token = m.group()
            if filter_length and not _length_ok(len(token), rules):
                continue
            begins.append(offset + m.start())
            results.append(token)
        per_sentence[i] = len(begins) - before
    begin = np.asarray(begins, dtype=np.int64)
    end = begin + np.fromiter(map(len, results), dtype=np.int64, count=len(results)) - 1
    row_counts = np.bincount(batch.row_of(), weights=per_sentence, minlength=batch.num_rows)
    row_offsets = np.concatenate([[0], np.cumsum(row_counts.astype(np.int64))])
    sentence = np.repeat(batch.int_metadata("sentence"), per_sentence)
    return build_annotations(TOKEN, row_offsets, begin, end, results, {"sentence": sentence})


class Tokenizer(AnnotatorTransformer, HasMinLength, HasMaxLength):
    """Splits sentence ``document`` annotations into ``token`` annotations."""

    input_annotator_types = (DOCUMENT,)
    output_annotator_type = TOKEN
    stage_defaults: ClassVar[dict[str, Any]] = {"inputCols": ["sentence"], "outputCol": "token"}

    exceptions = declare(
        "exceptions",
        "words or phrases always kept as one token (e.g. 'St. Jude', 'COVID-19 PCR')",
        TypeConverters.toListString, no_empty_strings, default=[],
    )  # fmt: skip
    caseSensitiveExceptions = declare(
        "caseSensitiveExceptions", "whether exceptions match only with the same letter case",
        TypeConverters.toBoolean, default=TokenRules.case_sensitive_exceptions,
    )  # fmt: skip
    splitChars = declare(
        "splitChars",
        "characters that always separate tokens, e.g. ['-'] to split 'x-ray' into 3 tokens",
        TypeConverters.toListString, default=[],
    )  # fmt: skip
    abbreviations = declare(
        "abbreviations",
        "abbreviations (without the final period) kept together with their period",
        to_list_of(lambda a: a.rstrip(".")), default=list(TOKEN_ABBREVIATIONS),
    )  # fmt: skip


    exceptionsPath = declare(
        "exceptionsPath",
        "a UTF-8 text file of exceptions, one a line, read when set and added to exceptions",
        TypeConverters.toString,
    )  # fmt: skip

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

    def fit(self, dataset: DataFrame, params: Any = None) -> Any:
        """A :class:`TokenizerModel` with these params (Spark NLP's Tokenizer is an
        estimator: ``Tokenizer().fit(df)``). The input column is checked against
        ``dataset``; nothing is learnt, so a Tokenizer also works as a transformer in a
        Pipeline. ``params``: a param map applied first, or a list of them (a list of
        models)."""
        if isinstance(params, list | tuple):
            return [self.fit(dataset, p) for p in params]
        stage = self.copy(params) if params else self
        stage.check_input_schema(dataset.schema)
        return stage._copyValues(TokenizerModel())


class TokenizerModel(Tokenizer):
    """A fitted Tokenizer (what ``Tokenizer().fit(df)`` returns): the same params and
    tokens."""


def read_exceptions(path: str | os.PathLike[str]) -> list[str]:
    """The exceptions in a UTF-8 text file, one a line; blank lines are skipped and the
    ends of lines trimmed. A line that is not text is refused with its number."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such exceptions file")
    found: list[str] = []
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8").strip()
            except UnicodeDecodeError as exc:
                raise ValueError(f"{path}, line {number}: not UTF-8 text ({exc.reason})") from None
            bad = next((c for c in line if unicodedata.category(c) in ("Cc", "Cs")), None)
            if bad is not None:
                raise ValueError(
                    f"{path}, line {number}: holds the control character {bad!r}; an exception "
                    f"is one line of text"
                )
            if line:
                found.append(line)
    return found
