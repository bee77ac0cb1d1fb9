"""sparkner: open clinical named-entity recognition for Apache Spark."""

from sparkner._version import __version__
from sparkner.annotators.assertion import AssertionModel
from sparkner.annotators.document_assembler import DocumentAssembler
from sparkner.annotators.finisher import EmbeddingsFinisher, Finisher
from sparkner.annotators.lexicon_matcher import LexiconMatcher, LexiconMatcherModel
from sparkner.annotators.ner_converter import NerConverter
from sparkner.annotators.ner_dl import NerDLApproach, NerDLModel
from sparkner.annotators.sentence_detector import SentenceDetector
from sparkner.annotators.tokenizer import Tokenizer, TokenizerModel
from sparkner.annotators.word_embeddings import WordEmbeddings, WordEmbeddingsModel
from sparkner.apps.light_pipeline import LightPipeline
from sparkner.core.annotation import Annotation
from sparkner.runtime.session import start


def version() -> str:
    """sparkner's version (as ``sparknlp.version()``)."""
    return __version__


__all__ = [
    "Annotation",
    "AssertionModel",
    "DocumentAssembler",
    "EmbeddingsFinisher",
    "Finisher",
    "LexiconMatcher",
    "LexiconMatcherModel",
    "LightPipeline",
    "NerConverter",
    "NerDLApproach",
    "NerDLModel",
    "SentenceDetector",
    "Tokenizer",
    "TokenizerModel",
    "WordEmbeddings",
    "WordEmbeddingsModel",
    "__version__",
    "start",
    "version",
]
