"""The tests' helpers (conftest.py holds the fixtures): paths, checks, small learnable NER data
(written by the tests, never copied from data), hypothesis strategies, the text stages' batch
functions, and the processes, ports and tables of the end-to-end job tests."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("SPARKNER_SHARED_DATA", REPO.parent / "shared" / "data"))

DISEASES = [
    "breast cancer",
    "diabetes",
    "asthma",
    "hypertension",
    "colon cancer",
    "pneumonia",
    "migraine",
    "anemia",
    "heart failure",
    "gout",
]
DRUGS = ["aspirin", "metformin", "insulin", "lisinopril", "warfarin"]
TEMPLATES = [
    "The patient has {d} .",
    "History of {d} in the family .",
    "She was treated for {d} last year .",
    "He takes {m} daily .",
]


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


def assert_offsets_valid(text: str, annotations) -> None:
    """``text[begin:end + 1] == result`` for every annotation (dicts or Annotation objects)."""
    for a in annotations:
        if isinstance(a, dict):
            begin, end, result = a["begin"], a["end"], a["result"]
        else:
            begin, end, result = a.begin, a.end, a.result
        assert 0 <= begin <= end < len(text), (begin, end, len(text))
        assert text[begin : end + 1] == result, (begin, end, result)


def write_tiny_conll(path: Path, sentences: int = 160) -> Path:
    path.write_text(tiny_conll(sentences))
    return path


def result_of_new_process(script: str, timeout: int = 300) -> str:
    """Run ``script`` in a fresh interpreter and return what it printed after ``RESULT=``."""
    import subprocess

    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYSPARK_PYTHON": sys.executable},
    )
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
    "HISTORY OF PRESENT ILLNESS:",
    "PHYSICAL EXAMINATION",
    "VITAL SIGNS:",
    "HEENT:",
    ".,",
    ":,",
    "1.",
    "2.",
    "10.",
    "a)",
    "- ",
    "• ",
    "Dr.",
    "b.i.d.",
    "p.o.",
    "q.d.",
    "e.g.",
    "vs.",
    "approx.",
    "St.",
    "2.5 mg",
    "10mg",
    "1,000 units",
    "BP 120/80",
    "98.6 F",
    "O2 sat 97%",
    "11/24/2026",
    "10:30",
    "x-ray",
    "non-small-cell",
    "71-year-old",
    "(left)",
    "and/or",
    "patient's",
    "Chest pain",
    "no fever",
    "The patient",
    "?",
    "!",
    '"',
    "...",
    "😀",
    "胸痛",
    "e\u0301",
    "Smith",
]
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


def text_columns(texts: list[str | None]) -> tuple[pa.Array, pa.Array, pa.Array]:
    """The document, sentence and token columns of ``texts``, from the text stages' batch
    functions with their default settings: no Spark, no LightPipeline."""
    from sparkner.annotators.document_assembler import assemble_documents
    from sparkner.text.sentences import SentenceRules, detect_sentences
    from sparkner.text.tokenizing import TokenRules, tokenize

    documents = assemble_documents(pa.array(texts, pa.string()))
    sentences = detect_sentences(documents, SentenceRules())
    return documents, sentences, tokenize(sentences, TokenRules())


# -- processes and tables of the end-to-end job tests ------------------------------------
# Short fictional notes, with a null and an empty one (kept as rows, with no entities).
SHORT_NOTES = [
    "Fever and cough for two days. Chest CT showed pneumonia; started ceftriaxone.",
    "Known diabetes mellitus on metformin 500 mg b.i.d. HbA1c was 8.1%.",
    "She denies chest pain. EKG showed sinus rhythm. Continue aspirin 81 mg daily.",
    "MRI of the brain was normal. Headache improved with ibuprofen.",
    None,
    "History of hypertension, treated with lisinopril. BP 150/90 today.",
    "Shortness of breath and orthopnea. Echocardiogram showed reduced ejection fraction.",
    "",
    "Urinalysis positive for nitrites; urinary tract infection treated with nitrofurantoin.",
    "Right knee pain after a fall. X-ray showed no fracture. Ice and acetaminophen.",
    "Anemia on CBC, hemoglobin 9.2. Started ferrous sulfate.",
    "Asthma exacerbation; albuterol nebulizer given and prednisone 40 mg started.",
    "Abdominal pain and nausea. CT abdomen showed appendicitis; taken for appendectomy.",
    "Blood cultures grew Staphylococcus aureus. Vancomycin was started for bacteremia.",
    "Atrial fibrillation with rapid ventricular response; diltiazem drip, then warfarin.",
    "Chronic kidney disease stage 3. Creatinine 1.9. Avoid NSAIDs.",
    "Low back pain without radiculopathy. Physical therapy and naproxen as needed.",
    "Hypothyroidism on levothyroxine. TSH within normal limits.",
    "Seizure last night. EEG pending. Levetiracetam loading dose given.",
    "Cellulitis of the left leg; cephalexin for 7 days. Wound culture sent.",
    "Sore throat; rapid strep test positive. Amoxicillin for 10 days.",
    "Colonoscopy showed a polyp, removed by polypectomy. Biopsy pending.",
]


def sparkner_command() -> list[str]:
    """The ``sparkner`` console script of this install, or the CLI module where it has none."""
    script = Path(sys.executable).with_name("sparkner")
    return [str(script)] if script.exists() else [sys.executable, "-m", "sparkner.apps.cli"]


LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A TCP port free on the loopback address now (another process may take it later)."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


# The processes of a session, from /proc (Linux). bench/procfs.py has the same readers for the
# benchmarks; the tests keep their own, as they import nothing from bench/.
def _stat_fields(pid: int | str) -> list[bytes]:
    """The fields of ``/proc/<pid>/stat`` after the command name: state, ppid, pgrp, session,
    ...; empty when the process is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
    except OSError:
        return []
    return stat[stat.rfind(b")") + 2 :].split()


def _session_pids(session: int) -> list[int]:
    """Live processes of a session: one started with ``start_new_session`` and all it started
    (executor JVMs, Python daemons and workers, which at most change process group)."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            fields = _stat_fields(name)  # state ppid pgrp session ...
            if len(fields) > 3 and int(fields[3]) == session and fields[0] != b"Z":
                found.append(int(name))
    return found


def process_alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie does not)."""
    fields = _stat_fields(pid)
    return bool(fields) and fields[0] != b"Z"


def kill_sessions(sessions: list[int], grace_s: float = 0, deadline_s: float = 60) -> list[int]:
    """SIGKILL every process of the sessions, by id, until none is left; return their ids.
    With ``grace_s``, first give them that long to end by themselves. Raises RuntimeError
    when some outlive ``deadline_s`` seconds of SIGKILL."""
    seen: set[int] = set()
    grace, deadline = time.monotonic() + grace_s, time.monotonic() + grace_s + deadline_s
    while pids := [pid for session in sessions for pid in _session_pids(session)]:
        seen.update(pids)
        if time.monotonic() > deadline:
            raise RuntimeError(f"processes {pids} outlived SIGKILL")
        if time.monotonic() > grace:
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):  # gone meanwhile
                    os.kill(pid, signal.SIGKILL)
        time.sleep(0.2)
    return sorted(seen)


def entity_table(folder: Path) -> pd.DataFrame:
    """An entity table in a stable order (a note's entities never share a begin)."""
    table = pd.read_parquet(folder)
    return table.sort_values(["id", "begin"], kind="stable").reset_index(drop=True)


# -- where a run's scratch files go, and whether note text is in them ---------------------
def private_scratch_env(folder: Path) -> dict[str, str]:
    """Environment variables that send every scratch file of a ``sparkner`` process (started
    with them) under ``folder``: Python's and the JVM's temporary files (``tmp``), Spark's
    local folders (``local``: shuffle, spills, shipped files) and Spark's event log
    (``events``). Event log, shuffle and spills are left uncompressed, so that note text in
    any of them is found by a byte search."""
    folders = {name: folder / name for name in ("tmp", "local", "events")}
    for path in folders.values():
        path.mkdir(parents=True, exist_ok=True)
    confs = {
        "spark.eventLog.enabled": "true",
        "spark.eventLog.dir": folders["events"].as_uri(),
        "spark.eventLog.compress": "false",
        "spark.shuffle.compress": "false",
        "spark.shuffle.spill.compress": "false",
        "spark.rdd.compress": "false",
    }
    return {
        "TMPDIR": str(folders["tmp"]),
        "JAVA_TOOL_OPTIONS": f"-Djava.io.tmpdir={folders['tmp']}",
        "SPARK_LOCAL_DIRS": str(folders["local"]),
        # After sparkner.start()'s own settings on the launcher's command line, so they win.
        "PYSPARK_SUBMIT_ARGS": " ".join(f"--conf {k}={v}" for k, v in confs.items())
        + " pyspark-shell",
    }


def files_holding(root: Path, text: str) -> list[Path]:
    """Files under ``root`` whose bytes hold ``text`` (UTF-8), in sorted order."""
    needle = text.encode("utf-8")
    found = []
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder, name)
            try:
                if path.is_file() and not path.is_symlink() and needle in path.read_bytes():
                    found.append(path)
            except OSError:  # gone meanwhile
                continue
    return sorted(found)


def light_entity_rows(light: list[tuple[object, dict]], decimals: int | None = None) -> list:
    """The LightPipeline's chunks (``light``: pairs of a note's id and its ``fullAnnotate`` row)
    as the annotate job's entity rows, sorted: id, begin, end, chunk, entity, sentence and the
    confidence as the tagger wrote it (a number rounded to ``decimals``, if given)."""
    return sorted(
        (
            note_id,
            c.begin,
            c.end,
            c.result,
            c.metadata["entity"],
            int(c.metadata["sentence"]),
            c.metadata["confidence"]
            if decimals is None
            else round(float(c.metadata["confidence"]), decimals),
        )
        for note_id, row in light
        for c in row["ner_chunk"]
    )
