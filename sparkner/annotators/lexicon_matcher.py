"""LexiconMatcher / LexiconMatcherModel: the longest case-insensitive match of any term over
the tokens, as ``lexicon`` annotations (Spark NLP's ``TextMatcher``, spaCy's ``EntityRuler``).

``LexiconMatcherModel.pretrained("lexicon_clinical")`` loads the bundled clinical term lists
(PROBLEM, TEST, TREATMENT); ``LexiconMatcher().setTerms({"DRUG": ["aspirin", ...]})`` (or
``setTermsPath`` with a ``class<TAB>term`` file) builds a lexicon of one's own when fitted.
Each match has ``result`` the matched text, metadata ``entity`` (its class), ``sentence`` and
``chunk`` (its number in the row); matches never cross sentences.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any, ClassVar

import pyarrow as pa
from pyspark.ml.param import TypeConverters
from pyspark.sql import DataFrame, SparkSession

from sparkner.core.annotation import DOCUMENT, LEXICON, TOKEN
from sparkner.core.formats import text_pairs
from sparkner.core.params import declare, non_empty
from sparkner.lexicon.matcher import Lexicon, match_lexicon
from sparkner.lexicon.store import HEADER_FILE, load_lexicon, write_lexicon
from sparkner.runtime.scratch import scratch_folder
from sparkner.runtime.shipping import FolderLocation
from sparkner.runtime.udf import BatchFunction
from sparkner.stages.cache import ModelFiles
from sparkner.stages.model import AnnotatorApproach, FolderCheck, FolderModel, files_digest
from sparkner.stages.stage import roles

_COLUMNS: dict[str, Any] = {"inputCols": ["document", "token"], "outputCol": "lexicon"}


def match_terms(documents: pa.Array, tokens: pa.Array, lexicon: ModelFiles[Lexicon]) -> pa.Array:
    """:func:`~sparkner.lexicon.matcher.match_lexicon` with the lexicon of a folder."""
    return match_lexicon(documents, tokens, lexicon.load())


class LexiconMatcherModel(FolderModel):
    """Finds the terms of a lexicon in the tokens (inputs: document, token)."""

    input_roles = roles(document=DOCUMENT, token=TOKEN)
    output_annotator_type = LEXICON
    bundled_marker = HEADER_FILE
    default_pretrained = "lexicon_clinical"
    files_kind = "lexicon"
    stage_defaults: ClassVar[dict[str, Any]] = _COLUMNS

    def check_files(self, folder: str) -> FolderCheck:
        """The lexicon is loaded now (its terms checked against the header's fingerprint) and
        kept for this process: a damaged one is refused here. The stage's fingerprint is the
        header's digest, which covers the class names too."""
        files = FolderLocation(folder, fingerprint=files_digest(folder, HEADER_FILE))
        lexicon = self.lexicon_files(files).check()
        return FolderCheck(files.fingerprint, info=lexicon.classes)

    @classmethod
    def lexicon_files(cls, files: FolderLocation) -> ModelFiles[Lexicon]:
        return cls.model_files(files, load_lexicon)

    def classes(self) -> list[str]:
        return list(self.files_info())

    def output_labels(
        self, input_labels: Mapping[str, tuple[str, ...] | None]
    ) -> tuple[str, ...] | None:
        return tuple(self.classes())

    def folder_function(self, files: FolderLocation, spark: SparkSession | None) -> BatchFunction:
        return partial(match_terms, lexicon=self.lexicon_files(files))


class LexiconMatcher(AnnotatorApproach[LexiconMatcherModel]):
    """Builds a :class:`LexiconMatcherModel` from terms by class when fitted."""

    model_class = LexiconMatcherModel
    stage_defaults: ClassVar[dict[str, Any]] = _COLUMNS
    terms = declare(
        "terms",
        "terms by class, e.g. {'DRUG': ['aspirin', 'heparin']}",
        lambda v: {str(k): [str(t) for t in terms] for k, terms in dict(v).items()},
    )
    termsPath = declare(
        "termsPath",
        "a UTF-8 file of 'class<TAB>term' lines (read when fitted)",
        TypeConverters.toString,
        non_empty,
    )

    def _fit(self, dataset: DataFrame) -> LexiconMatcherModel:
        self.check_input_columns(dataset.schema)
        terms: dict[str, list[str]] = {k: list(v) for k, v in self._given_terms().items()}
        if self.isDefined(self.termsPath):
            for cls, term in _read_terms(self.getTermsPath()):
                terms.setdefault(cls, []).append(term)
        if not any(terms.values()):
            raise ValueError("LexiconMatcher: no terms; call setTerms or setTermsPath first")
        folder = scratch_folder("lexicon-")
        write_lexicon(folder, terms, name=self.uid)
        return self.new_model().attach_files(folder)

    def _given_terms(self) -> dict[str, list[str]]:
        return self.getTerms() if self.isDefined(self.terms) else {}


def _read_terms(path: str) -> list[tuple[str, str]]:
    """``(class, term)`` pairs of a ``class<TAB>term`` file; errors name the file and line."""
    return text_pairs(path, "termsPath file", ("class", "term"))
