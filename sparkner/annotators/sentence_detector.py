"""SentenceDetector: rule-based sentence boundaries tuned for clinical notes.

Clinical notes are not prose: section headers ("HISTORY OF PRESENT ILLNESS:", MTSamples'
".,MEDICATIONS:,"), numbered and bulleted lists, hard line breaks that do or do not end a
sentence, and abbreviations ("Dr.", "b.i.d.", "p.o.", "e.g.", "vs.") all need rules.
"""

from __future__ import annotations

from functools import partial
from typing import Any, ClassVar

from pyspark.ml.param import TypeConverters

from sparkner.core.annotation import DOCUMENT
from sparkner.core.params import (
    HasMaxLength,
    HasMinLength,
    at_least,
    declare,
    one_of,
    regular_expressions,
    to_int,
    to_list_of,
)
from sparkner.runtime.udf import BatchFunction
from sparkner.stages.stage import AnnotatorTransformer, roles
from sparkner.text.sentences import BOUND_STRATEGIES, SentenceRules, detect_sentences


class SentenceDetector(AnnotatorTransformer, HasMinLength, HasMaxLength):
    """Splits ``document`` annotations into one ``document`` annotation per sentence."""

    input_roles = roles(document=DOCUMENT)
    output_annotator_type = DOCUMENT
    stage_defaults: ClassVar[dict[str, Any]] = {"inputCols": ["document"], "outputCol": "sentence"}

    useAbbreviations = declare(
        "useAbbreviations",
        "whether known abbreviations ('Dr.', 'e.g.') never end a sentence",
        TypeConverters.toBoolean,
        default=SentenceRules.use_abbreviations,
    )
    abbreviations = declare(
        "abbreviations",
        "abbreviations (lower case, without the final period) that never end a sentence",
        to_list_of(lambda a: a.lower().rstrip(".")),
        default=list(SentenceRules.abbreviations),
    )
    detectLists = declare(
        "detectLists",
        "whether numbered and bulleted list items start new sentences",
        TypeConverters.toBoolean,
        default=SentenceRules.detect_lists,
    )
    detectHeaders = declare(
        "detectHeaders",
        "whether ALL-CAPS section headers ('MEDICATIONS:') are sentences of their own",
        TypeConverters.toBoolean,
        default=SentenceRules.detect_headers,
    )
    customBounds = declare(
        "customBounds",
        "regular expressions that always separate sentences",
        TypeConverters.toListString,
        regular_expressions,
        default=[],
    )
    customBoundsStrategy = declare(
        "customBoundsStrategy",
        "what happens to a custom bound's text: 'none' (belongs to no sentence), 'append' "
        "(ends the sentence before it) or 'prepend' (starts the sentence after it)",
        TypeConverters.toString,
        one_of(BOUND_STRATEGIES),
        default=SentenceRules.custom_bounds_strategy,
    )
    useCustomBoundsOnly = declare(
        "useCustomBoundsOnly",
        "whether only the custom bounds separate sentences",
        TypeConverters.toBoolean,
        default=SentenceRules.use_custom_bounds_only,
    )
    splitLength = declare(
        "splitLength",
        "sentences longer than this many characters are cut at whitespace (0: never)",
        to_int,
        at_least(0),
        default=SentenceRules.split_length,
    )

    def rules(self) -> SentenceRules:
        return SentenceRules(
            use_abbreviations=self.getOrDefault(self.useAbbreviations),
            abbreviations=tuple(self.getOrDefault(self.abbreviations)),
            detect_lists=self.getOrDefault(self.detectLists),
            detect_headers=self.getOrDefault(self.detectHeaders),
            custom_bounds=tuple(self.getOrDefault(self.customBounds)),
            custom_bounds_strategy=self.getOrDefault(self.customBoundsStrategy),
            use_custom_bounds_only=self.getOrDefault(self.useCustomBoundsOnly),
            split_length=self.getOrDefault(self.splitLength),
            min_length=self.getOrDefault(self.minLength),
            max_length=self.getOrDefault(self.maxLength),
        )

    def batch_function(self) -> BatchFunction:
        return partial(detect_sentences, rules=self.rules())
