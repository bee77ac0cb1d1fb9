"""Every annotator, as Spark NLP users import them from ``sparknlp.annotator``:
``from sparkner.annotator import *``."""

from sparkner.annotators.assertion import AssertionModel
from sparkner.annotators.lexicon_matcher import LexiconMatcher, LexiconMatcherModel
from sparkner.annotators.ner_converter import NerConverter
from sparkner.annotators.ner_dl import NerDLApproach, NerDLModel
from sparkner.annotators.section_detector import SectionDetector
from sparkner.annotators.sentence_detector import SentenceDetector
from sparkner.annotators.tokenizer import Tokenizer, TokenizerModel
from sparkner.annotators.word_embeddings import WordEmbeddings, WordEmbeddingsModel

__all__ = [
    "AssertionModel",
    "LexiconMatcher",
    "LexiconMatcherModel",
    "NerConverter",
    "NerDLApproach",
    "NerDLModel",
    "SectionDetector",
    "SentenceDetector",
    "Tokenizer",
    "TokenizerModel",
    "WordEmbeddings",
    "WordEmbeddingsModel",
]
