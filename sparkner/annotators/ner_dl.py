"""NerDLApproach / NerDLModel: the char-CNN + BiLSTM + CRF tagger as Spark ML stages.

``NerDLApproach`` trains in the driver on (sentence, token, word_embeddings, label) columns;
``NerDLModel`` tags every token (``named_entity``: one IOB tag per token) on the executors,
loading the tagger once per Python worker from files that Spark ships.
"""

from __future__ import annotations

import hashlib
import os
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyspark import keyword_only
from pyspark.ml import Estimator
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.util import DefaultParamsReadable, DefaultParamsWritable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from sparkner.annotation import (
    ANNOTATIONS_ARROW_TYPE,
    DOCUMENT,
    NAMED_ENTITY,
    STORAGE_REF_KEY,
    TOKEN,
    WORD_EMBEDDINGS,
    AnnotationBatch,
    build_annotations,
)
from sparkner.annotators.word_embeddings import DIMENSION_KEY, vector_lookup_of
from sparkner.base import (
    AnnotatorInputError,
    AnnotatorTransformer,
    BatchFunction,
    InputColsParam,
    OutputColParam,
    annotator_type_of,
    apply_setters,
    at_least,
    positive,
)
from sparkner.ner.threads import LOCAL_OPS_AT_ONCE
from sparkner.persistence import FolderStageReadWrite, scratch_folder
from sparkner.resources import bundled_folder
from sparkner.shipping import FolderLocation, ship_folder


# -- inference: the batch function -------------------------------------------------------------
def tag_tokens(
    sentences: pa.Array | None,
    tokens: pa.Array | None,
    embeddings: pa.Array,
    tagger_folder: FolderLocation,
    fingerprint: str,
    include_confidence: bool,
    include_all_scores: bool,
    threads: int | None,
) -> pa.Array:
    """One ``named_entity`` annotation per embedded token: its tag, ``word`` and ``sentence``,
    and the softmax score of the tag (``confidence``) or of every tag."""
    from sparkner.ner.tagger import Tagger

    tagger = Tagger.load(tagger_folder.resolve(), fingerprint, threads)
    batch = AnnotationBatch(embeddings)
    dim = tagger.config.word_dim
    values = batch.annotations.field("embeddings").flatten().to_numpy(zero_copy_only=False)
    if values.size != len(batch) * dim:
        raise ValueError(
            f"NerDLModel: the word_embeddings column does not hold {dim}-dimensional vectors "
            f"for every token (the tagger was trained on {dim}-d vectors)"
        )
    vectors = values.reshape(len(batch), dim).astype(np.float32, copy=False)
    return _tag(tagger, batch, vectors, include_confidence, include_all_scores)


def tag_looked_up_tokens(
    tokens: pa.Array,
    store: FolderLocation,
    case_sensitive: bool,
    tagger_folder: FolderLocation,
    fingerprint: str,
    include_confidence: bool,
    include_all_scores: bool,
    threads: int | None,
) -> pa.Array:
    """:func:`tag_tokens` for tokens whose vectors the tagger looks up itself, as the
    WordEmbeddingsModel that made the embeddings column does (same store, same rule)."""
    from sparkner.annotators.word_embeddings import token_vectors
    from sparkner.ner.tagger import Tagger

    tagger = Tagger.load(tagger_folder.resolve(), fingerprint, threads)
    batch = AnnotationBatch(tokens)
    _, vectors = token_vectors(batch.annotations.field("result"), store, case_sensitive)
    return _tag(tagger, batch, vectors, include_confidence, include_all_scores)


def _tag(
    tagger: Any, batch: AnnotationBatch, vectors: np.ndarray, include_confidence: bool,
    include_all_scores: bool,
) -> pa.Array:  # fmt: skip
    words = batch.annotations.field("result")
    tag_ids, scores = tagger.tag(vectors, words, batch.sentence_offsets())
    names = pa.array(tagger.config.tags, pa.string())
    metadata: dict[str, Any] = {
        "word": words,
        "sentence": pc.fill_null(batch.metadata("sentence"), "0"),
    }
    if include_all_scores:
        for k, tag in enumerate(tagger.config.tags):
            metadata[tag] = _decimal(scores[:, k])
    elif include_confidence:
        chosen = scores[np.arange(len(batch)), tag_ids] if len(batch) else np.zeros(0)
        metadata["confidence"] = _decimal(chosen)
    return build_annotations(
        NAMED_ENTITY, batch.row_offsets, batch.begin, batch.end,
        pc.take(names, pa.array(tag_ids)), metadata,
    )  # fmt: skip


def _task_threads(spark: SparkSession) -> int:
    # One task per core: each worker's TensorFlow gets the task's cores, no more.
    return int(spark.sparkContext.getConf().get("spark.task.cpus", "1"))


def _decimal(values: np.ndarray) -> pa.Array:
    return pa.array([f"{v:.4f}" for v in values.tolist()], pa.string())


# -- params ---------------------------------------------------------------------------------
class _NerParams(Params):
    includeConfidence = Param(
        Params._dummy(), "includeConfidence",
        "whether each tag carries its softmax score as metadata 'confidence'",
        typeConverter=TypeConverters.toBoolean,
    )  # fmt: skip
    includeAllConfidenceScores = Param(
        Params._dummy(), "includeAllConfidenceScores",
        "whether each token carries the score of every tag (metadata key: the tag)",
        typeConverter=TypeConverters.toBoolean,
    )  # fmt: skip
    storageRef = Param(
        Params._dummy(), "storageRef",
        "the word vectors the tagger was trained with; checked at transform()",
        typeConverter=TypeConverters.toString,
    )  # fmt: skip

    def _set_ner_defaults(self) -> None:
        self._setDefault(
            inputCols=["sentence", "token", "embeddings"], outputCol="ner",
            includeConfidence=False, includeAllConfidenceScores=False,
        )  # fmt: skip

    def setIncludeConfidence(self, value: bool) -> Any:
        return self._set(includeConfidence=value)

    def setIncludeAllConfidenceScores(self, value: bool) -> Any:
        return self._set(includeAllConfidenceScores=value)

    def getStorageRef(self) -> str:
        return self.getOrDefault(self.storageRef)


# -- the fitted model ----------------------------------------------------------------------
class NerDLModel(FolderStageReadWrite, AnnotatorTransformer, _NerParams):
    """Tags tokens with a trained tagger (inputs: sentences, tokens, word embeddings)."""

    input_annotator_types = (DOCUMENT, TOKEN, WORD_EMBEDDINGS)
    output_annotator_type = NAMED_ENTITY
    # The embeddings carry the tokens' spans, words and sentences: only they are sent.
    reads_inputs = (False, False, True)

    @keyword_only
    def __init__(
        self,
        *,
        inputCols: list[str] | None = None,
        outputCol: str | None = None,
        includeConfidence: bool | None = None,
        includeAllConfidenceScores: bool | None = None,
    ) -> None:
        super().__init__()
        self._set_ner_defaults()
        self._tagger_folder: str | None = None
        self._fingerprint = ""
        self.set_params_from(self._input_kwargs)

    def attach_files(self, folder: str | os.PathLike[str]) -> NerDLModel:
        """Use the tagger saved in ``folder`` (checked now, not inside a job)."""
        from sparkner.ner.config import WEIGHTS_FILE, read_config, read_weights

        config = read_config(folder)
        weights = Path(folder) / WEIGHTS_FILE
        if not weights.is_file():
            from sparkner.ner.config import TaggerFileError

            raise TaggerFileError(f"{folder}: no {WEIGHTS_FILE}")
        data = weights.read_bytes()
        read_weights(weights, data)  # a damaged file is refused now, not in a task
        self._tagger_folder = os.path.realpath(folder)
        self._fingerprint = hashlib.sha256(data).hexdigest()[:16]
        if config.storage_ref:
            self._set(storageRef=config.storage_ref)
        return self

    def files_folder(self) -> str:
        if self._tagger_folder is None:
            raise ValueError(
                "NerDLModel has no tagger: fit a NerDLApproach, load a saved model, or use "
                "NerDLModel.pretrained()"
            )
        return self._tagger_folder

    def tags(self) -> list[str]:
        from sparkner.ner.config import read_config

        return list(read_config(self.files_folder()).tags)

    def training_record(self) -> dict[str, Any]:
        """Settings and per-epoch figures of the training run that made this tagger."""
        from sparkner.ner.config import read_config

        return dict(read_config(self.files_folder()).extra)

    @classmethod
    def pretrained(cls, name: str = "ner_clinical") -> NerDLModel:
        """A tagger bundled with the package, loaded offline."""
        return cls().attach_files(bundled_folder(name, "tagger.json", "tagger"))

    def check_input_schema(self, schema: StructType) -> None:
        super().check_input_schema(schema)
        self._check_dimension(schema)

    def _check_dimension(self, schema: StructType) -> None:
        """Vectors of the dimension the tagger was trained on, where the column records it
        (a WordEmbeddingsModel's does): refused here, not in a task."""
        from sparkner.ner.config import read_config

        names = self.input_columns({f.name: annotator_type_of(f) for f in schema.fields})
        field = schema[names[2]]
        found = (field.metadata or {}).get(DIMENSION_KEY)
        wanted = read_config(self.files_folder()).word_dim
        if found is not None and int(found) != wanted:
            raise AnnotatorInputError(
                f"{self._describe()}: input column {field.name!r} holds {found}-dimensional "
                f"word embeddings, but this tagger was trained on {wanted}-dimensional vectors; "
                f"use the same embeddings as in training"
            )

    def _function(self, location: FolderLocation, threads: int) -> BatchFunction:
        return partial(
            tag_tokens,
            tagger_folder=location,
            fingerprint=self._fingerprint,
            include_confidence=self.getOrDefault(self.includeConfidence),
            include_all_scores=self.getOrDefault(self.includeAllConfidenceScores),
            threads=threads,
        )

    def batch_function(self) -> BatchFunction:
        return self._function(FolderLocation(self.files_folder()), threads=LOCAL_OPS_AT_ONCE)

    def spark_batch_function(self, spark: SparkSession) -> BatchFunction:
        location = ship_folder(spark, self.files_folder(), self._fingerprint)
        return self._function(location, _task_threads(spark))

    def _transform(self, dataset: DataFrame) -> DataFrame:
        self.check_input_schema(dataset.schema)
        column_types = {f.name: annotator_type_of(f) for f in dataset.schema.fields}
        names = self.input_columns(column_types)
        embeddings = names[2]
        lookup = vector_lookup_of(dataset.schema[embeddings])
        tokens = lookup and dataset.schema.fieldNames().count(lookup.token_column) == 1
        if not lookup or not tokens:
            return super()._transform(dataset)
        # The embeddings column was made here from a token column: look the vectors up in
        # the executors rather than receive them (see word_embeddings.LOOKUP_KEY).
        spark = dataset.sparkSession
        function = partial(
            tag_looked_up_tokens,
            store=ship_folder(spark, lookup.folder, lookup.fingerprint),
            case_sensitive=lookup.case_sensitive,
            tagger_folder=ship_folder(spark, self.files_folder(), self._fingerprint),
            fingerprint=self._fingerprint,
            include_confidence=self.getOrDefault(self.includeConfidence),
            include_all_scores=self.getOrDefault(self.includeAllConfidenceScores),
            threads=_task_threads(spark),
        )
        return self.annotate_with(
            dataset, [lookup.token_column], [ANNOTATIONS_ARROW_TYPE], function, names
        )


# -- training ------------------------------------------------------------------------------
class NerDLApproach(
    Estimator, InputColsParam, OutputColParam, _NerParams, DefaultParamsReadable,
    DefaultParamsWritable,
):  # fmt: skip
    """Trains a :class:`NerDLModel` in the driver from labelled, embedded tokens."""

    labelColumn = Param(Params._dummy(), "labelColumn", "the named_entity column of gold tags",
                        typeConverter=TypeConverters.toString)  # fmt: skip
    maxEpochs = Param(Params._dummy(), "maxEpochs", "maximum number of epochs",
                      typeConverter=TypeConverters.toInt)  # fmt: skip
    lr = Param(Params._dummy(), "lr", "learning rate (Adam)", typeConverter=TypeConverters.toFloat)
    po = Param(Params._dummy(), "po", "learning rate decay: lr / (1 + po * epoch)",
               typeConverter=TypeConverters.toFloat)  # fmt: skip
    batchSize = Param(Params._dummy(), "batchSize", "sentences per batch",
                      typeConverter=TypeConverters.toInt)  # fmt: skip
    dropout = Param(Params._dummy(), "dropout", "dropout rate",
                    typeConverter=TypeConverters.toFloat)  # fmt: skip
    validationSplit = Param(
        Params._dummy(), "validationSplit",
        "fraction of training sentences held out to validate each epoch (0: none)",
        typeConverter=TypeConverters.toFloat,
    )  # fmt: skip
    randomSeed = Param(Params._dummy(), "randomSeed", "seed for initialization, batching, dropout",
                       typeConverter=TypeConverters.toInt)  # fmt: skip
    enableOutputLogs = Param(Params._dummy(), "enableOutputLogs",
                             "whether to write the epoch log to outputLogsPath",
                             typeConverter=TypeConverters.toBoolean)  # fmt: skip
    outputLogsPath = Param(Params._dummy(), "outputLogsPath", "folder for the training log",
                           typeConverter=TypeConverters.toString)  # fmt: skip
    useBestModel = Param(Params._dummy(), "useBestModel",
                         "keep the epoch with the best validation F1, not the last",
                         typeConverter=TypeConverters.toBoolean)  # fmt: skip
    verbose = Param(Params._dummy(), "verbose", "whether to show a progress bar per epoch",
                    typeConverter=TypeConverters.toBoolean)  # fmt: skip
    patience = Param(Params._dummy(), "patience",
                     "stop after this many epochs without a better validation F1 (0: never)",
                     typeConverter=TypeConverters.toInt)  # fmt: skip
    hiddenSize = Param(Params._dummy(), "hiddenSize", "LSTM units per direction",
                       typeConverter=TypeConverters.toInt)  # fmt: skip
    lstmLayers = Param(Params._dummy(), "lstmLayers", "number of BiLSTM layers",
                       typeConverter=TypeConverters.toInt)  # fmt: skip
    charFilters = Param(Params._dummy(), "charFilters",
                        "filters of the character CNN (its features per word)",
                        typeConverter=TypeConverters.toInt)  # fmt: skip

    @keyword_only
    def __init__(self, **kwargs: Any) -> None:
        super().__init__()
        self._set_ner_defaults()
        self._setDefault(
            labelColumn="label", maxEpochs=30, lr=1e-3, po=0.005, batchSize=16, dropout=0.5,
            validationSplit=0.0, randomSeed=0, enableOutputLogs=False, useBestModel=True,
            verbose=False, patience=5, hiddenSize=100, lstmLayers=1, charFilters=30,
        )  # fmt: skip
        self._test_dataset: DataFrame | str | None = None
        apply_setters(self, self._input_kwargs)

    # Fluent setters, checked where a bad value would only fail later.
    def setLabelColumn(self, value: str) -> NerDLApproach:
        return self._set(labelColumn=value)

    def setMaxEpochs(self, value: int) -> NerDLApproach:
        return self._set(maxEpochs=at_least("maxEpochs", value, 1))

    def setLr(self, value: float) -> NerDLApproach:
        return self._set(lr=positive("lr", value))

    def setPo(self, value: float) -> NerDLApproach:
        return self._set(po=at_least("po", value, 0))

    def setBatchSize(self, value: int) -> NerDLApproach:
        return self._set(batchSize=at_least("batchSize", value, 1))

    def setDropout(self, value: float) -> NerDLApproach:
        if not 0 <= float(value) < 1:
            raise ValueError(f"dropout must be in [0, 1), got {value}")
        return self._set(dropout=float(value))

    def setValidationSplit(self, value: float) -> NerDLApproach:
        if not 0 <= float(value) < 1:
            raise ValueError(f"validationSplit must be in [0, 1), got {value}")
        return self._set(validationSplit=float(value))

    def setRandomSeed(self, value: int) -> NerDLApproach:
        return self._set(randomSeed=int(value))

    def setEnableOutputLogs(self, value: bool) -> NerDLApproach:
        return self._set(enableOutputLogs=value)

    def setOutputLogsPath(self, value: str) -> NerDLApproach:
        return self._set(outputLogsPath=value)

    def setUseBestModel(self, value: bool) -> NerDLApproach:
        return self._set(useBestModel=value)

    def setVerbose(self, value: bool | int) -> NerDLApproach:
        return self._set(verbose=bool(value))

    def setPatience(self, value: int) -> NerDLApproach:
        return self._set(patience=at_least("patience", value, 0))

    def setHiddenSize(self, value: int) -> NerDLApproach:
        return self._set(hiddenSize=at_least("hiddenSize", value, 1))

    def setLstmLayers(self, value: int) -> NerDLApproach:
        return self._set(lstmLayers=at_least("lstmLayers", value, 1))

    def setCharFilters(self, value: int) -> NerDLApproach:
        return self._set(charFilters=at_least("charFilters", value, 1))

    def setTestDataset(self, value: DataFrame | str) -> NerDLApproach:
        """A held-out set evaluated after every epoch (a DataFrame, or a Parquet path of one,
        with the training data's columns). As in the reference product, ``useBestModel`` and
        early stopping watch its F1 when it is set. Pass a dev split here, not a test split."""
        self._test_dataset = value
        return self

    def _fit(self, dataset: DataFrame) -> NerDLModel:
        from sparkner.ner.network import TaggerConfig, TaggerNetwork
        from sparkner.ner.tagger import Tagger
        from sparkner.ner.threads import configure_threads
        from sparkner.ner.training import TrainingSettings, evaluate_set, train_network

        columns = self._check_training_columns(dataset.schema)
        storage_ref = _storage_ref(dataset.schema, columns[2])
        data = collect_training_data(dataset, *columns)
        self._split_validation(data)
        if self._test_dataset is not None:
            test = self._test_dataset
            frame = dataset.sparkSession.read.parquet(test) if isinstance(test, str) else test
            self._check_training_columns(frame.schema)
            add_vocabulary(data, frame, columns[2])
            data.test = collect_sentences(frame, *columns, data)

        configure_threads(LOCAL_OPS_AT_ONCE)  # training runs in the driver, a process of its own
        # Characters of the training words only: held-out text must not shape the model.
        train_words = np.unique(data.train.word_ids)
        chars = sorted({ch for i in train_words.tolist() for ch in data.words[i]})
        config = TaggerConfig(
            tags=data.tags, chars=chars, word_dim=int(data.vectors.shape[1]),
            storage_ref=storage_ref, hidden=self.getOrDefault(self.hiddenSize),
            layers=self.getOrDefault(self.lstmLayers), dropout=self.getOrDefault(self.dropout),
            char_filters=self.getOrDefault(self.charFilters),
        )  # fmt: skip
        network = TaggerNetwork(config, seed=self.getOrDefault(self.randomSeed))
        log_lines: list[str] = []
        settings = TrainingSettings(
            max_epochs=self.getOrDefault(self.maxEpochs), lr=self.getOrDefault(self.lr),
            po=self.getOrDefault(self.po), batch_size=self.getOrDefault(self.batchSize),
            dropout=self.getOrDefault(self.dropout), patience=self.getOrDefault(self.patience),
            seed=self.getOrDefault(self.randomSeed),
            use_best_model=self.getOrDefault(self.useBestModel)
            and (data.validation is not None or data.test is not None),
            verbose=self.getOrDefault(self.verbose), log=self._logger(log_lines),
        )  # fmt: skip
        records = train_network(network, data, settings, Tagger)
        record: dict[str, Any] = {
            "training_sentences": len(data.train),
            "validation_sentences": len(data.validation) if data.validation else 0,
            "epochs": [r.__dict__ for r in records],
        }
        if data.test is not None:
            tagger = Tagger(network)
            chars_table = np.concatenate(
                [tagger.char_ids(data.words), np.zeros((1, config.max_word_chars), np.int32)]
            )
            record["test"] = evaluate_set(tagger, data, data.test, chars_table)
            settings.log(f"testDataset, kept model: {record['test']}")  # type: ignore[misc]
        config.extra = record
        folder = scratch_folder("sparkner-tagger-")
        network.save(folder)
        self._write_log(log_lines)
        model = NerDLModel(
            inputCols=self.getOrDefault(self.inputCols),
            outputCol=self.getOrDefault(self.outputCol),
            includeConfidence=self.getOrDefault(self.includeConfidence),
            includeAllConfidenceScores=self.getOrDefault(self.includeAllConfidenceScores),
        )
        return model.attach_files(folder)

    def _check_training_columns(self, schema: StructType) -> tuple[str, str, str, str]:
        probe = NerDLModel(inputCols=self.getOrDefault(self.inputCols))
        AnnotatorTransformer.check_input_schema(probe, schema)
        sentence, token, embeddings = probe.input_columns(
            {f.name: annotator_type_of(f) for f in schema.fields}
        )
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
        return sentence, token, embeddings, label

    def _split_validation(self, data) -> None:
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

    def _logger(self, lines: list[str]):
        verbose = self.getOrDefault(self.verbose)

        def log(line: str) -> None:
            lines.append(line)
            if verbose:
                import sys

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


# -- collecting training data without holding it as Python objects ---------------------------
def collect_training_data(frame: DataFrame, sentence: str, token: str, embeddings: str, label: str):
    """Distinct words with their vectors (deduplicated by Spark), then word and tag ids."""
    from sparkner.ner.training import TrainingData

    data = TrainingData(
        words=[], vectors=np.zeros((0, 0), np.float32), tags=[],
        train=None,  # type: ignore[arg-type]
    )  # fmt: skip
    add_vocabulary(data, frame, embeddings)
    data.train = collect_sentences(frame, sentence, token, embeddings, label, data, grow_tags=True)
    if len(data.train) == 0:
        raise ValueError("NerDLApproach: the training data has no labelled sentences")
    return data


def add_vocabulary(data, frame: DataFrame, embeddings: str) -> None:
    """Add the distinct words of ``frame`` and their vectors to ``data`` (Spark dedupes them,
    so only one vector per distinct word reaches the driver)."""
    vocabulary = (
        frame.select(F.explode(embeddings).alias("e"))
        .select(F.col("e.result").alias("word"), F.col("e.embeddings").alias("vector"))
        .dropDuplicates(["word"])
        .toArrow()
    )
    if vocabulary.num_rows == 0:
        if not data.words:
            raise ValueError("NerDLApproach: the training data has no embedded tokens")
        return
    words = vocabulary.column("word").combine_chunks()
    vector_lists = vocabulary.column("vector").combine_chunks()
    lengths = pc.list_value_length(vector_lists).to_numpy(zero_copy_only=False)
    dim = int(lengths.max())
    expected = data.vectors.shape[1] if data.words else dim
    if dim == 0 or (lengths != expected).any():
        raise ValueError(
            f"NerDLApproach: column {embeddings!r} must hold one {expected}-dimensional vector "
            f"per token; found dimensions {sorted(set(lengths.tolist()))[:5]}"
        )
    vectors = vector_lists.flatten().to_numpy(zero_copy_only=False).reshape(-1, dim)
    known = pc.is_in(words, value_set=pa.array(data.words, pa.string()))
    new = pc.invert(known).to_numpy(zero_copy_only=False)
    data.words.extend(pc.filter(words, pc.invert(known)).to_pylist())
    fresh = vectors[new].astype(np.float32)
    data.vectors = fresh if data.vectors.size == 0 else np.concatenate([data.vectors, fresh])


def collect_sentences(
    frame: DataFrame, sentence: str, token: str, embeddings: str, label: str, data,
    grow_tags: bool = False,
):  # fmt: skip
    """Sentences of ``frame`` as ids into ``data``'s vocabulary and tag set."""
    from sparkner.ner.training import SentenceSet

    table = frame.select(
        F.col(f"{embeddings}.result").alias("words"),
        F.transform(embeddings, lambda e: e["metadata"]["sentence"]).alias("sentence"),
        F.col(f"{label}.result").alias("tags"),
        F.col(f"{embeddings}.begin").alias("begins"),
        F.col(f"{label}.begin").alias("tag_begins"),
    ).toArrow()
    word_counts = pc.fill_null(pc.list_value_length(table.column("words")), 0)
    tag_counts = pc.fill_null(pc.list_value_length(table.column("tags")), 0)
    same = pc.equal(word_counts, tag_counts)
    if (
        not pc.all(same).as_py()
        or not pc.all(
            pc.equal(
                pc.list_flatten(table.column("begins")), pc.list_flatten(table.column("tag_begins"))
            )
        ).as_py()
    ):
        bad = [i for i, ok in enumerate(same.to_pylist()) if not ok][:1]
        where = f" (first at row {bad[0]})" if bad else ""
        raise ValueError(
            f"NerDLApproach: the label column {label!r} is not aligned with the tokens of "
            f"{embeddings!r}: each token needs one tag at the same begin{where}"
        )
    words = pc.list_flatten(table.column("words"))
    word_ids = pc.index_in(words, value_set=pa.array(data.words, pa.string()))
    word_ids = pc.fill_null(word_ids, -1).to_numpy(zero_copy_only=False).astype(np.int32)
    # Tags go through a dictionary encoding: one Python string per distinct tag, not per token.
    flat_tags = pc.fill_null(pc.list_flatten(table.column("tags")), "O")
    encoded = pc.dictionary_encode(flat_tags).combine_chunks()
    distinct = encoded.dictionary.to_pylist()
    index = {t: i for i, t in enumerate(data.tags)}
    if grow_tags:
        for tag in sorted(set(distinct), key=lambda t: (t != "O", t)):
            index.setdefault(tag, len(index))
        data.tags[:] = list(index)
    unknown = sorted(t for t in distinct if t not in index)
    if unknown:
        raise ValueError(f"NerDLApproach: tags {unknown[:5]} do not occur in the training data")
    mapping = np.array([index[t] for t in distinct], dtype=np.int16)
    tag_ids = mapping[encoded.indices.to_numpy(zero_copy_only=False)]
    rows = np.repeat(np.arange(table.num_rows), word_counts.to_numpy(zero_copy_only=False))
    sentence_ids = pc.cast(
        pc.fill_null(pc.list_flatten(table.column("sentence")), "0"), pa.int64()
    ).to_numpy(zero_copy_only=False)
    if len(rows):
        change = (rows[1:] != rows[:-1]) | (sentence_ids[1:] != sentence_ids[:-1])
        starts = np.flatnonzero(np.concatenate([[True], change]))
    else:
        starts = np.zeros(0, dtype=np.int64)
    offsets = np.concatenate([starts, [len(rows)]]).astype(np.int64)
    return SentenceSet(word_ids, tag_ids, offsets)


def _storage_ref(schema: StructType, column: str) -> str:
    for field in schema.fields:
        if field.name == column:
            return str((field.metadata or {}).get(STORAGE_REF_KEY, ""))
    return ""
