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
        return [
            *lines,
            f"tokens               {self.tokens:,}",
            f"start-up             {self.startup_seconds:.1f} s (Spark, loading the models)",
            f"annotating           {self.seconds:.1f} s ({self.tokens_per_second:,.0f} tokens/s)",
            f"output               {self.output} ({self.output_format})",
        ]
