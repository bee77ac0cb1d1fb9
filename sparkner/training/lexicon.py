"""The recipe for sparkner's bundled lexicon (``lexicon_clinical``).

    python -m sparkner.training.lexicon --config conf/lexicon_clinical.yaml \\
        --data ../shared/data --output sparkner/resources/lexicon_clinical

Reads the open term lists named in the config (``term<TAB>class<TAB>source_id`` TSV files,
optionally xz-compressed), maps their classes to the lexicon's classes, cleans the terms
(rules below, all set in the config), settles terms listed under several classes by vote,
and writes a lexicon store, ``build.json`` (counts of every decision) and a model card.

Cleaning, in order:

- parenthesized and bracketed parts are removed ("graft(s)" -> "graft",
  "RG-7882 (ANTI-MUC16 ...)" -> "RG-7882");
- a ``", "`` is handled per source: ``invert`` turns MeSH's inverted headings back
  ("Carcinoma, Squamous Cell" -> "Squamous Cell Carcinoma"; only with exactly one comma),
  ``prefix`` keeps the part before the first comma (ICD: "Fracture of femur, unspecified"
  -> "Fracture of femur"), ``drop`` drops the term;
- terms whose first word is in ``drop_first_words`` (ICD's "Other ...", "Unspecified ...")
  are dropped, and so are terms without a letter or with more than ``max_tokens`` tokens;
- terms in ``stop_words`` (function words, and common words or phrases that fire outside
  any entity) are dropped, and so are one-token terms shorter than ``min_single_length``
  characters and, in sources with ``acronyms: drop``, upper-case acronyms of at most
  ``max_acronym_length`` characters ("WED", "PCA": ambiguous in notes);
- a TEST term with a word ending in "graphy" also gets its "-gram" form ("echocardiography"
  -> "echocardiogram"), since notes name the record more often than the technique.

Each source votes once for each class it gives a term (after the class map; a class mapped to
``drop`` still votes, so a substance MeSH calls a chemical is not made a drug by one brand
name). The most votes win; ties go by ``priority``. Terms in ``extra_terms`` (hand-listed in
the config) override the votes.
"""

from __future__ import annotations

import argparse
import json
import lzma
import os
import re
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sparkner.core.formats import read_settings
from sparkner.lexicon.matcher import (
    DEFAULT_RULES,
    lexicon_from_terms,
    normalize_tokens,
    term_tokens,
)
from sparkner.lexicon.store import write_lexicon
from sparkner.training.clinical import chia_procedure

# A class mapped to this is not written, but still votes.
DROP = "drop"
# A class mapped to this is a test or a treatment by the words of the term (ICD-9 procedures).
PROCEDURE_RULE = "procedure_rule"


@dataclass
class LexiconSource:
    """One term list: its path under the data folder and how to read it."""

    path: str
    name: str = ""
    comma: str = "drop"  # invert | prefix | drop
    acronyms: str = "keep"  # keep | drop
    license: str = ""
    attribution: str = ""


@dataclass
class LexiconConfig:
    """What ``conf/lexicon_clinical.yaml`` holds."""

    name: str = "lexicon_clinical"
    classes: list[str] = field(default_factory=lambda: ["PROBLEM", "TEST", "TREATMENT"])
    priority: list[str] = field(default_factory=lambda: ["TEST", "PROBLEM", "TREATMENT"])
    class_map: dict[str, str] = field(default_factory=dict)
    max_tokens: int = 8
    min_single_length: int = 3
    max_acronym_length: int = 5
    drop_first_words: list[str] = field(default_factory=list)
    stop_words: list[str] = field(default_factory=list)
    graphy_to_gram: bool = True
    extra_terms: dict[str, list[str]] = field(default_factory=dict)
    sources: list[LexiconSource] = field(default_factory=list)


def load_config(path: str | os.PathLike[str]) -> LexiconConfig:
    """Read a YAML config (safe loader only); unknown keys are an error naming the file."""
    data = read_settings(path, LexiconConfig)
    sources = []
    for i, entry in enumerate(data.pop("sources", []) or []):
        if not isinstance(entry, dict):
            raise ValueError(f"{path}: sources[{i}] must be a mapping")
        unknown = sorted(set(entry) - set(LexiconSource.__dataclass_fields__))
        if unknown:
            raise ValueError(f"{path}: sources[{i}]: unknown setting(s) {unknown}")
        sources.append(LexiconSource(**entry))
    config = LexiconConfig(**data, sources=sources)
    check_config(config, path)
    return config


def check_config(config: LexiconConfig, where: object = "config") -> None:
    """Raise ValueError (naming ``where``) for settings that cannot work."""
    targets = set(config.classes) | {DROP, PROCEDURE_RULE}
    bad = sorted({v for v in config.class_map.values() if v not in targets})
    if bad:
        raise ValueError(
            f"{where}: class_map targets {bad} are not classes, drop or procedure_rule"
        )
    if sorted(config.priority) != sorted(config.classes):
        raise ValueError(f"{where}: priority must list exactly the classes {config.classes}")
    if set(config.extra_terms) - set(config.classes):
        raise ValueError(f"{where}: extra_terms has classes outside {config.classes}")
    for source in config.sources:
        if source.comma not in ("invert", "prefix", "drop"):
            raise ValueError(f"{where}: {source.path}: comma must be invert, prefix or drop")
        if source.acronyms not in ("keep", "drop"):
            raise ValueError(f"{where}: {source.path}: acronyms must be keep or drop")
    words = [*config.stop_words, *config.drop_first_words]
    words += [t for terms in config.extra_terms.values() for t in terms]
    if not all(isinstance(w, str) for w in words):
        # YAML reads a bare no / on / off as a boolean: such words must be quoted.
        raise ValueError(f"{where}: stop_words, drop_first_words and extra_terms must be strings")
    if not 1 <= config.max_tokens <= 8:
        raise ValueError(f"{where}: max_tokens must be 1 to 8")


def read_terms(path: Path) -> Iterator[tuple[str, str]]:
    """``(term, class)`` rows of a lexicon TSV (header ``term<TAB>class<TAB>source_id``)."""
    opener = lzma.open if path.name.endswith(".xz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        header = handle.readline().rstrip("\n").split("\t")
        if header[:2] != ["term", "class"]:
            raise ValueError(f"{path}: expected a header 'term<TAB>class<TAB>source_id'")
        for number, line in enumerate(handle, start=2):
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 2:
                raise ValueError(f"{path}, line {number}: expected term<TAB>class")
            yield parts[0], parts[1]


_BRACKETS = re.compile(r"\s*(?:\([^()]*\)|\[[^\[\]]*\])")
_SPACES = re.compile(r"\s+")
_LETTER = re.compile(r"[^\W\d_]")
_ACRONYM = re.compile(r"[A-Z0-9-]+")


def clean_term(term: str, comma: str) -> str | None:
    """The term with brackets removed and its commas handled; None when it is dropped."""
    previous = None
    while previous != term:  # nested brackets, innermost first
        previous, term = term, _BRACKETS.sub("", term)
    term = _SPACES.sub(" ", term).strip(" ,;")
    if ", " in term:
        if comma == "prefix":
            term = term.split(", ")[0]
        elif comma == "invert" and term.count(", ") == 1:
            head, tail = term.split(", ")
            term = f"{tail} {head}"
        else:
            return None
    return term or None


def gram_form(tokens: tuple[str, ...]) -> tuple[str, ...] | None:
    """The "-gram" form of a term naming a "-graphy" technique, or None."""
    if not any(t.endswith("graphy") and len(t) > 7 for t in tokens):
        return None
    return tuple(t[:-4] + "am" if t.endswith("graphy") and len(t) > 7 else t for t in tokens)


def _normalized(terms: list[str]) -> list[tuple[str, ...]]:
    """Normalized token tuples of raw terms, with one vectorized normalization pass."""
    pieces = [term_tokens(t, DEFAULT_RULES) for t in terms]
    flat = normalize_tokens([t for p in pieces for t in p]).to_pylist()
    out, position = [], 0
    for p in pieces:
        out.append(tuple(flat[position : position + len(p)]))
        position += len(p)
    return out


def collect_votes(
    config: LexiconConfig, data_dir: Path, stats: dict[str, Any]
) -> dict[tuple[str, ...], Counter[str]]:
    """Read, map and clean every source; count what each rule dropped, per source."""
    stop = {" ".join(t) for t in _normalized(config.stop_words)}
    first_words = {" ".join(t) for t in _normalized(config.drop_first_words)}
    votes: dict[tuple[str, ...], Counter[str]] = defaultdict(Counter)
    for source in config.sources:
        path = (data_dir / source.path).resolve()
        if not path.exists():
            raise FileNotFoundError(f"{source.path}: not found under the data folder {data_dir}")
        dropped: Counter[str] = Counter()
        kept_rows: list[tuple[str, str, bool]] = []
        rows = 0
        for raw, source_class in read_terms(path):
            rows += 1
            target = config.class_map.get(source_class)
            if target is None:
                dropped["class not mapped"] += 1
                continue
            term = clean_term(raw, source.comma)
            if term is None:
                dropped["comma"] += 1
                continue
            if target == PROCEDURE_RULE:
                target = chia_procedure(term)
            acronym = bool(_ACRONYM.fullmatch(term)) and len(term) <= config.max_acronym_length
            kept_rows.append((term, target, acronym and source.acronyms == "drop"))
        mine: dict[tuple[str, ...], set[str]] = defaultdict(set)
        for (_, target, acronym), tokens in zip(
            kept_rows, _normalized([r[0] for r in kept_rows]), strict=True
        ):
            if not tokens or not any(_LETTER.search(t) for t in tokens):
                dropped["no letter"] += 1
            elif len(tokens) > config.max_tokens:
                dropped["too long"] += 1
            elif tokens[0] in first_words:
                dropped["first word"] += 1
            elif len(tokens) == 1 and len(tokens[0]) < config.min_single_length:
                dropped["short"] += 1
            elif " ".join(tokens) in stop:
                dropped["stop word"] += 1
            elif acronym:
                dropped["acronym"] += 1
            else:
                mine[tokens].add(target)
                if target == "TEST" and config.graphy_to_gram:
                    gram = gram_form(tokens)
                    if gram is not None:
                        mine[gram].add(target)
        for tokens, targets in mine.items():
            for target in targets:
                votes[tokens][target] += 1
        stats["sources"][source.path] = {
            "rows": rows,
            "dropped": dict(sorted(dropped.items())),
            "distinct_terms": len(mine),
        }
    return votes


def resolve(
    config: LexiconConfig, votes: dict[tuple[str, ...], Counter[str]], stats: dict[str, Any]
) -> dict[str, list[tuple[str, ...]]]:
    """One class per term: most votes, then ``priority``; ``drop`` loses ties."""
    rank = {c: i for i, c in enumerate([*config.priority, DROP])}
    chosen: dict[tuple[str, ...], str] = {}
    conflicts: Counter[str] = Counter()
    for tokens, counter in votes.items():
        best = min(counter, key=lambda c: (-counter[c], rank[c]))
        if len(counter) > 1:
            conflicts["/".join(sorted(counter))] += 1
        chosen[tokens] = best
    extras = _normalized([t for terms in config.extra_terms.values() for t in terms])
    extra_classes = [c for c, terms in config.extra_terms.items() for _ in terms]
    for tokens, cls in zip(extras, extra_classes, strict=True):
        if tokens:
            chosen[tokens] = cls
    stats["conflicts"] = dict(conflicts.most_common())
    stats["dropped_by_vote"] = sum(1 for c in chosen.values() if c == DROP)
    by_class: dict[str, list[tuple[str, ...]]] = {c: [] for c in config.classes}
    for tokens, cls in chosen.items():
        if cls != DROP:
            by_class[cls].append(tokens)
    return by_class


def build_lexicon_store(
    config: LexiconConfig, data_dir: str | os.PathLike[str], output: str | os.PathLike[str]
) -> dict[str, Any]:
    """Build the lexicon and write the store, ``build.json`` and the model card."""
    started = time.perf_counter()
    stats: dict[str, Any] = {"name": config.name, "sources": {}}
    votes = collect_votes(config, Path(data_dir), stats)
    by_class = resolve(config, votes, stats)
    # The terms are normalized token sequences already; joined and tokenized again they
    # could be cut differently ("crohn 's"), so the lexicon is made from the tokens.
    codes = {c: i for i, c in enumerate(config.classes)}
    lexicon = lexicon_from_terms(
        config.classes,
        sorted((tokens, codes[c]) for c, terms in by_class.items() for tokens in terms),
        name=config.name,
    )
    header = write_lexicon(output, lexicon, name=config.name)
    stats.update(
        terms=header.terms,
        counts=header.counts,
        fingerprint=header.fingerprint,
        seconds=round(time.perf_counter() - started, 1),
        config=asdict(config),
    )
    Path(output, "build.json").write_text(json.dumps(stats, indent=1, ensure_ascii=False) + "\n")
    Path(output, "README.md").write_text(model_card(config, stats), encoding="utf-8")
    return stats


def model_card(config: LexiconConfig, stats: dict[str, Any]) -> str:
    """The bundle's README.md: what it holds, how it was made, and each list's attribution."""
    lines = [
        f"# {config.name}: a clinical term lexicon (PROBLEM / TEST / TREATMENT)",
        "",
        "Built by `python -m sparkner.training.lexicon --config conf/lexicon_clinical.yaml "
        f"--data ../shared/data --output sparkner/resources/{config.name}`.",
        "The cleaning rules and the class vote are described in `sparkner/training/lexicon.py`;",
        "`build.json` counts every decision. Terms are stored normalized (sparkner's tokenizer,",
        "NFKC, Unicode lower case): `vocabulary.txt` lists the tokens, `terms.npz` holds each",
        "term's token ids and class (see `sparkner/lexicon/store.py`; `Lexicon.terms()` lists",
        "them as text).",
        "",
        "This is a MODIFIED, derived compilation of the lists below: terms were cleaned, some",
        "dropped, and each given one class of ours (the classes are not the sources' own).",
        "No source endorses this lexicon.",
        "",
        "| class | terms |",
        "| --- | ---: |",
        *[f"| {c} | {n:,} |" for c, n in stats["counts"].items()],
        f"| all | {stats['terms']:,} |",
        "",
        "## Sources and attribution",
        "",
        "| list | rows read | distinct terms kept (before the vote) | license |",
        "| --- | ---: | ---: | --- |",
    ]
    for source in config.sources:
        s = stats["sources"][source.path]
        lines.append(
            f"| {source.name or source.path} | {s['rows']:,} | {s['distinct_terms']:,} | "
            f"{source.license} |"
        )
    lines.append("")
    for source in config.sources:
        if source.attribution:
            lines += [f"- **{source.name or source.path}**: {source.attribution.strip()}", ""]
    if config.extra_terms:
        count = sum(len(v) for v in config.extra_terms.values())
        lines += [
            f"- **Hand-listed terms** ({count}, `extra_terms` in the config): written for "
            "sparkner, Apache-2.0.",
            "",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Build the bundled clinical lexicon.")
    parser.add_argument("--config", required=True)
    parser.add_argument("--data", required=True, help="the shared data folder")
    parser.add_argument("--output", required=True)
    args = parser.parse_args(argv)
    stats = build_lexicon_store(load_config(args.config), args.data, args.output)
    print(json.dumps({k: stats[k] for k in ("terms", "counts", "fingerprint", "seconds")}))


if __name__ == "__main__":
    main()
