"""ChunkResolverModel / ChunkResolverApproach: a code of a vocabulary for each chunk
(Spark NLP's entity resolvers: ``SentenceEntityResolverModel``, ``ChunkEntityResolverModel``).

``ChunkResolverModel.pretrained("resolver_icd10cm")`` (ICD-10-CM), ``"resolver_mesh"`` (MeSH
descriptors) and ``"resolver_drugs"`` (DrugBank, with UNII) are bundled;
``ChunkResolverApproach().setTermsPath("codes.tsv")`` builds a resolver of one's own
vocabulary (``code<TAB>term`` lines) when fitted. Inputs: the document (read for the
abbreviations a note defines) and the chunks; output: one ``entity`` annotation per resolved
chunk, with the chunk's span, the code as ``result`` and the metadata Spark NLP's resolvers
write (``target_text``, ``resolved_text``, ``confidence``, ``distance``, ``all_k_results``,
``all_k_resolutions``, ``all_k_distances``) plus ``vocabulary``, ``chunk``, ``sentence``,
``entity``. Chunks of types not in ``entityTypes`` (when set) are passed over, and a chunk
whose best candidate's confidence is under ``threshold`` gets no annotation. With
``composites``, a coordination ("breast and ovarian cancer") is resolved as its parts where
they fit better than the whole (``composite_codes``: ``D001943|D010051``).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any, ClassVar

import pyarrow as pa
from pyspark.ml.param import TypeConverters
from pyspark.sql import DataFrame, SparkSession

from sparkner.core.annotation import CHUNK, DOCUMENT
from sparkner.core.formats import text_pairs
from sparkner.core.params import SparknerParams, at_least, declare, non_empty, to_int, to_list_of
from sparkner.resolution.resolver import ENTITY, Resolver, load_resolver, resolve_chunks
from sparkner.resolution.store import HEADER_FILE, Concept, load_vocabulary, write_resolver
from sparkner.resources import bundled_folder
from sparkner.runtime.scratch import scratch_folder
from sparkner.runtime.shipping import FolderLocation
from sparkner.runtime.udf import BatchFunction
from sparkner.stages.cache import ModelFiles
from sparkner.stages.model import AnnotatorApproach, FolderCheck, FolderModel, files_digest
from sparkner.stages.stage import roles

_COLUMNS: dict[str, Any] = {"inputCols": ["document", "ner_chunk"], "outputCol": "resolution"}


def _unit_interval(value: float) -> str | None:
    return None if 0 <= value <= 1 else "must be in [0, 1]"


def resolve_with(
    documents: pa.Array,
    chunks: pa.Array,
    resolver: ModelFiles[Resolver],
    entity_types: tuple[str, ...],
    threshold: float,
    neighbours: int,
    composites: bool = False,
) -> pa.Array:
    """:func:`~sparkner.resolution.resolver.resolve_chunks` with the resolver of a folder."""
    return resolve_chunks(
        documents, chunks, resolver.load(), entity_types, threshold, neighbours, composites
    )


class _ResolverParams(SparknerParams):
    entityTypes = declare(
        "entityTypes",
        "the chunk entity types to resolve, e.g. ['PROBLEM'] (empty: every chunk)",
        to_list_of(str.strip),
        default=[],
    )
    threshold = declare(
        "threshold",
        "the least confidence of a code; a chunk whose best candidate has less gets none",
        TypeConverters.toFloat,
        _unit_interval,
        default=0.5,
    )
    neighbours = declare(
        "neighbours",
        "how many candidates the all_k_* metadata list",
        to_int,
        at_least(1),
        default=5,
    )
    composites = declare(
        "composites",
        "resolve a coordination ('breast and ovarian cancer') as its parts: result the first "
        "part's code, metadata composite_codes every part's ('D001943|D010051')",
        TypeConverters.toBoolean,
        default=False,
    )


class ChunkResolverModel(FolderModel, _ResolverParams):
    """Codes each chunk with its vocabulary's concept (inputs: document, chunk)."""

    input_roles = roles(document=DOCUMENT, chunk=CHUNK)
    output_annotator_type = ENTITY
    bundled_marker = HEADER_FILE
    default_pretrained = "resolver_icd10cm"
    files_kind = "resolver"
    stage_defaults: ClassVar[dict[str, Any]] = _COLUMNS

    def check_files(self, folder: str) -> FolderCheck:
        """The resolver is loaded now (a damaged folder is refused here, not in a task) and
        kept for this process; its header holds the fingerprint of every other file."""
        files = FolderLocation(folder, fingerprint=files_digest(folder, HEADER_FILE))
        resolver = self.resolver_files(files).check()
        return FolderCheck(files.fingerprint, info=resolver.vocabulary.vocabulary)

    @classmethod
    def resolver_files(cls, files: FolderLocation) -> ModelFiles[Resolver]:
        return cls.model_files(files, load_resolver)

    def vocabulary(self) -> str:
        """The name of the vocabulary the codes come from ("ICD-10-CM", "MeSH", ...)."""
        return str(self.files_info())

    def folder_function(self, files: FolderLocation, spark: SparkSession | None) -> BatchFunction:
        return partial(
            resolve_with,
            resolver=self.resolver_files(files),
            entity_types=tuple(self.getEntityTypes()),
            threshold=float(self.getThreshold()),
            neighbours=int(self.getNeighbours()),
            composites=bool(self.getComposites()),
        )


class ChunkResolverApproach(AnnotatorApproach[ChunkResolverModel], _ResolverParams):
    """Builds a :class:`ChunkResolverModel` of one's own codes and terms when fitted; its
    re-ranker is that of a bundled resolver (``rankerFrom``)."""

    model_class = ChunkResolverModel
    stage_defaults: ClassVar[dict[str, Any]] = _COLUMNS
    terms = declare(
        "terms",
        "terms by code, the first the code's name, e.g. {'I10': ['Essential hypertension', "
        "'high blood pressure']}",
        lambda v: {str(k): [str(t) for t in terms] for k, terms in dict(v).items()},
    )
    termsPath = declare(
        "termsPath",
        "a UTF-8 file of 'code<TAB>term' lines, a code's first line its name (read when fitted)",
        TypeConverters.toString,
        non_empty,
    )
    vocabularyName = declare(
        "vocabularyName",
        "the vocabulary's name, written in each annotation's metadata",
        TypeConverters.toString,
        non_empty,
        default="custom",
    )
    rankerFrom = declare(
        "rankerFrom",
        "the bundled resolver whose re-ranker (trained on NCBI-disease) the model uses",
        TypeConverters.toString,
        non_empty,
        default="resolver_mesh",
    )

    def _fit(self, dataset: DataFrame) -> ChunkResolverModel:
        self.check_input_columns(dataset.schema)
        terms: dict[str, list[str]] = {}
        if self.isDefined(self.terms):
            for code, given in self.getTerms().items():
                terms.setdefault(code, []).extend(given)
        if self.isDefined(self.termsPath):
            for code, term in _read_terms(self.getTermsPath()):
                terms.setdefault(code, []).append(term)
        concepts = [
            Concept(code, given[0], "", (), given[1:]) for code, given in terms.items() if given
        ]
        if not concepts:
            raise ValueError("ChunkResolverApproach: no terms; call setTerms or setTermsPath first")
        ranker_folder = bundled_folder(self.getRankerFrom(), HEADER_FILE, "resolver")
        ranker = load_vocabulary(ranker_folder).ranker
        folder = scratch_folder("resolver-")
        write_resolver(folder, self.uid, self.getVocabularyName(), concepts, ranker)
        return self.new_model().attach_files(folder)


def _read_terms(path: str) -> Sequence[tuple[str, str]]:
    """``(code, term)`` pairs of a ``code<TAB>term`` file; errors name the file and line."""
    return text_pairs(path, "termsPath file", ("code", "term"))
