"""What a run of the job did: counts, times and where the table went; never any note text."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class Summary:
    """What a run did; never any note text."""

    rows_read: int
    notes_with_entities: int
    entities: int
    entities_by_type: dict[str, int]
    tokens: int
    # The job alone: reading, tagging and writing the notes, with the models already loaded.
    seconds: float
    output: str
    output_format: str
    # Entity type -> assertion label -> count, when the pipeline asserts its chunks.
    entities_by_assertion: dict[str, dict[str, int]] = field(default_factory=dict)
    extra: dict[str, object] = field(default_factory=dict)
    # Before the job: Spark, reading the pipeline, loading its models in the Python workers.
    startup_seconds: float = 0.0
    # Entities a resolver gave a code, when the job resolves (--resolve).
    entities_coded: int | None = None
    # Whether the job ran in this process without Spark (a small local input; see
    # sparkner.apps.annotate.in_process): start-up is then loading the models alone.
    in_process: bool = False

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, object]:
        record = asdict(self)
        record["seconds"] = round(self.seconds, 2)
        record["startup_seconds"] = round(self.startup_seconds, 2)
        record["tokens_per_second"] = round(self.tokens_per_second)
        return record

    def lines(self) -> list[str]:
        by_type = ", ".join(f"{k} {v:,}" for k, v in sorted(self.entities_by_type.items()))
        lines = [
            f"rows read            {self.rows_read:,}",
            f"notes with entities  {self.notes_with_entities:,}",
            f"rows written         {self.entities:,} entities ({by_type or 'none'})",
        ]
        for entity, counts in sorted(self.entities_by_assertion.items()):
            shown = ", ".join(f"{label} {n:,}" for label, n in counts.items() if n)
            lines.append(f"  {entity:<19}{shown or 'none'}")
        if self.entities_coded is not None:
            lines.append(f"  with a code        {self.entities_coded:,}")
        if self.in_process:
            engine = "in-process, without Spark (a small local input; --spark to use Spark)"
            startup = "loading the models"
        else:
            engine, startup = "Spark", "Spark, loading the models"
        return [
            *lines,
            f"tokens               {self.tokens:,}",
            f"ran                  {engine}",
            f"start-up             {self.startup_seconds:.1f} s ({startup})",
            f"annotating           {self.seconds:.1f} s ({self.tokens_per_second:,.0f} tokens/s)",
            f"output               {self.output} ({self.output_format})",
        ]
