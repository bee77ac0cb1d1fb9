"""Self-training: the teacher's confident sentences become silver training sentences."""

from __future__ import annotations

import pytest

from sparkner.annotators.word_embeddings import WordEmbeddingsModel
from sparkner.resources import bundled_folder
from sparkner.training.self_training import (
    SelfTrainingSettings,
    confident_sentences,
    silver_sentences,
    teacher_pipeline,
)

TEXTS = [
    "She denies chest pain. The weather was fine today.",
    "Chest CT showed pneumonia; started ceftriaxone. Follow up in two weeks.",
    "Known diabetes mellitus on metformin. HbA1c was 8.1%.",
    "",
    "History of hypertension, treated with lisinopril.",
]


@pytest.fixture(scope="module")
def teacher():
    folder = str(bundled_folder("ner_clinical", "tagger.json", "tagger"))
    return teacher_pipeline(folder, WordEmbeddingsModel.pretrained())


def _settings(**changes) -> SelfTrainingSettings:
    return SelfTrainingSettings.of({"teacher": "t", "files": ["f"], **changes})


def test_every_sentence_with_an_entity_when_any_confidence_will_do(teacher):
    columns = teacher.annotate_batch(TEXTS)
    kept = list(confident_sentences(columns, 0.0))
    chunks = [c for row in teacher.fullAnnotate(TEXTS) for c in row["ner_chunk"]]
    assert sum(len(entities) for _, entities in kept) == len(chunks) > 4
    texts = [text for text, _ in kept]
    assert "The weather was fine today." not in texts  # no entity: not a silver sentence
    for text, entities in kept:
        for entity in entities:  # offsets into the sentence, end exclusive
            assert text[entity.begin : entity.end] in {c.result for c in chunks}
            assert entity.type in ("PROBLEM", "TEST", "TREATMENT")


def test_a_stricter_threshold_keeps_a_subset_of_sure_sentences(teacher):
    columns = teacher.annotate_batch(TEXTS)
    loose = [text for text, _ in confident_sentences(columns, 0.0)]
    strict = [text for text, _ in confident_sentences(columns, 0.9)]
    assert strict and set(strict) <= set(loose)
    for text in strict:  # the teacher is sure of every token of a kept sentence
        (row,) = teacher.fullAnnotate([text])
        assert min(float(t.metadata["confidence"]) for t in row["ner"]) >= 0.9


def test_the_sample_is_capped_and_seeded(teacher):
    everything = silver_sentences(TEXTS, teacher, _settings(min_confidence=0.0))
    two = silver_sentences(TEXTS, teacher, _settings(min_confidence=0.0, max_sentences=2))
    again = silver_sentences(TEXTS, teacher, _settings(min_confidence=0.0, max_sentences=2))
    assert len(two.sentences) == len(two.entities) == 2 and two.sentences == again.sentences
    assert set(two.sentences) <= set(everything.sentences)
    assert two.confident == everything.confident == len(everything.sentences)
    assert everything.tagged >= everything.confident > 2
    other = silver_sentences(TEXTS, teacher, _settings(min_confidence=0.0, seed=7))
    assert sorted(other.sentences) == sorted(everything.sentences)


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"files": ["f"]}, "needs teacher"),
        ({"teacher": "t"}, "needs teacher"),
        ({"teacher": "t", "files": ["f"], "min_conf": 1}, r"unknown \['min_conf'\]"),
        (
            {"teacher": "t", "files": ["f"], "min_confidence": 2},
            r"min_confidence must be in \[0, 1\]",
        ),
        ({"teacher": "t", "files": ["f"], "max_sentences": 0}, "max_sentences must be at least 1"),
    ],
)
def test_settings_are_checked(settings, message):
    with pytest.raises(ValueError, match=message):
        SelfTrainingSettings.of(settings)


def test_a_recipe_adds_silver_sentences_to_its_training_split_only(spark, tmp_path):
    from sparkner.training.ner import load_recipe, read_split, training_split

    data = tmp_path / "data"
    (data / "notes").mkdir(parents=True)
    for i in range(8):
        text = f"Patient {i} reports fever."
        (data / "notes" / f"{100 + i}.txt").write_text(text)
        begin = text.index("fever")
        (data / "notes" / f"{100 + i}.ann").write_text(
            f"T1\tSign_symptom {begin} {begin + 5}\tfever\n"
        )
    (data / "unlabeled.txt").write_text("\n".join(t for t in TEXTS if t) + "\n")
    teacher = bundled_folder("ner_clinical", "tagger.json", "tagger")
    config = tmp_path / "r.yaml"
    config.write_text(
        "name: r\nbrat: [{folder: notes, labels: maccrobat}]\nsplit_fractions: [0.5, 0.25, 0.25]\n"
        f"self_training: {{teacher: {teacher}, files: [unlabeled.txt], min_confidence: 0.0}}\n"
    )
    recipe = load_recipe(config)
    frame, report = training_split(spark, recipe, data)
    train = frame.select("text", "label.result").collect()
    silver = [r for r in train if not r.text.startswith("Patient")]
    assert len(train) - len(silver) == 4 and silver
    assert report["added"] == len(silver) <= report["confident"] <= report["sentences_tagged"]
    assert report["teacher"] == str(teacher) and report["min_confidence"] == 0.0
    plain = read_split(spark, recipe, data, "train").select("text").collect()
    assert all(r.text.startswith("Patient") for r in plain)  # evaluation reads no silver
    assert all(any(t.startswith("B-") for t in r.result) for r in silver)
    dev = read_split(spark, recipe, data, "dev").select("text").collect()
    assert all(r.text.startswith("Patient") for r in dev)


def test_copies_of_excluded_notes_are_left_out_but_shared_boilerplate_is_not():
    from sparkner.training.self_training import without_copies

    note = (
        "The patient is a 54 year old man with chest pain radiating to the left arm since "
        "this morning, worse on exertion and relieved by rest, no shortness of breath."
    )
    edited = note.replace("54 year old", "55-year-old") + " Seen again today."
    boilerplate = (
        "Another patient entirely, a woman with a rash on both hands, with chest pain "
        "radiating to the left arm since this morning. Her story is otherwise unrelated, "
        "she was seen in clinic for the rash which improved with a topical steroid cream."
    )
    kept = list(without_copies([note, edited, boilerplate, "short"], [note]))
    assert kept == [boilerplate, "short"]
