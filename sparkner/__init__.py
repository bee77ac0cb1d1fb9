"""sparkner: open clinical named-entity recognition for Apache Spark."""

from sparkner.annotation import Annotation
from sparkner.annotators.document_assembler import DocumentAssembler
from sparkner.annotators.ner_converter import NerConverter
from sparkner.annotators.ner_dl import NerDLApproach, NerDLModel
from sparkner.annotators.sentence_detector import SentenceDetector
from sparkner.annotators.tokenizer import Tokenizer
from sparkner.annotators.word_embeddings import WordEmbeddings, WordEmbeddingsModel
from sparkner.light_pipeline import LightPipeline
from sparkner.session import start

__version__ = "0.1.0"

__all__ = [
    "Annotation",
    "DocumentAssembler",
    "LightPipeline",
    "NerConverter",
    "NerDLApproach",
    "NerDLModel",
    "SentenceDetector",
    "Tokenizer",
    "WordEmbeddings",
    "WordEmbeddingsModel",
    "__version__",
    "start",
]
