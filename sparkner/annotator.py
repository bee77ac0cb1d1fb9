"""Every annotator, as Spark NLP users import them from ``sparknlp.annotator``:
``from sparkner.annotator import *``. Spark NLP for Healthcare's names (``from
sparknlp_jsl.annotator import *``: ``MedicalNerModel``, ``MedicalNerApproach``,
``NerConverterInternal``, ``AssertionDLModel``) come with them, and ``ReadAs``."""

from sparkner.annotators.assertion import AssertionModel
from sparkner.annotators.healthcare import (
    AssertionDLModel,
    MedicalNerApproach,
    MedicalNerModel,
    NerConverterInternal,
)
from sparkner.annotators.lexicon_matcher import LexiconMatcher, LexiconMatcherModel
from sparkner.annotators.ner_converter import NerConverter
from sparkner.annotators.ner_dl import NerDLApproach, NerDLModel
from sparkner.annotators.section_detector import SectionDetector
from sparkner.annotators.sentence_detector import SentenceDetector
from sparkner.annotators.tokenizer import Tokenizer, TokenizerModel
from sparkner.annotators.word_embeddings import WordEmbeddings, WordEmbeddingsModel
from sparkner.core.common import ReadAs

__all__ = [
    "AssertionDLModel",
    "AssertionModel",
    "LexiconMatcher",
    "LexiconMatcherModel",
    "MedicalNerApproach",
    "MedicalNerModel",
    "NerConverter",
    "NerConverterInternal",
    "NerDLApproach",
    "NerDLModel",
    "ReadAs",
    "SectionDetector",
    "SentenceDetector",
    "Tokenizer",
    "TokenizerModel",
    "WordEmbeddings",
    "WordEmbeddingsModel",
]
