"""Every annotator, as Spark NLP users import them from ``sparknlp.annotator``:
``from sparkner.annotator import *``. Spark NLP for Healthcare's names (``from
sparknlp_jsl.annotator import *``: ``MedicalNerModel``, ``MedicalNerApproach``,
``NerConverterInternal``, ``AssertionDLModel``) come with them, and ``ReadAs``."""

from sparkner.annotators.assertion import AssertionModel
from sparkner.annotators.chunk_merge import ChunkMergeApproach, ChunkMergeModel
from sparkner.annotators.chunk_resolver import ChunkResolverApproach, ChunkResolverModel
from sparkner.annotators.healthcare import (
    AssertionDLModel,
    MedicalNerApproach,
    MedicalNerModel,
    NerConverterInternal,
)
from sparkner.annotators.lexicon_matcher import LexiconMatcher, LexiconMatcherModel
from sparkner.annotators.ner_converter import NerConverter
from sparkner.annotators.ner_dl import NerDLApproach, NerDLModel
from sparkner.annotators.normalizer import Normalizer, NormalizerModel
from sparkner.annotators.regex_matcher import RegexMatcher, RegexMatcherModel
from sparkner.annotators.section_detector import SectionDetector
from sparkner.annotators.sentence_detector import SentenceDetector
from sparkner.annotators.stop_words_cleaner import StopWordsCleaner
from sparkner.annotators.text_matcher import TextMatcher, TextMatcherModel
from sparkner.annotators.tokenizer import Tokenizer, TokenizerModel
from sparkner.annotators.word_embeddings import WordEmbeddings, WordEmbeddingsModel
from sparkner.core.common import ReadAs

__all__ = [
    "AssertionDLModel",
    "AssertionModel",
    "ChunkMergeApproach",
    "ChunkMergeModel",
    "ChunkResolverApproach",
    "ChunkResolverModel",
    "LexiconMatcher",
    "LexiconMatcherModel",
    "MedicalNerApproach",
    "MedicalNerModel",
    "NerConverter",
    "NerConverterInternal",
    "NerDLApproach",
    "NerDLModel",
    "Normalizer",
    "NormalizerModel",
    "ReadAs",
    "RegexMatcher",
    "RegexMatcherModel",
    "SectionDetector",
    "SentenceDetector",
    "StopWordsCleaner",
    "TextMatcher",
    "TextMatcherModel",
    "Tokenizer",
    "TokenizerModel",
    "WordEmbeddings",
    "WordEmbeddingsModel",
]
