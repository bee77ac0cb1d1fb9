"""SectionDetector: finds section headers in clinical notes ("HISTORY OF PRESENT ILLNESS:",
"Hx:", MTSamples' ",ALLERGIES:,", "PHYSICAL EXAMINATION" alone on its line) and emits one
``section`` annotation per section, named by its normalised name (``allergies``), as
medspaCy's Sectionizer does. The header rules are in :mod:`sparkner.sections.headers`.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any, ClassVar

from pyspark.ml.param import TypeConverters

from sparkner.core.annotation import DOCUMENT, SECTION
from sparkner.core.params import declare, to_list_of
from sparkner.runtime.udf import BatchFunction
from sparkner.sections.headers import SectionRules, detect_sections
from sparkner.sections.names import SectionName, parse_custom_header
from sparkner.stages.stage import AnnotatorTransformer, roles


def custom_header_entries(values: Sequence[str]) -> str | None:
    """Each entry is ``"HEADER=name"`` with a snake_case name (the entries are not echoed)."""
    bad = [i for i, value in enumerate(values) if parse_custom_header(value) is None]
    if bad:
        return (
            f"entries at positions {bad} are not 'HEADER=name' with a snake_case name "
            "(letters, digits and _, starting with a letter)"
        )
    return None


class SectionDetector(AnnotatorTransformer):
    """One ``section`` annotation per section of each ``document``: ``result`` is the
    section's normalised name, ``begin``/``end`` its span from its header to just before the
    next header; metadata ``section`` (the name), ``header`` (as written), ``header_begin`` and
    ``header_end`` (its span). Text before the first header belongs to no section."""

    input_roles = roles(document=DOCUMENT)
    output_annotator_type = SECTION
    stage_defaults: ClassVar[dict[str, Any]] = {"inputCols": ["document"], "outputCol": "section"}

    customHeaders = declare(
        "customHeaders",
        "extra headers as 'HEADER=name' entries (name in snake_case); they win over the "
        "built-in table",
        to_list_of(str.strip),
        custom_header_entries,
        default=[],
    )
    includeUnknownHeaders = declare(
        "includeUnknownHeaders",
        "whether unknown headers in capitals with a colon ('EXTREMITIES:') open sections of "
        "their own, named in snake_case ('extremities'); if not, they stay inside the section "
        "around them",
        TypeConverters.toBoolean,
        default=SectionRules.include_unknown,
    )

    def rules(self) -> SectionRules:
        custom: list[SectionName] = []
        for entry in self.getOrDefault(self.customHeaders):
            parsed = parse_custom_header(entry)
            if parsed is not None:  # checked when set
                custom.append(parsed)
        return SectionRules(
            custom=tuple(custom),
            include_unknown=self.getOrDefault(self.includeUnknownHeaders),
        )

    def batch_function(self) -> BatchFunction:
        return partial(detect_sections, rules=self.rules())
