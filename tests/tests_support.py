"""Small, learnable NER data for the tests (written by the tests, never copied from data)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import strategies as st

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


def result_of_new_process(script: str, timeout: int = 300) -> str:
    """Run ``script`` in a fresh interpreter and return what it printed after ``RESULT=``."""
    import os
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "PYSPARK_PYTHON": sys.executable},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT="))
    return line.removeprefix("RESULT=")


# -- hypothesis strategies for the offset properties of the text stages -------------------
ODD_CHARS = list("\n\r\t\x00\x0b\x0c\x1c\x85\xa0\u2028\u2029\u3000\u200b\u0301.,;:!?-()/*•'%")
ANY_TEXT = st.text(
    alphabet=st.one_of(st.characters(exclude_categories=("Cs",)), st.sampled_from(ODD_CHARS)),
    max_size=300,
)
FRAGMENTS = [
    "HISTORY OF PRESENT ILLNESS:", "PHYSICAL EXAMINATION", "VITAL SIGNS:", "HEENT:", ".,",
    ":,", "1.", "2.", "10.", "a)", "- ", "• ", "Dr.", "b.i.d.", "p.o.", "q.d.", "e.g.", "vs.",
    "approx.", "St.", "2.5 mg", "10mg", "1,000 units", "BP 120/80", "98.6 F", "O2 sat 97%",
    "11/24/2026", "10:30", "x-ray", "non-small-cell", "71-year-old", "(left)", "and/or",
    "patient's", "Chest pain", "no fever", "The patient", "?", "!", '"', "...", "😀", "胸痛",
    "e\u0301", "Smith",
]  # fmt: skip
SEPARATORS = [" ", "  ", "\n", "\n\n", "\r\n", ", ", ".", ". ", ".\n", "\t", "\u2028", "-", ""]
CLINICAL_TEXT = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.sampled_from(SEPARATORS), st.text(max_size=5)),
    max_size=40,
).map("".join)
# Every kind of Unicode whitespace (NBSP, em and ideographic spaces, separators, \x1c-\x1f)
# around a few words and marks: random Unicode text rarely puts one at a sentence's edge.
WHITESPACE = [chr(c) for c in range(0x3001) if chr(c).isspace()]
SPACEY_TEXT = st.text(alphabet=st.sampled_from([*WHITESPACE, *"aB1.,;:-"]), max_size=40)
TEXTS = st.one_of(ANY_TEXT, CLINICAL_TEXT, SPACEY_TEXT)
