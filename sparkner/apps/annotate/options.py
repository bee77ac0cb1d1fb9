"""The job's settings, the options of ``sparkner annotate``, and their checks."""

from __future__ import annotations

import os
from dataclasses import dataclass

from sparkner.apps.annotate.formats import INPUT_FORMATS, OUTPUT_FORMATS, detect_format, format_of
from sparkner.apps.annotate.paths import missing_input, output_taken
from sparkner.core.paths import filesystem_path

# ``--resolve`` choices: the bundled resolver (``resolver_<name>``) and the chunk types it
# codes. MeSH names diseases, chemicals and procedures alike, so it takes every type.
RESOLVERS: dict[str, tuple[str, ...]] = {
    "icd10cm": ("PROBLEM",),
    "drugs": ("TREATMENT",),
    "mesh": (),
}


@dataclass
class AnnotateJob:
    """What ``sparkner annotate`` does; the fields are its command-line options."""

    input: str
    output: str
    text_col: str = "text"
    id_col: str | None = None
    model: str = "ner_clinical"
    input_format: str | None = None
    output_format: str = "parquet"
    overwrite: bool = False
    partitions: int | None = None
    # Bundled resolvers (names of RESOLVERS) whose codes fill the code, vocabulary and
    # concept_name columns; a chunk takes the first code, in this order, of its type.
    resolve: tuple[str, ...] = ()

    def check(self, local_paths: bool = True) -> None:
        """Settings, and with ``local_paths`` the paths as this machine sees them, checked
        before Spark starts. Without (over Spark Connect, where the paths are the server's),
        a path is checked only if this machine has it, and the format comes from the input's
        extension when ``input_format`` is not given."""
        if self.input_format is not None and self.input_format not in INPUT_FORMATS:
            raise ValueError(f"--input-format {self.input_format!r}: one of {INPUT_FORMATS}")
        if self.output_format not in OUTPUT_FORMATS:
            raise ValueError(f"--format {self.output_format!r}: one of {OUTPUT_FORMATS}")
        unknown = [name for name in self.resolve if name not in RESOLVERS]
        if unknown or len(set(self.resolve)) != len(self.resolve):
            raise ValueError(
                f"--resolve {','.join(self.resolve)}: names of {list(RESOLVERS)}, each once"
            )
        if self.partitions is not None and self.partitions < 1:
            raise ValueError(f"--partitions {self.partitions}: must be at least 1")
        source, target = filesystem_path(self.input), filesystem_path(self.output)
        if source is not None:
            if os.path.exists(source):
                self.input_format = self.input_format or detect_format(source)
            elif local_paths:
                raise missing_input(self.input)
        if self.input_format is None and not local_paths:
            self.input_format = format_of(os.path.basename(self.input.rstrip("/")))
        same = (
            source is not None
            and target is not None
            and os.path.abspath(source) == os.path.abspath(target)
        )
        if same:
            raise ValueError(f"output {self.output} is the input; choose another output")
        exists = target is not None and os.path.exists(target)
        if local_paths and exists and not self.overwrite:
            raise output_taken(self.output)
