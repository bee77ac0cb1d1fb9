"""The resolution engine: n-gram retrieval robust to spelling and word order, abbreviations
of the same note, the re-ranker, the threshold, the batch function's rows, and the folder
format (no pickle, damage refused)."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest

from sparkner.core.annotation import ANNOTATIONS_ARROW_TYPE
from sparkner.resolution.abbreviations import expand, find_abbreviations
from sparkner.resolution.composites import split_composite
from sparkner.resolution.index import build_index
from sparkner.resolution.ranker import FEATURES, Ranker, train_ranker
from sparkner.resolution.resolver import ENTITY, load_resolver, resolve_chunks
from sparkner.resolution.store import Concept, ResolverError, write_resolver
from sparkner.resolution.text import char_ngrams, normalize, stem

CONCEPTS = [
    Concept(
        "J44.9",
        "Chronic obstructive pulmonary disease, unspecified",
        "",
        ("PROBLEM",),
        ["Chronic obstructive pulmonary disease", "Chronic obstructive lung disease"],
    ),
    Concept(
        "E11.9",
        "Type 2 diabetes mellitus without complications",
        "",
        ("PROBLEM",),
        ["Type 2 diabetes mellitus", "adult-onset diabetes"],
    ),
    Concept(
        "I10",
        "Essential (primary) hypertension",
        "",
        ("PROBLEM",),
        ["Essential hypertension", "Hypertension", "high blood pressure"],
    ),
    Concept("C50.9", "Malignant neoplasm of breast", "", ("PROBLEM",), ["Breast cancer"]),
    Concept("DB00945", "aspirin", "R16CO5Y76E", ("TREATMENT_DRUG",), ["acetylsalicylic acid"]),
]


@pytest.fixture(scope="module")
def resolver(tmp_path_factory):
    folder = tmp_path_factory.mktemp("resolver")
    write_resolver(folder, "tiny", "TINY", CONCEPTS, embeddings=None)
    return load_resolver(str(folder))


def _code(resolver, text, entity=None):
    found = resolver.resolve(text, entity)
    return resolver.vocabulary.codes[found[0].concept] if found else None


def test_normal_form_folds_case_accents_punctuation_and_british_spelling():
    assert normalize("  Tumour,  Anaemia; Œdema (café)") == "tumor anemia edema cafe"
    assert [stem(w) for w in ["tumors", "fibrosis", "bodies", "virus"]] == [
        "tumor",
        "fibrosis",
        "body",
        "virus",
    ]
    # Per-word padding: the n-grams do not depend on word order.
    assert char_ngrams("breast cancer") == char_ngrams("cancer breast")


def test_ngram_search_finds_misspelt_and_reordered_terms():
    aliases = [
        normalize(a)
        for a in [
            "chronic obstructive pulmonary disease",
            "diabetes mellitus",
            "pulmonary embolism",
            "hypertension",
        ]
    ]
    index = build_index(aliases)
    found, scores = index.search(normalize("pulmonary disease, chronic obstructive"), 2)
    assert found[0] == 0 and scores[0] == pytest.approx(1.0, abs=1e-3)
    found, scores = index.search(normalize("diabetis melitus"), 4)
    assert found[0] == 1 and 0.3 < scores[0] < 1
    assert scores.tolist() == sorted(scores.tolist(), reverse=True)
    assert index.search("", 3)[0].size == 0
    assert index.search("zzzz", 3)[0].size == 0  # no known n-gram: no candidate
    # Searched together (one sparse product per block) as one at a time.
    queries = [normalize(q) for q in ["diabetis", "", "pulmonary", "zzzz", "hypertension"]]
    for (many, many_scores), query in zip(index.search_many(queries, 3), queries, strict=True):
        one, one_scores = index.search(query, 3)
        assert many.tolist() == one.tolist()
        assert many_scores.tolist() == pytest.approx(one_scores.tolist())


def test_the_resolver_codes_spelling_variants_and_word_orders(resolver):
    assert _code(resolver, "Type II diabetes mellitus") == "E11.9"
    assert _code(resolver, "diabetes mellitus type 2") == "E11.9"
    assert _code(resolver, "hypertenson") == "I10"
    assert _code(resolver, "cancer of the breast") == "C50.9"
    assert _code(resolver, "breast carcinoma") == "C50.9"  # a synonym of the head word


def test_coordinations_split_into_the_mentions_they_stand_for():
    assert split_composite("breast and ovarian cancer") == ["breast cancer", "ovarian cancer"]
    assert split_composite("brain, breast, and prostate cancer") == [
        "brain cancer",
        "breast cancer",
        "prostate cancer",
    ]
    assert split_composite("cancer of the breast and ovaries") == [
        "cancer of breast",
        "cancer of ovaries",
    ]
    assert split_composite("cleft lip/palate") == ["cleft lip", "cleft palate"]
    assert split_composite("Duchenne or Becker muscular dystrophy") == [
        "Duchenne muscular dystrophy",
        "Becker muscular dystrophy",
    ]
    for single in ["nausea and vomiting", "chest pain", "", "   ", "disorder of x and y z"]:
        assert split_composite(single) is None, single


def test_a_composite_is_resolved_as_its_parts_unless_the_whole_is_a_name(tmp_path):
    concepts = [
        *CONCEPTS,
        Concept("C56.9", "Malignant neoplasm of ovary", "", ("PROBLEM",), ["Ovarian cancer"]),
        Concept("R11.2", "Nausea with vomiting", "", ("PROBLEM",), ["Nausea and vomiting"]),
        Concept("Q37.9", "Cleft palate with cleft lip", "", ("PROBLEM",), ["cleft lip/palate"]),
    ]
    write_resolver(tmp_path, "tiny", "TINY", concepts, embeddings=None)
    resolver = load_resolver(str(tmp_path))
    codes = resolver.vocabulary.codes
    whole, split, named, plain = resolver.resolve_mentions(
        ["nausea and vomiting", "breast and ovarian cancer", "cleft lip/palate", "hypertension"],
        "PROBLEM",
    )
    assert not whole.parts and codes[whole.best.concept] == "R11.2"
    assert [codes[c] for c in split.concepts()] == ["C50.9", "C56.9"]
    assert [p for p, _ in split.parts] == ["breast cancer", "ovarian cancer"]
    assert split.confidence == min(c.probability for _, c in split.parts)
    assert not named.parts and codes[named.best.concept] == "Q37.9"  # an alias word for word
    assert [codes[c] for c in plain.concepts()] == ["I10"]
    (off,) = resolver.resolve_mentions(["breast and ovarian cancer"], "PROBLEM", False)
    assert not off.parts
    # The stage's metadata: the first part's code as result, every code NCBI-style.
    documents, chunks = _rows([("breast and ovarian cancer", [("breast and ovarian cancer", "X")])])
    (annotation,) = resolve_chunks(documents, chunks, resolver, composites=True).to_pylist()[0]
    metadata = dict(annotation["metadata"])
    assert annotation["result"] == "C50.9"
    assert metadata["composite_codes"] == "C50.9|C56.9"
    assert metadata["composite_texts"] == "breast cancer|ovarian cancer"
    (annotation,) = resolve_chunks(documents, chunks, resolver).to_pylist()[0]
    assert "composite_codes" not in dict(annotation["metadata"])


def test_abbreviations_defined_in_the_note_are_expanded():
    note = (
        "Patient with chronic obstructive pulmonary disease (COPD) and Duchenne muscular "
        "dystrophy (DMD). Later COPD exacerbation; the DMD was stable."
    )
    found = find_abbreviations(note)
    assert found == {
        "COPD": "chronic obstructive pulmonary disease",
        "DMD": "Duchenne muscular dystrophy",
    }
    assert expand("COPD", found) == "chronic obstructive pulmonary disease"
    assert (
        expand("COPD exacerbation", found) == "chronic obstructive pulmonary disease exacerbation"
    )
    assert expand("copd", found) == "copd"  # case matters: a short form is written as defined
    assert find_abbreviations("Blood pressure (BP) was high, see (figure 2).") == {
        "BP": "Blood pressure"
    }
    assert find_abbreviations("no parentheses here") == {}


def test_the_ranker_learns_to_prefer_the_gold_candidate():
    rng = np.random.default_rng(1)
    features, gold = [], []
    for _ in range(200):
        rows = rng.uniform(0, 1, (5, len(FEATURES)))
        rows[:, 0] = 1.0
        right = int(np.argmax(rows[:, 5]))  # the jaccard column decides
        features.append(rows)
        gold.append(np.arange(5) == right)
    ranker = train_ranker(features, gold, steps=300)
    hits = sum(
        int(np.argmax(ranker.probabilities(f))) == int(np.argmax(g))
        for f, g in zip(features, gold, strict=True)
    )
    assert hits >= 180
    assert Ranker.from_json(json.loads(json.dumps(ranker.to_json()))).weights.shape == (
        len(FEATURES),
    )


def _column(rows):
    return pa.array(rows, ANNOTATIONS_ARROW_TYPE)


def _annotation(kind, begin, end, result, **metadata):
    return {
        "annotatorType": kind,
        "begin": begin,
        "end": end,
        "result": result,
        "metadata": list(metadata.items()),
        "embeddings": [],
    }


def _rows(texts_and_chunks):
    documents, chunks = [], []
    for text, spans in texts_and_chunks:
        if text is None:
            documents.append(None)
            chunks.append(None)
            continue
        documents.append([_annotation("document", 0, max(len(text) - 1, 0), text)])
        chunks.append(
            [
                _annotation(
                    "chunk",
                    text.rindex(s),
                    text.rindex(s) + len(s) - 1,
                    s,
                    entity=e,
                    sentence="0",
                    chunk=str(i),
                )
                for i, (s, e) in enumerate(spans)
            ]
        )
    return _column(documents), _column(chunks)


NOTE = "Chronic obstructive pulmonary disease (COPD). Takes aspirin. COPD is worse. Blorptax."


def test_the_batch_function_keeps_every_row_and_writes_the_metadata(resolver):
    documents, chunks = _rows(
        [
            (NOTE, [("COPD", "PROBLEM"), ("aspirin", "TREATMENT"), ("Blorptax", "PROBLEM")]),
            (None, []),
            ("", []),
            ("Hypertension.", [("Hypertension", "PROBLEM")]),
        ]
    )
    out = resolve_chunks(documents, chunks, resolver, ("PROBLEM",), threshold=0.3, neighbours=3)
    rows = out.to_pylist()
    assert len(rows) == 4 and rows[1] == [] and rows[2] == []
    (copd,) = rows[0]  # aspirin is not a PROBLEM; Blorptax is like no concept
    assert copd["annotatorType"] == ENTITY and copd["result"] == "J44.9"
    start = NOTE.rindex("COPD")  # the chunk after the definition
    assert (copd["begin"], copd["end"]) == (start, start + 3)
    metadata = dict(copd["metadata"])
    assert metadata["target_text"] == "COPD"
    assert metadata["resolved_text"] == "Chronic obstructive pulmonary disease, unspecified"
    assert metadata["vocabulary"] == "TINY" and metadata["entity"] == "PROBLEM"
    assert metadata["chunk"] == "0" and metadata["sentence"] == "0"
    assert 0.3 <= float(metadata["confidence"]) <= 1 and 0 <= float(metadata["distance"]) <= 1
    for key in ("all_k_results", "all_k_resolutions", "all_k_distances", "all_k_confidences"):
        assert 1 <= len(metadata[key].split(":::")) <= 3
    assert metadata["all_k_results"].split(":::")[0] == "J44.9"
    assert rows[3][0]["result"] == "I10"


def test_the_threshold_gives_no_code_rather_than_a_doubtful_one(resolver):
    documents, chunks = _rows([("Blorptax and qwzx.", [("Blorptax", "PROBLEM"), ("qwzx", "X")])])
    assert resolve_chunks(documents, chunks, resolver, (), threshold=0.3).to_pylist() == [[]]
    documents, chunks = _rows([("hypertenson", [("hypertenson", "PROBLEM")])])
    assert resolve_chunks(documents, chunks, resolver, (), threshold=0.0).to_pylist()[0]
    assert resolve_chunks(documents, chunks, resolver, (), threshold=1.0).to_pylist() == [[]]


def test_entity_types_choose_the_chunks(resolver):
    documents, chunks = _rows([("aspirin", [("aspirin", "TREATMENT")])])
    assert resolve_chunks(documents, chunks, resolver, ("PROBLEM",)).to_pylist() == [[]]
    (only,) = resolve_chunks(documents, chunks, resolver, ("treatment",)).to_pylist()[0]
    assert only["result"] == "DB00945" and dict(only["metadata"])["aux"] == "R16CO5Y76E"


def test_folders_load_without_pickle_and_damage_is_refused(tmp_path):
    folder = tmp_path / "r"
    write_resolver(folder, "tiny", "TINY", CONCEPTS, embeddings=None)
    assert load_resolver(str(folder)).vocabulary.codes[0] == "J44.9"
    np.save(folder / "alias_flags.npy", np.array([{"x": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ResolverError, match=r"alias_flags\.npy"):
        load_resolver(str(folder))
    write_resolver(folder, "tiny", "TINY", CONCEPTS, embeddings=None)
    (folder / "alias_forms.txt").write_text("one form\n")
    with pytest.raises(ResolverError, match=r"alias_forms\.txt and aliases\.txt differ"):
        load_resolver(str(folder))
    # A folder without the normal forms (an older one) normalises aliases as it meets them.
    (folder / "alias_forms.txt").unlink()
    older = load_resolver(str(folder))
    assert older.vocabulary.alias_forms is None
    assert older.vocabulary.codes[older.resolve("hypertenson")[0].concept] == "I10"
    write_resolver(folder, "tiny", "TINY", CONCEPTS, embeddings=None)
    np.save(folder / "alias_concept.npy", np.zeros(2, np.int32))
    with pytest.raises(ResolverError, match="differ in length"):
        load_resolver(str(folder))
    with pytest.raises(ResolverError, match=r"no resolver\.json"):
        load_resolver(str(tmp_path))


def test_a_vocabulary_needs_an_alias(tmp_path):
    with pytest.raises(ValueError, match="at least one concept"):
        write_resolver(tmp_path / "x", "x", "X", [Concept("A", "...")], embeddings=None)
