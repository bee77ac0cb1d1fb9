"""The parts of a brat standoff (``.ann``) file that span conventions need, as plain types:
read by :func:`sparkner.training.brat.parse_standoff`, used by
:mod:`sparkner.training.clinical_spans`."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TextBound:
    """A ``T`` line: an entity with its fragments (character offsets) and its surface text."""

    id: str
    type: str
    fragments: tuple[tuple[int, int], ...]
    text: str


@dataclass(frozen=True)
class Relation:
    """An ``R`` line: ``R1<TAB>MODIFY Arg1:T4 Arg2:E3`` (arguments are T or E ids)."""

    id: str
    type: str
    arg1: str
    arg2: str


@dataclass
class Standoff:
    """The parts of one ``.ann`` file that span conventions need: entities, the trigger of
    each event (``E3<TAB>Sign_symptom:T5`` -> ``{"E3": "T5"}``) and binary relations.
    Attributes (``A``), equivalences (``*``) and notes (``#``) are left out."""

    textbounds: dict[str, TextBound] = field(default_factory=dict)
    events: dict[str, str] = field(default_factory=dict)
    relations: list[Relation] = field(default_factory=list)

    def entity_of(self, ref: str) -> str:
        """The ``T`` id a reference names: an event's trigger, or the id itself."""
        return self.events.get(ref, ref)
