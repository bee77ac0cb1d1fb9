"""ChunkMergeApproach / ChunkMergeModel: chunk columns merged into one (Spark NLP for
Healthcare's ``ChunkMergeApproach``), e.g. a NER converter's chunks with a TextMatcher's or a
RegexMatcher's: ``setInputCols(["ner_chunk", "drug_chunk"])``, two to eight chunk columns, the
first column first in precedence.

``setMergeOverlapping`` (default True), ``setSelectionStrategy`` (``Sequential``, the default,
or ``DiverseLonger``), ``setOrderingFeatures`` (``ChunkBegin``, ``ChunkLength``,
``ChunkPrecedence``, ``ChunkConfidence``), ``setChunkPrecedenceValuePrioritization`` (the
entities that win an overlap, first first; a value ``"DRUG,drug_chunk"`` counts by its first
field), ``setWhiteList`` / ``setBlackList`` (entities), ``setDefaultConfidence`` and
``setReplaceDictResource(path, ReadAs.TEXT, {"delimiter": ","})`` (``entity,new_entity``
lines: chunks' entities renamed) as in Spark NLP; see :mod:`sparkner.ner.chunk_merge` for the
rules. Each merged chunk names its input column as metadata ``ner_source``.
"""

from __future__ import annotations

import os
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, overload

from pyspark.ml.param import TypeConverters
from pyspark.sql import DataFrame

from sparkner.annotators.text_matcher import check_text_resource
from sparkner.core.annotation import CHUNK
from sparkner.core.params import declare, non_empty, one_of
from sparkner.ner.chunk_merge import (
    ORDERING_FEATURES,
    SELECTION_STRATEGIES,
    MergeRules,
    merge_chunks,
)
from sparkner.runtime.udf import BatchFunction
from sparkner.stages.stage import AnnotatorTransformer, roles

if TYPE_CHECKING:
    from pyspark.ml._typing import ParamMap


def _ordering_problem(values: list[str]) -> str | None:
    wrong = [v for v in values if v not in ORDERING_FEATURES]
    return f"holds {wrong}, not among {ORDERING_FEATURES}" if wrong else None


class ChunkMergeApproach(AnnotatorTransformer):
    """Merges two to eight ``chunk`` columns into one ``chunk`` column."""

    input_roles = roles(chunk=CHUNK, other=CHUNK)
    optional_roles = roles(
        chunk3=CHUNK, chunk4=CHUNK, chunk5=CHUNK, chunk6=CHUNK, chunk7=CHUNK, chunk8=CHUNK
    )
    output_annotator_type = CHUNK
    stage_defaults: ClassVar[dict[str, Any]] = {
        "inputCols": ["ner_chunk", "chunk"],
        "outputCol": "merged_chunk",
    }

    mergeOverlapping = declare(
        "mergeOverlapping",
        "whether overlapping chunks compete (one is kept) or are all kept",
        TypeConverters.toBoolean,
        default=True,
    )
    selectionStrategy = declare(
        "selectionStrategy",
        "the default order of competing chunks: Sequential (by column, then begin) or "
        "DiverseLonger (longer first)",
        TypeConverters.toString,
        one_of(SELECTION_STRATEGIES),
        default="Sequential",
    )
    orderingFeatures = declare(
        "orderingFeatures",
        f"the order of competing chunks, feature by feature, among {ORDERING_FEATURES} "
        "(empty: the selection strategy's)",
        TypeConverters.toListString,
        _ordering_problem,
        default=[],
    )
    chunkPrecedence = declare(
        "chunkPrecedence",
        "Spark NLP's metadata field of ChunkPrecedence; here the entity (or the column)",
        TypeConverters.toString,
        one_of(("entity", "identifier", "field")),
        default="field",
    )
    chunkPrecedenceValuePrioritization = declare(
        "chunkPrecedenceValuePrioritization",
        "entities in the order they win overlaps (a value's first comma field counts)",
        TypeConverters.toListString,
        default=[],
    )
    whiteList = declare(
        "whiteList", "entities to keep (empty: all)", TypeConverters.toListString, default=[]
    )
    blackList = declare("blackList", "entities to drop", TypeConverters.toListString, default=[])
    defaultConfidence = declare(
        "defaultConfidence",
        "the confidence of a chunk without one (for ChunkConfidence)",
        TypeConverters.toFloat,
        default=0.0,
    )
    replaceDict = declare(
        "replaceDict",
        "entity -> new entity, applied first (setReplaceDictResource reads a file of them)",
        lambda v: {str(k): str(w) for k, w in dict(v).items()},
        default={},
    )
    replaceDictResource = declare(
        "replaceDictResource",
        "the file the entity replacements were read from",
        TypeConverters.toString,
        non_empty,
    )

    def setReplaceDictResource(
        self, path: str, read_as: str = "TEXT", options: dict[str, str] | None = None
    ) -> ChunkMergeApproach:
        """Read ``entity<delimiter>new_entity`` lines of a UTF-8 file (``options``'
        ``delimiter``, default ``,``); errors name the file and line."""
        options = dict(options or {})
        delimiter = options.pop("delimiter", ",")
        check_text_resource("setReplaceDictResource", read_as, options)
        self._set(replaceDictResource=str(path))
        return self.setReplaceDict(dict(_read_pairs(path, delimiter)))

    def merge_rules(self) -> MergeRules:
        return MergeRules(
            merge_overlapping=self.getOrDefault(self.mergeOverlapping),
            selection_strategy=self.getOrDefault(self.selectionStrategy),
            ordering_features=tuple(self.getOrDefault(self.orderingFeatures)),
            entity_priority=tuple(
                v.split(",")[0].strip()
                for v in self.getOrDefault(self.chunkPrecedenceValuePrioritization)
            ),
            default_confidence=self.getOrDefault(self.defaultConfidence),
            white_list=tuple(self.getOrDefault(self.whiteList)),
            black_list=tuple(self.getOrDefault(self.blackList)),
            replace=tuple(sorted(self.getOrDefault(self.replaceDict).items())),
        )

    def batch_function(self) -> BatchFunction:
        return partial(merge_chunks, rules=self.merge_rules(), sources=tuple(self.getInputCols()))

    @overload
    def fit(self, dataset: DataFrame, params: ParamMap | None = None) -> ChunkMergeModel: ...

    @overload
    def fit(
        self, dataset: DataFrame, params: list[ParamMap] | tuple[ParamMap, ...]
    ) -> list[ChunkMergeModel]: ...

    def fit(
        self,
        dataset: DataFrame,
        params: ParamMap | list[ParamMap] | tuple[ParamMap, ...] | None = None,
    ) -> ChunkMergeModel | list[ChunkMergeModel]:
        """A :class:`ChunkMergeModel` with these params (nothing is learnt); the approach
        also works as a transformer in a Pipeline."""
        if isinstance(params, list | tuple):
            return [self.fit(dataset, p) for p in params]
        stage = self.copy(params) if params else self
        stage.checked_inputs(dataset.schema)
        return stage._copyValues(ChunkMergeModel())


class ChunkMergeModel(ChunkMergeApproach):
    """A fitted ChunkMergeApproach: the same params."""


def _read_pairs(path: str, delimiter: str) -> list[tuple[str, str]]:
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such replacement file")
    pairs = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            old, found, new = line.strip().partition(delimiter)
            if not found or not old.strip() or not new.strip():
                raise ValueError(f"{path}, line {number}: expected 'entity{delimiter}new_entity'")
            pairs.append((old.strip(), new.strip()))
    return pairs
