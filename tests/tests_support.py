"""Small, learnable NER data for the tests (written by the tests, never copied from data)."""

from __future__ import annotations

from pathlib import Path

DISEASES = ["breast cancer", "diabetes", "asthma", "hypertension", "colon cancer", "pneumonia",
            "migraine", "anemia", "heart failure", "gout"]  # fmt: skip
DRUGS = ["aspirin", "metformin", "insulin", "lisinopril", "warfarin"]
TEMPLATES = ["The patient has {d} .", "History of {d} in the family .",
             "She was treated for {d} last year .", "He takes {m} daily ."]  # fmt: skip


def tiny_conll(sentences: int = 160) -> str:
    """TSV (token, IOB2 tag) sentences about diseases and drugs."""
    lines: list[str] = []
    for i in range(sentences):
        template = TEMPLATES[i % len(TEMPLATES)]
        disease, drug = DISEASES[i % len(DISEASES)], DRUGS[i % len(DRUGS)]
        for word in template.split():
            if word == "{d}":
                first, *rest = disease.split()
                lines += [f"{first}\tB-Disease"] + [f"{p}\tI-Disease" for p in rest]
            else:
                lines.append(f"{drug if word == '{m}' else word}\tO")
        lines.append("")
    return "\n".join(lines) + "\n"


def write_tiny_conll(path: Path, sentences: int = 160) -> Path:
    path.write_text(tiny_conll(sentences))
    return path
