"""NerDLApproach / NerDLModel: the char-CNN + BiLSTM + CRF tagger as Spark ML stages.

``NerDLApproach`` trains in the driver on (sentence, token, word_embeddings, label) columns;
``NerDLModel`` tags every token (``named_entity``: one IOB tag per token) on the executors,
loading the tagger once per Python worker (from the installed package, or files Spark ships).

Both optionally read a ``lexicon`` column too (LexiconMatcherModel's matches), named as a
fourth input: ``setInputCols(["sentence", "token", "embeddings", "lexicon"])``. Each token
then gets a lexicon feature (O, or B-/I- of the class of the match it is in) beside its word
vector; a tagger trained so records the classes. Given only the three usual inputs (as Spark
NLP's pipelines give them), a tagger whose folder names a bundled lexicon (its training record's
``lexicon``, as ``ner_clinical``'s names ``lexicon_clinical``) runs LexiconMatcherModel's
matching itself on its sentence and token columns: the same matches, so the same tags, as the
four-input pipeline. Any other lexicon tagger needs the column.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import asdict
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyspark.ml.param import TypeConverters
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import StructType

from sparkner.annotators.lexicon_matcher import LexiconMatcherModel, match_terms
from sparkner.annotators.word_embeddings import VectorLookup, WordEmbeddingsModel
from sparkner.core.annotation import (
    DIMENSION_KEY,
    DOCUMENT,
    LEXICON,
    NAMED_ENTITY,
    STORAGE_REF_KEY,
    TOKEN,
    WORD_EMBEDDINGS,
    AnnotationBatch,
    build_annotations,
)
from sparkner.core.params import (
    HasIncludeConfidence,
    HasStorageRef,
    at_least,
    declare,
    fraction,
    no_effect,
    one_of,
    positive,
    to_int,
)
from sparkner.embeddings.store import EmbeddingStore
from sparkner.lexicon.matcher import Lexicon
from sparkner.lexicon.store import HEADER_FILE as LEXICON_MARKER
from sparkner.ner.config import (
    CONFIG_FILE,
    WEIGHTS_FILE,
    TaggerConfig,
    TaggerFileError,
    read_config,
    read_weights,
)
from sparkner.ner.data import TrainingColumns, TrainingData, span_codes
from sparkner.ner.threads import LOCAL_OPS_AT_ONCE, configure_threads
from sparkner.ner.training import TrainingSettings, char_table, evaluate_set, train_network
from sparkner.resources import bundled_names
from sparkner.runtime.scratch import scratch_folder
from sparkner.runtime.shipping import FolderLocation, ship_folder
from sparkner.runtime.udf import BatchFunction
from sparkner.stages.cache import ModelFiles
from sparkner.stages.model import AnnotatorApproach, FolderCheck, FolderModel
from sparkner.stages.stage import AnnotatorInputError, InputColumns, annotator_type_of, roles
from sparkner.stages.training_data import add_vocabulary, collect_sentences, collect_training_data


# -- inference: the batch function -------------------------------------------------------------
def load_tagger(folder: str, threads: int | None) -> Any:
    """The tagger saved in ``folder`` (a :class:`~sparkner.ner.tagger.Tagger`), TensorFlow
    set to run ``threads`` ops at a time first."""
    from sparkner.ner.tagger import Tagger  # loads TensorFlow: only where a tagger runs

    return Tagger.load(folder, threads)


def tag_tokens(
    sentences: pa.Array | None,
    tokens: pa.Array | None,
    embeddings: pa.Array,
    lexicon: pa.Array | None = None,
    *,
    tagger: ModelFiles[Any],
    include_confidence: bool,
    include_all_scores: bool,
    terms: ModelFiles[Lexicon] | None = None,
) -> pa.Array:
    """One ``named_entity`` annotation per embedded token: its tag, ``word`` and ``sentence``,
    and the softmax score of the tag (``confidence``) or of every tag. ``lexicon``: the
    rows' lexicon matches, for (and only for) a tagger trained with lexicon features; without
    them, ``terms`` (the lexicon the tagger was trained with) are matched here, over
    ``sentences`` and ``tokens``."""
    if lexicon is None and terms is not None:
        lexicon = _own_matches(sentences, tokens, terms)
    loaded = tagger.load()
    batch = AnnotationBatch(embeddings)
    dim = loaded.config.word_dim
    values = batch.annotations.field("embeddings").flatten().to_numpy(zero_copy_only=False)
    if values.size != len(batch) * dim:
        raise ValueError(
            f"NerDLModel: the word_embeddings column does not hold {dim}-dimensional vectors "
            f"for every token (the tagger was trained on {dim}-d vectors)"
        )
    vectors = values.reshape(len(batch), dim).astype(np.float32, copy=False)
    return _tag(loaded, batch, vectors, lexicon, include_confidence, include_all_scores)


def tag_looked_up_tokens(
    tokens: pa.Array,
    lexicon: pa.Array | None = None,
    *,
    store: ModelFiles[EmbeddingStore],
    case_sensitive: bool,
    tagger: ModelFiles[Any],
    include_confidence: bool,
    include_all_scores: bool,
) -> pa.Array:
    """:func:`tag_tokens` for tokens whose vectors the tagger looks up itself, as the
    WordEmbeddingsModel that made the embeddings column does (same store, same rule)."""
    loaded = tagger.load()
    batch = AnnotationBatch(tokens)
    _, vectors = store.load().token_vectors(batch.annotations.field("result"), case_sensitive)
    return _tag(loaded, batch, vectors, lexicon, include_confidence, include_all_scores)


def tag_looked_up_tokens_matching(
    sentences: pa.Array, tokens: pa.Array, *, terms: ModelFiles[Lexicon], **settings: Any
) -> pa.Array:
    """:func:`tag_looked_up_tokens` for a tagger that matches its lexicon's ``terms`` itself
    (over ``sentences`` and ``tokens``)."""
    return tag_looked_up_tokens(tokens, _own_matches(sentences, tokens, terms), **settings)


def _own_matches(
    sentences: pa.Array | None, tokens: pa.Array | None, terms: ModelFiles[Lexicon]
) -> pa.Array:
    """LexiconMatcherModel's matches of ``terms``, over the sentences rather than the
    document: matches never cross a sentence (the tokens' ``sentence`` metadata splits them),
    so they and their texts are the same."""
    if sentences is None or tokens is None:
        raise ValueError(
            "NerDLModel: the lexicon features of this tagger are computed from its sentence and "
            "token inputs, and they were not given"
        )
    return match_terms(sentences, tokens, terms)


def _tag(
    tagger: Any,
    batch: AnnotationBatch,
    vectors: np.ndarray,
    lexicon: pa.Array | None,
    include_confidence: bool,
    include_all_scores: bool,
) -> pa.Array:
    words = batch.annotations.field("result")
    # The tokens' lexicon codes, where the matches are given (the stage gives them to, and
    # only to, a tagger trained with lexicon features; the tagger refuses any other case).
    codes = None
    if lexicon is not None:
        classes = tagger.config.lexicon_classes
        codes = span_codes(batch.row_offsets, batch.begin, AnnotationBatch(lexicon), classes)
    tag_ids, scores = tagger.tag(vectors, words, batch.sentence_offsets(), lexicon=codes)
    names = pa.array(tagger.config.tags, pa.string())
    metadata: dict[str, Any] = {
        "word": words,
        "sentence": batch.metadata("sentence", "0"),
    }
    if include_all_scores:
        for k, tag in enumerate(tagger.config.tags):
            metadata[tag] = _decimal(scores[:, k])
    elif include_confidence:
        chosen = scores[np.arange(len(batch)), tag_ids] if len(batch) else np.zeros(0)
        metadata["confidence"] = _decimal(chosen)
    return build_annotations(
        NAMED_ENTITY,
        batch.row_offsets,
        batch.begin,
        batch.end,
        pc.take(names, pa.array(tag_ids)),
        metadata,
    )


def _task_threads(spark: SparkSession) -> int:
    # One task per core: each worker's TensorFlow gets the task's cores, no more.
    cpus = spark.conf.get("spark.task.cpus", "1")
    assert cpus is not None  # a default is given
    return int(cpus)


def _decimal(values: np.ndarray) -> pa.Array:
    return pa.array([f"{v:.4f}" for v in values.tolist()], pa.string())


def _fingerprint(config: TaggerConfig, weights: bytes) -> str:
    """The weights and every setting of the config the tagger is built from (not its
    training record, which grows after training)."""
    settings = {k: v for k, v in asdict(config).items() if k != "extra"}
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    digest.update(weights)
    return digest.hexdigest()[:16]


# -- params ---------------------------------------------------------------------------------
class _NerParams(HasStorageRef, HasIncludeConfidence):
    includeAllConfidenceScores = declare(
        "includeAllConfidenceScores",
        "whether each token carries the score of every tag (metadata key: the tag)",
        TypeConverters.toBoolean,
        default=False,
    )
    stage_defaults: ClassVar[dict[str, Any]] = {
        "inputCols": ["sentence", "token", "embeddings"],
        "outputCol": "ner",
    }


# -- the fitted model ----------------------------------------------------------------------
class NerDLModel(FolderModel, _NerParams):
    """Tags tokens with a trained tagger (inputs: sentences, tokens, word embeddings, and
    for a tagger trained with lexicon features, the lexicon matches)."""

    input_roles = roles(sentence=DOCUMENT, token=TOKEN, embeddings=WORD_EMBEDDINGS)
    optional_roles = roles(lexicon=LEXICON)
    output_annotator_type = NAMED_ENTITY
    # The embeddings carry the tokens' spans, words and sentences: only they are sent (and the
    # lexicon matches, where the tagger reads them).
    reads = ("embeddings", "lexicon")
    costly = True
    bundled_marker = CONFIG_FILE
    default_pretrained = "ner_clinical"
    files_kind = "tagger"

    def __init__(self, **params: Any) -> None:
        # The lexicon stage of the tagger's own matching, with the fingerprint it is for.
        self._own_lexicon: tuple[str, LexiconMatcherModel] | None = None
        super().__init__(**params)

    def check_files(self, folder: str) -> FolderCheck:
        """The config and the weights are read now: a damaged file is refused here. The
        config is kept (read once per model), and its storageRef is the model's."""
        config = read_config(folder)
        weights = Path(folder) / WEIGHTS_FILE
        if not weights.is_file():
            raise TaggerFileError(f"{folder}: no {WEIGHTS_FILE}")
        data = weights.read_bytes()
        read_weights(weights, data)
        params = {"storageRef": config.storage_ref} if config.storage_ref else {}
        return FolderCheck(_fingerprint(config, data), params, info=config)

    def config(self) -> TaggerConfig:
        """The tagger's config, as read when its files were attached."""
        return self.files_info()

    def lexicon_classes(self) -> list[str]:
        """The lexicon classes the tagger was trained with (empty: no lexicon features)."""
        return list(self.config().lexicon_classes)

    def tags(self) -> list[str]:
        return list(self.config().tags)

    def getClasses(self) -> list[str]:
        """The tags the tagger can write, e.g. ``['O', 'B-PROBLEM', ...]`` (Spark NLP's
        ``NerDLModel.getClasses()``)."""
        return self.tags()

    def output_labels(
        self, input_labels: Mapping[str, tuple[str, ...] | None]
    ) -> tuple[str, ...] | None:
        return tuple(self.tags())

    def training_record(self) -> dict[str, Any]:
        """Settings and per-epoch figures of the training run that made this tagger, as the
        folder holds them now (a recipe adds to them after training: add_to_record)."""
        return dict(read_config(self.files_folder()).extra)

    # -- the lexicon the tagger matches itself ------------------------------------------------
    def computes_lexicon(self) -> bool:
        """Whether this tagger computes its lexicon features itself: it was trained with them
        and inputCols names no lexicon column."""
        given = len(self.getInputCols())
        return bool(self.config().lexicon_classes) and given <= len(self.input_roles)

    def own_lexicon(self) -> LexiconMatcherModel:
        """The bundled lexicon stage whose matches this tagger computes itself (the one its
        training record names); the error says what to do where there is none."""
        fingerprint = self.fingerprint
        if self._own_lexicon is not None and self._own_lexicon[0] == fingerprint:
            return self._own_lexicon[1]
        classes = self.config().lexicon_classes
        given = list(self.getInputCols())
        name = self.training_record().get("lexicon")
        needs = (
            f"{self._describe()}: this tagger was trained with lexicon features (classes "
            f"{classes}) and needs the lexicon column (annotator type 'lexicon', written by "
            f"LexiconMatcherModel from the document and token columns, with the terms it was "
            f"trained with) in inputCols, which is {given}; e.g. "
            f"setInputCols({[*given, 'lexicon']})"
        )
        if not name:
            raise AnnotatorInputError(
                f"{needs}. Its folder names no bundled lexicon to compute them from (training "
                f"record 'lexicon')"
            )
        if name not in bundled_names(LEXICON_MARKER):
            raise AnnotatorInputError(
                f"{needs}. Its folder names lexicon {name!r} (training record 'lexicon'), which "
                f"is not bundled; bundled lexicons: {bundled_names(LEXICON_MARKER)}"
            )
        matcher = LexiconMatcherModel.pretrained(name)
        missing = [c for c in classes if c not in matcher.classes()]
        if missing:
            raise AnnotatorInputError(
                f"{needs}. Its folder names the bundled lexicon {name!r}, whose classes "
                f"{matcher.classes()} lack {missing}"
            )
        self._own_lexicon = (fingerprint, matcher)
        return matcher

    def _terms(self, spark: SparkSession | None) -> dict[str, Any]:
        """The ``terms`` setting of a batch function: the own lexicon's files where the
        tagger matches them itself (as the driver or, shipped, the executors see them)."""
        if not self.computes_lexicon():
            return {}
        matcher = self.own_lexicon()
        files = matcher.local_files() if spark is None else matcher.shipped_files(spark)
        return {"terms": LexiconMatcherModel.lexicon_files(files)}

    # -- the inputs ---------------------------------------------------------------------------
    def check_roles(self, inputs: InputColumns) -> None:
        """A lexicon column only for a tagger trained with one, and for such a tagger either
        that column or a bundled lexicon its folder names (matched by the tagger itself)."""
        classes = self.config().lexicon_classes
        given = list(self.getInputCols())
        if classes and "lexicon" not in inputs:
            self.own_lexicon()
        if not classes and "lexicon" in inputs:
            raise AnnotatorInputError(
                f"{self._describe()}: this tagger was trained without lexicon features: "
                f"inputCols {given} has {len(given)} columns, expected {len(self.input_roles)} "
                f"(of annotator types {[t for _, t in self.input_roles]}); leave the lexicon "
                f"column {inputs['lexicon']!r} out of inputCols"
            )

    def check_input_fields(self, schema: StructType, inputs: InputColumns) -> None:
        """Vectors of the dimension the tagger was trained on, where the column records it
        (a WordEmbeddingsModel's does): refused here, not in a task."""
        field = schema[inputs["embeddings"]]
        found = (field.metadata or {}).get(DIMENSION_KEY)
        wanted = self.config().word_dim
        if found is not None and int(found) != wanted:
            raise AnnotatorInputError(
                f"{self._describe()}: input column {field.name!r} holds {found}-dimensional "
                f"word embeddings, but this tagger was trained on {wanted}-dimensional vectors; "
                f"use the same embeddings as in training"
            )

    # -- the batch function -------------------------------------------------------------------
    def _tagging(self, files: FolderLocation, spark: SparkSession | None) -> dict[str, Any]:
        """The settings of a tagging function: the tagger in ``files``, and the outputs."""
        threads = LOCAL_OPS_AT_ONCE if spark is None else _task_threads(spark)
        return {
            # Threads are no part of what is loaded: TensorFlow is set up once per process.
            "tagger": self.model_files(files, partial(load_tagger, threads=threads)),
            "include_confidence": self.getIncludeConfidence(),
            "include_all_scores": self.getIncludeAllConfidenceScores(),
        }

    def folder_function(self, files: FolderLocation, spark: SparkSession | None) -> BatchFunction:
        return partial(tag_tokens, **self._tagging(files, spark), **self._terms(spark))

    def annotate(self, dataset: DataFrame, inputs: InputColumns, schema: StructType) -> DataFrame:
        spark = dataset.sparkSession
        own = self.computes_lexicon()
        lookup = VectorLookup.of_column(schema[inputs["embeddings"]])
        if (
            lookup is None
            or schema.fieldNames().count(lookup.token_column) != 1
            or (own and lookup.token_column != inputs["token"])
        ):
            if not own:
                return super().annotate(dataset, inputs, schema)
            # The matching reads the sentences and the tokens: every input is sent.
            function = self.spark_batch_function(spark)
            return self.annotate_with(dataset, list(inputs.values()), function, inputs)
        # The embeddings column was made here from a token column: look the vectors up in
        # the executors rather than receive them (see sparkner.annotators.word_embeddings).
        store = ship_folder(spark, lookup.folder, lookup.fingerprint)
        settings = {
            "store": WordEmbeddingsModel.store_files(store),
            "case_sensitive": lookup.case_sensitive,
            **self._tagging(self.shipped_files(spark), spark),
        }
        if own:
            function = partial(tag_looked_up_tokens_matching, **settings, **self._terms(spark))
            columns = [inputs["sentence"], inputs["token"]]
            return self.annotate_with(dataset, columns, function, inputs)
        function = partial(tag_looked_up_tokens, **settings)
        columns = [lookup.token_column, *([inputs["lexicon"]] if "lexicon" in inputs else [])]
        return self.annotate_with(dataset, columns, function, inputs)


# -- training ------------------------------------------------------------------------------
def _tf1_setting(name: str, doc: str, convert: Callable[[Any], Any]) -> Any:
    """A Spark NLP TensorFlow 1 graph setting: accepted so that its code runs, and ignored
    with a warning (sparkner builds its network in TensorFlow 2 for any tag set and
    dimension)."""
    setter = f"set{name[0].upper()}{name[1:]}"
    message = (
        f"NerDLApproach.{setter} has no effect in sparkner: its tagger is a TensorFlow 2 "
        f"network built for any tag set and vector dimension, with no graph files"
    )
    return declare(name, f"Spark NLP's {doc} (no effect)", no_effect(convert, message))


# bestModelMetric values -> the figure of the held-out scores (sparkner.ner.training).
_BEST_MODEL_METRICS = {"f1_micro": "f1", "f1_macro": "macro_f1"}


class NerDLApproach(AnnotatorApproach[NerDLModel], _NerParams):
    """Trains a :class:`NerDLModel` in the driver from labelled, embedded tokens."""

    model_class = NerDLModel
    labelColumn = declare(
        "labelColumn",
        "the named_entity column of gold tags",
        TypeConverters.toString,
        default="label",
    )
    maxEpochs = declare("maxEpochs", "maximum number of epochs", to_int, at_least(1), default=30)
    lr = declare("lr", "learning rate (Adam)", TypeConverters.toFloat, positive, default=1e-3)
    po = declare(
        "po",
        "learning rate decay: lr / (1 + po * epoch)",
        TypeConverters.toFloat,
        at_least(0),
        default=0.005,
    )
    batchSize = declare("batchSize", "sentences per batch", to_int, at_least(1), default=16)
    dropout = declare("dropout", "dropout rate", TypeConverters.toFloat, fraction, default=0.5)
    validationSplit = declare(
        "validationSplit",
        "fraction of training sentences held out to validate each epoch (0: none)",
        TypeConverters.toFloat,
        fraction,
        default=0.0,
    )
    randomSeed = declare(
        "randomSeed", "seed for initialization, batching, dropout", to_int, default=0
    )
    enableOutputLogs = declare(
        "enableOutputLogs",
        "whether to write the epoch log to outputLogsPath",
        TypeConverters.toBoolean,
        default=False,
    )
    outputLogsPath = declare(
        "outputLogsPath", "folder for the training log", TypeConverters.toString
    )
    useBestModel = declare(
        "useBestModel",
        "keep the epoch with the best validation F1, not the last",
        TypeConverters.toBoolean,
        default=True,
    )
    # Spark NLP users pass a level (0, 1, 2): any true value prints the epochs.
    verbose = declare("verbose", "whether to print each epoch's figures", bool, default=False)
    patience = declare(
        "patience",
        "stop after this many epochs without a better validation F1 (0: never)",
        to_int,
        at_least(0),
        default=5,
    )
    minEpochs = declare(
        "minEpochs",
        "no early stop before this many epochs",
        to_int,
        at_least(0),
        default=0,
    )
    earlyStoppingPatience = declare(
        "earlyStoppingPatience",
        "Spark NLP's name for patience: when set, training stops after this many epochs "
        "without a better held-out score (0: never), in place of patience",
        to_int,
        at_least(0),
    )
    earlyStoppingCriterion = declare(
        "earlyStoppingCriterion",
        "the rise of the held-out score that counts as an improvement for early stopping "
        "(0: any rise); the kept epoch is the best whatever the rise",
        TypeConverters.toFloat,
        at_least(0),
        default=0.0,
    )
    bestModelMetric = declare(
        "bestModelMetric",
        "the held-out figure that picks the kept epoch and drives early stopping: 'f1_micro' "
        "(entity-level micro F1) or 'f1_macro' (the mean of the types' F1)",
        lambda v: TypeConverters.toString(v).strip().lower(),
        one_of(tuple(_BEST_MODEL_METRICS)),
        default="f1_micro",
    )
    evaluationLogExtended = declare(
        "evaluationLogExtended",
        "whether each epoch's log also gives every entity type's precision, recall, F1 and "
        "counts on the held-out sets, and their macro F1",
        TypeConverters.toBoolean,
        default=False,
    )
    hiddenSize = declare("hiddenSize", "LSTM units per direction", to_int, at_least(1), default=100)
    lstmLayers = declare("lstmLayers", "number of BiLSTM layers", to_int, at_least(1), default=1)
    charFilters = declare(
        "charFilters",
        "filters of the character CNN (its features per word)",
        to_int,
        at_least(1),
        default=30,
    )
    graphFolder = _tf1_setting(
        "graphFolder", "folder of TensorFlow graphs", TypeConverters.toString
    )
    configProtoBytes = _tf1_setting(
        "configProtoBytes", "TensorFlow ConfigProto", TypeConverters.toListInt
    )
    useContrib = _tf1_setting(
        "useContrib", "TensorFlow contrib LSTM switch", TypeConverters.toBoolean
    )
    enableMemoryOptimizer = _tf1_setting(
        "enableMemoryOptimizer", "TensorFlow memory optimizer switch", TypeConverters.toBoolean
    )

    def __init__(self, **params: Any) -> None:
        self._test_dataset: DataFrame | str | None = None
        super().__init__(**params)

    def setTestDataset(self, value: DataFrame | str) -> NerDLApproach:
        """A held-out set evaluated after every epoch (a DataFrame, or a Parquet path of one,
        with the training data's columns). As in the reference product, ``useBestModel`` and
        early stopping watch its F1 when it is set. Pass a dev split here, not a test split."""
        self._test_dataset = value
        return self

    def _fit(self, dataset: DataFrame) -> NerDLModel:
        # These load TensorFlow: only where a tagger is trained.
        from sparkner.ner.network import TaggerNetwork
        from sparkner.ner.tagger import Tagger

        columns = self._check_training_columns(dataset.schema)
        storage_ref = storage_ref_of(dataset.schema, columns.embeddings)
        data = collect_training_data(dataset, columns)
        self._split_validation(data)
        if self._test_dataset is not None:
            test = self._test_dataset
            frame = dataset.sparkSession.read.parquet(test) if isinstance(test, str) else test
            test_columns = self._check_training_columns(frame.schema)
            add_vocabulary(data, frame, test_columns)
            data.test = collect_sentences(frame, test_columns, data)

        configure_threads(LOCAL_OPS_AT_ONCE)  # training runs in the driver, a process of its own
        config = self.tagger_config(data, data.train.word_ids, storage_ref)
        network = TaggerNetwork(config, seed=self.getOrDefault(self.randomSeed))
        log_lines: list[str] = []
        settings = self.training_settings(
            log_lines, selects=data.validation is not None or data.test is not None
        )
        records = train_network(network, data, settings, Tagger)
        record: dict[str, Any] = {
            "training_sentences": len(data.train),
            "validation_sentences": len(data.validation) if data.validation else 0,
            "epochs": [r.figures() for r in records],
        }
        return self.tagger_model(network, data, record, settings, log_lines)

    # -- shared with sparkner.training.multihead, which trains the same tagger with heads --
    def tagger_config(
        self, data: TrainingData, trained_word_ids: np.ndarray, storage_ref: str
    ) -> TaggerConfig:
        """The new tagger's config: its tags, this approach's sizes, and the characters of
        the training words only (held-out text must not shape the model)."""
        words = np.unique(trained_word_ids).tolist()
        return TaggerConfig(
            tags=list(data.tags),
            chars=sorted({ch for i in words for ch in data.words[i]}),
            word_dim=int(data.vectors.shape[1]),
            storage_ref=storage_ref,
            hidden=self.getOrDefault(self.hiddenSize),
            layers=self.getOrDefault(self.lstmLayers),
            dropout=self.getOrDefault(self.dropout),
            char_filters=self.getOrDefault(self.charFilters),
            lexicon_classes=list(data.lexicon_classes),
        )

    def training_settings(self, log_lines: list[str], selects: bool) -> TrainingSettings:
        """This approach's settings; ``selects``: a held-out set exists to pick the epoch."""
        max_epochs, min_epochs = self.getOrDefault(self.maxEpochs), self.getMinEpochs()
        if min_epochs > max_epochs:
            raise ValueError(
                f"NerDLApproach: minEpochs {min_epochs} is more than maxEpochs {max_epochs}"
            )
        patience = (
            self.getOrDefault(self.earlyStoppingPatience)
            if self.isDefined(self.earlyStoppingPatience)
            else self.getOrDefault(self.patience)
        )
        return TrainingSettings(
            max_epochs=max_epochs,
            lr=self.getOrDefault(self.lr),
            po=self.getOrDefault(self.po),
            batch_size=self.getOrDefault(self.batchSize),
            dropout=self.getOrDefault(self.dropout),
            patience=patience,
            seed=self.getOrDefault(self.randomSeed),
            use_best_model=self.getOrDefault(self.useBestModel) and selects,
            verbose=self.getOrDefault(self.verbose),
            log=self._logger(log_lines),
            min_epochs=min_epochs,
            min_delta=self.getOrDefault(self.earlyStoppingCriterion),
            metric=_BEST_MODEL_METRICS[self.getOrDefault(self.bestModelMetric)],
            extended_log=self.getOrDefault(self.evaluationLogExtended),
        )

    def tagger_model(
        self,
        network: Any,
        data: TrainingData,
        record: dict[str, Any],
        settings: TrainingSettings,
        log_lines: list[str],
    ) -> NerDLModel:
        """The trained ``network`` (a TaggerNetwork) as a model: scored on the testDataset if
        there is one, its training ``record`` kept in its config, saved to a scratch folder."""
        from sparkner.ner.tagger import Tagger

        if data.test is not None:
            tagger = Tagger(network)
            chars = char_table(tagger, data.words)
            record["test"] = evaluate_set(tagger, data.vectors, data.tags, data.test, chars)
            settings.log(f"testDataset, kept model: {record['test']}")  # type: ignore[misc]
        network.config.extra = record
        folder = scratch_folder("tagger-")
        network.save(folder)
        self._write_log(log_lines)
        return self.new_model().attach_files(folder)

    def transformSchema(self, schema: StructType) -> StructType:
        """As every approach's, with the label column checked too: ``fit`` reads it."""
        self._check_training_columns(schema)
        return super().transformSchema(schema)

    def _check_training_columns(self, schema: StructType) -> TrainingColumns:
        """The sentence, token, embeddings and label columns, and the lexicon column (None
        if inputCols names none)."""
        sentence, token, embeddings, *lexicon = self.check_input_columns(schema)
        label = self.getOrDefault(self.labelColumn)
        fields = {f.name: f for f in schema.fields}
        if label not in fields:
            raise AnnotatorInputError(
                f"NerDLApproach: label column {label!r} does not exist; the DataFrame has "
                f"columns {sorted(fields)} (set it with setLabelColumn)"
            )
        found = annotator_type_of(fields[label])
        if found is not None and found != NAMED_ENTITY:
            raise AnnotatorInputError(
                f"NerDLApproach: label column {label!r} holds {found!r} annotations, expected "
                f"'named_entity'"
            )
        return TrainingColumns(sentence, token, embeddings, label, lexicon[0] if lexicon else None)

    def _split_validation(self, data: TrainingData) -> None:
        fraction = self.getOrDefault(self.validationSplit)
        if not fraction:
            return
        rng = np.random.default_rng(self.getOrDefault(self.randomSeed))
        order = rng.permutation(len(data.train))
        held = round(len(order) * fraction)
        if held == 0 or held == len(order):
            return
        data.validation = data.train.subset(np.sort(order[:held]))
        data.train = data.train.subset(np.sort(order[held:]))

    def _logger(self, lines: list[str]) -> Callable[[str], None]:
        verbose = self.getOrDefault(self.verbose)

        def log(line: str) -> None:
            lines.append(line)
            if verbose:
                print(line, file=sys.stderr, flush=True)

        return log

    def _write_log(self, lines: list[str]) -> None:
        if not self.getOrDefault(self.enableOutputLogs):
            return
        folder = (
            self.getOrDefault(self.outputLogsPath)
            if self.isDefined(self.outputLogsPath)
            else os.path.join(os.path.expanduser("~"), "annotator_logs")
        )
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, f"{self.uid}.log")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")


def storage_ref_of(schema: StructType, column: str) -> str:
    """The storageRef an embeddings column records in its metadata ("" if none)."""
    for field in schema.fields:
        if field.name == column:
            return str((field.metadata or {}).get(STORAGE_REF_KEY, ""))
    return ""
