"""The mapping of MACCROBAT, Chia and clinical-note entity types to PROBLEM / TEST / TREATMENT.

MACCROBAT: Sign_symptom and Disease_disorder are problems, Diagnostic_procedure a test,
Medication and Therapeutic_procedure treatments. Chia: Condition is a problem, Measurement
a test, Drug a treatment; Procedure names both diagnostic and therapeutic procedures, so
:func:`chia_procedure` decides by its words.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable

# Diagnostic procedures: imaging, scopes, biopsies, tracings, tests and scores.
_DIAGNOSTIC = re.compile(
    r"\b(?:ct|cat|mri|mra|pet|spect|x-?rays?|radiograph\w*|imaging|scans?|ultrasound\w*|"
    r"sonogra\w*|echo\w*|doppler|mammogra\w*|angiogra\w*|\w*graphy|\w*gram|\w*scopy|"
    r"\w*scopic|biops\w*|aspirat\w*|cytolog\w*|patholog\w*|histolog\w*|ecg|ekg|eeg|emg|"
    r"electrocardiogra\w*|holter|spirometr\w*|test\w*|assay\w*|screen\w*|exam\w*|"
    r"evaluation|assessment|puncture|tap|culture\w*|karyotyp\w*|sequencing|monitoring|"
    r"dexa|dxa|densitometr\w*|palpation|auscultation)\b",
    re.IGNORECASE,
)


# Therapeutic words win over diagnostic ones: "laparoscopic cholecystectomy" is a treatment.
_THERAPEUTIC = re.compile(
    r"(?:ectom\w*|plast\w*|surg\w*|resect\w*|repair\w*|transplant\w*|therap\w*|bypass|"
    r"graft\w*|dialys\w*|stent\w*|ablat\w*|implant\w*|replacement|removal|excision\w*|"
    r"amputat\w*|radiation|infusion|transfusion|vaccin\w*|intubat\w*|ventilat\w*)",
    re.IGNORECASE,
)


def chia_procedure(text: str) -> str:
    """TEST when a Chia Procedure names a diagnostic procedure, TREATMENT otherwise."""
    if _THERAPEUTIC.search(text):
        return "TREATMENT"
    return "TEST" if _DIAGNOSTIC.search(text) else "TREATMENT"


MACCROBAT_LABELS: dict[str, str] = {
    "Sign_symptom": "PROBLEM",
    "Disease_disorder": "PROBLEM",
    "Diagnostic_procedure": "TEST",
    "Medication": "TREATMENT",
    "Therapeutic_procedure": "TREATMENT",
}

CHIA_LABELS: dict[str, str | Callable[[str], str]] = {
    "Condition": "PROBLEM",
    "Measurement": "TEST",
    "Drug": "TREATMENT",
    "Procedure": chia_procedure,
}

# The annotated clinical notes (data/clinical_notes) are in the clinical convention already.
NOTES_LABELS: dict[str, str] = {"PROBLEM": "PROBLEM", "TEST": "TEST", "TREATMENT": "TREATMENT"}


# A note's section header: capitals (digits, a few signs) before a colon, at the start of a
# line or after MTSamples' ".," separators ("HISTORY OF PRESENT ILLNESS:", ".,PLAN:,").
_SECTION_HEADER = re.compile(r"(?:^|[\n.,]\s*)([A-Z][A-Z0-9 /&()'-]{2,50}[A-Z)]):")


def section_headers(texts: Iterable[str], min_count: int) -> list[str]:
    """Section headers (with their colon) used at least ``min_count`` times, most used first.

    Case reports and eligibility criteria have no section headers, so a tagger trained on
    them alone takes "PHYSICAL EXAMINATION:" or "ANESTHESIA:" for entities; the recipe adds
    these headers to the training data as sentences without entities.
    """
    counts = Counter(
        match.group(1).strip() for text in texts for match in _SECTION_HEADER.finditer(text)
    )
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [f"{header}:" for header, count in ranked if count >= min_count]
