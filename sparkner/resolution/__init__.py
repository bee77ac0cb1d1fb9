"""Concept resolution: a chunk's text to a code of a vocabulary (ICD-10-CM, MeSH, DrugBank).

Pure code over strings and numpy: candidate aliases by character n-gram TF-IDF with exact
nearest neighbours (:mod:`.index`), abbreviations defined in the same note
(:mod:`.abbreviations`), a linear re-ranker over candidate concepts (:mod:`.ranker`), the
resolver folder (:mod:`.store`) and the batch function over annotation arrays
(:mod:`.resolver`).
"""
