"""Build the bundled ConText rules (resources/assertion_clinical/context_rules.json) from the
open trigger lists in ``shared/data/lexicons/negation/``:

    python -m sparkner.training.assertion_rules --data ../shared/data \\
        --output sparkner/resources/assertion_clinical

- medspaCy 1.3.1 ``context_rules.json`` (MIT): each spaCy token pattern is expanded into its
  literal phrases (``{"LOWER": {"IN": [...]}}`` alternatives, ``"OP": "?"`` optional tokens);
- pyConTextNLP ``lexical_kb_05042016.tsv`` (Apache-2.0): the regular expression where it is a
  plain alternation (``(is|was) negative``), else the ``Lex`` column;
- negspacy 1.1.0 ``termsets.json`` (MIT), the ``en_clinical`` term set.

Categories become our labels and directions (see the ``*_CATEGORIES`` tables); historical,
acute and "definite existence" items are dropped, and so are the junk phrases of
:data:`DROPPED` (too common words to be triggers, such as "clear", "appear", "indication").
Every phrase is tokenized with sparkner's own tokenizer and lowercased, so it matches the
tokens a pipeline makes. One rule per phrase: :data:`OWN_RULES` (written for sparkner: the
conditional triggers, and the decisions that differ from the sources, such as "unlikely" ->
possible) win over medspaCy, medspaCy over pyConTextNLP, pyConTextNLP over negspacy.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import re
from pathlib import Path

from sparkner.assertion.context import (
    ABSENT,
    BACKWARD,
    BIDIRECTIONAL,
    CONDITIONAL,
    DEFAULT_PRIORITY,
    FORWARD,
    HYPOTHETICAL,
    POSSIBLE,
    PSEUDO,
    RULES_FILE,
    RULES_FORMAT,
    SOMEONE_ELSE,
    TERMINATE,
)
from sparkner.text.tokenizing import tokenize_text

# Scope windows in word tokens, tuned on the MACCROBAT dev split (bench/assertion.py): 7
# forward, 4 backward ("X ... was not seen" reaches less far back than "no X" forward).
MAX_SCOPE = 7
MAX_SCOPE_BACKWARD = 4
# Chunks of these classes are not asserted (always present): a test is done or not, and
# "negative for CD3" reports a test that was done. Tuned on the MACCROBAT dev split.
UNASSERTED_ENTITIES = ["TEST"]
# (phrase, direction, label); the label of a terminate rule: None = it ends every scope.
RawRule = tuple[str, str, "str | None"]

MEDSPACY_CATEGORIES = {
    "NEGATED_EXISTENCE": ABSENT,
    "POSSIBLE_EXISTENCE": POSSIBLE,
    "HYPOTHETICAL": HYPOTHETICAL,
    "FAMILY": SOMEONE_ELSE,
}
PYCONTEXT_CATEGORIES = {
    "DEFINITE_NEGATED_EXISTENCE": ABSENT,
    "PROBABLE_NEGATED_EXISTENCE": ABSENT,
    "PROBABLE_EXISTENCE": POSSIBLE,
    "AMBIVALENT_EXISTENCE": POSSIBLE,
    "FUTURE": HYPOTHETICAL,
    "HYPOTHETICAL": HYPOTHETICAL,
    # INDICATION ("rule out", "evaluation of") is kept only for the rule-out phrases.
    "INDICATION": POSSIBLE,
}
DIRECTIONS = {
    "forward": FORWARD,
    "backward": BACKWARD,
    "backwards": BACKWARD,
    "bidirectional": BIDIRECTIONAL,
    "terminate": TERMINATE,
}

# Too common to be triggers, or wrong for notes (checked on the MACCROBAT train split).
DROPPED = frozenset(
    {
        "#name?",
        "clear",
        "cannot",
        "indication",
        "exhibit",
        "appear",
        "appears",
        "signs of",
        "associated with",
        "borderline",
        "test for",
        "evaluation",
        "examination",
        "exam",
        "study",
        "protocol",
        "ro",
        "r o",
        "versus",
        "risk factor",
        "risk factors",
        "return",
        "etc",
        "cannot see",
        "evidence",
        "every indication",
        "seen best",
        "construed as",
        "should be considered",
        # negspacy's pseudo "no further": "no further bleeding" denies the bleeding.
        "no further",
        "without further",
        "without any further",
    }
)

# Written for sparkner: (phrase, direction, label). They win over every source.
OWN_RULES: list[RawRule] = [
    # Possible: the Spark NLP / medspaCy reading of "rule out" and of "unlikely".
    ("unlikely", BACKWARD, POSSIBLE),
    ("is unlikely", BACKWARD, POSSIBLE),
    ("was unlikely", BACKWARD, POSSIBLE),
    ("less likely", BIDIRECTIONAL, POSSIBLE),
    ("rule out", FORWARD, POSSIBLE),
    ("to rule out", FORWARD, POSSIBLE),
    ("to exclude", FORWARD, POSSIBLE),
    ("r/o", FORWARD, POSSIBLE),
    ("suspected", BIDIRECTIONAL, POSSIBLE),
    ("suspicion of", FORWARD, POSSIBLE),
    ("suspicion for", FORWARD, POSSIBLE),
    ("suspicious of", FORWARD, POSSIBLE),
    ("suspicious for", FORWARD, POSSIBLE),
    ("concern for", FORWARD, POSSIBLE),
    ("presumed", FORWARD, POSSIBLE),
    ("presumptive", FORWARD, POSSIBLE),
    ("probably", FORWARD, POSSIBLE),
    ("questionable", FORWARD, POSSIBLE),
    ("differential diagnosis", FORWARD, POSSIBLE),
    ("differential diagnoses", FORWARD, POSSIBLE),
    ("cannot be excluded", BACKWARD, POSSIBLE),
    ("could not be excluded", BACKWARD, POSSIBLE),
    ("can not be excluded", BACKWARD, POSSIBLE),
    ("cannot be ruled out", BACKWARD, POSSIBLE),
    ("could not be ruled out", BACKWARD, POSSIBLE),
    ("cannot exclude", FORWARD, POSSIBLE),
    ("cannot rule out", FORWARD, POSSIBLE),
    ("not rule out", FORWARD, POSSIBLE),
    ("supposed to be", FORWARD, POSSIBLE),
    ("low probability", FORWARD, POSSIBLE),
    ("possibility of", FORWARD, POSSIBLE),
    ("suggesting", FORWARD, POSSIBLE),
    ("suggestive of", FORWARD, POSSIBLE),
    ("considered", BACKWARD, POSSIBLE),
    ("considered to be", FORWARD, POSSIBLE),
    ("provisional diagnosis", FORWARD, POSSIBLE),
    ("we consider", FORWARD, POSSIBLE),
    ("thought to be", FORWARD, POSSIBLE),
    ("must have been", FORWARD, POSSIBLE),
    ("most likely", FORWARD, POSSIBLE),
    ("impression of", FORWARD, POSSIBLE),
    ("evaluate for", FORWARD, POSSIBLE),
    ("whether", FORWARD, POSSIBLE),
    # Absent.
    ("denies", FORWARD, ABSENT),
    ("denied", FORWARD, ABSENT),
    ("free", BACKWARD, ABSENT),
    ("free of", FORWARD, ABSENT),
    ("free from", FORWARD, ABSENT),
    ("negative for", FORWARD, ABSENT),
    ("no", FORWARD, ABSENT),
    ("not", FORWARD, ABSENT),
    ("neither", FORWARD, ABSENT),
    ("nor", FORWARD, ABSENT),
    ("without", FORWARD, ABSENT),
    ("no longer", FORWARD, ABSENT),
    ("absence of", FORWARD, ABSENT),
    ("absent", BACKWARD, ABSENT),
    ("resolved", BACKWARD, ABSENT),
    ("disappeared", BACKWARD, ABSENT),
    ("excluded", BIDIRECTIONAL, ABSENT),
    ("exclusion of", FORWARD, ABSENT),
    ("ruling out", FORWARD, ABSENT),
    ("was excluded", BACKWARD, ABSENT),
    ("were excluded", BACKWARD, ABSENT),
    ("not observed", BACKWARD, ABSENT),
    ("not seen", BACKWARD, ABSENT),
    ("not detected", BACKWARD, ABSENT),
    ("not found", BACKWARD, ABSENT),
    ("not identified", BACKWARD, ABSENT),
    ("not noted", BACKWARD, ABSENT),
    ("not present", BACKWARD, ABSENT),
    ("not visualized", BACKWARD, ABSENT),
    ("not considered", BACKWARD, ABSENT),
    ("were not", FORWARD, ABSENT),
    ("did not appear", BACKWARD, ABSENT),
    ("not demonstrated", FORWARD, ABSENT),
    ("ceased", FORWARD, ABSENT),
    ("ceased to", FORWARD, ABSENT),
    ("recovered from", FORWARD, ABSENT),
    ("weaned off", BACKWARD, ABSENT),
    ("removed", BACKWARD, ABSENT),
    ("subsided", BACKWARD, ABSENT),
    ("not achieved", BACKWARD, ABSENT),
    ("not performed", BACKWARD, ABSENT),
    ("not possible", BACKWARD, ABSENT),
    ("not used", BACKWARD, ABSENT),
    ("not administered", BACKWARD, ABSENT),
    ("not expressed", BACKWARD, ABSENT),
    ("unsuccessful", BACKWARD, ABSENT),
    ("refused", FORWARD, ABSENT),
    ("rejected", FORWARD, ABSENT),
    ("failed", FORWARD, ABSENT),
    ("failed to", FORWARD, ABSENT),
    # What ended is no longer there: a finding resolved, a drug stopped.
    ("resolution of", FORWARD, ABSENT),
    ("cessation of", FORWARD, ABSENT),
    ("discontinued", BIDIRECTIONAL, ABSENT),
    ("discontinuing", FORWARD, ABSENT),
    ("discontinuation of", FORWARD, ABSENT),
    ("stopped", BACKWARD, ABSENT),
    ("stopping", FORWARD, ABSENT),
    ("stop", FORWARD, ABSENT),
    ("withdrawal of", FORWARD, ABSENT),
    ("withdrawal", BACKWARD, ABSENT),
    ("withdrawn", BACKWARD, ABSENT),
    ("weaned from", FORWARD, ABSENT),
    ("removal of", FORWARD, ABSENT),
    ("relieved", BIDIRECTIONAL, ABSENT),
    ("ameliorated", BACKWARD, ABSENT),
    ("cleared", BACKWARD, ABSENT),
    ("cured", BACKWARD, ABSENT),
    ("reversed", BACKWARD, ABSENT),
    ("suspended", BACKWARD, ABSENT),
    # Hypothetical.
    ("if", FORWARD, HYPOTHETICAL),
    ("in case of", FORWARD, HYPOTHETICAL),
    ("in the event of", FORWARD, HYPOTHETICAL),
    ("should", FORWARD, HYPOTHETICAL),
    ("return for", FORWARD, HYPOTHETICAL),
    ("return to the", FORWARD, HYPOTHETICAL),
    ("as needed", FORWARD, HYPOTHETICAL),
    ("prn", FORWARD, HYPOTHETICAL),
    ("at risk for", FORWARD, HYPOTHETICAL),
    ("at risk of", FORWARD, HYPOTHETICAL),
    # Conditional: the finding comes with a circumstance, which follows it.
    ("on exertion", BACKWARD, CONDITIONAL),
    ("with exertion", BACKWARD, CONDITIONAL),
    ("upon exertion", BACKWARD, CONDITIONAL),
    ("during exertion", BACKWARD, CONDITIONAL),
    ("on exercise", BACKWARD, CONDITIONAL),
    ("with exercise", BACKWARD, CONDITIONAL),
    ("during exercise", BACKWARD, CONDITIONAL),
    ("with activity", BACKWARD, CONDITIONAL),
    ("on ambulation", BACKWARD, CONDITIONAL),
    ("with ambulation", BACKWARD, CONDITIONAL),
    ("when climbing", BACKWARD, CONDITIONAL),
    ("while climbing", BACKWARD, CONDITIONAL),
    ("when walking", BACKWARD, CONDITIONAL),
    ("while walking", BACKWARD, CONDITIONAL),
    ("when lying", BACKWARD, CONDITIONAL),
    ("while lying", BACKWARD, CONDITIONAL),
    ("when standing", BACKWARD, CONDITIONAL),
    ("on standing", BACKWARD, CONDITIONAL),
    ("when eating", BACKWARD, CONDITIONAL),
    ("after eating", BACKWARD, CONDITIONAL),
    ("after meals", BACKWARD, CONDITIONAL),
    ("when exposed to", BACKWARD, CONDITIONAL),
    ("if exposed to", BACKWARD, CONDITIONAL),
    ("on exposure to", BACKWARD, CONDITIONAL),
    ("upon exposure to", BACKWARD, CONDITIONAL),
    ("after exposure to", BACKWARD, CONDITIONAL),
    ("with exposure to", BACKWARD, CONDITIONAL),
    ("triggered by", BACKWARD, CONDITIONAL),
    ("precipitated by", BACKWARD, CONDITIONAL),
    ("provoked by", BACKWARD, CONDITIONAL),
    # Someone else.
    ("family history of", FORWARD, SOMEONE_ELSE),
    ("family history", FORWARD, SOMEONE_ELSE),
    ("fhx", FORWARD, SOMEONE_ELSE),
    # Pseudo: negation words that negate nothing here.
    ("no change", PSEUDO, None),
    ("no changes", PSEUDO, None),
    ("not only", PSEUDO, None),
    ("gram negative", PSEUDO, None),
    ("gram - negative", PSEUDO, None),
    ("no increase", PSEUDO, None),
    ("no improvement", PSEUDO, None),
    ("no decrease", PSEUDO, None),
    ("not necessarily", PSEUDO, None),
    ("no doubt", PSEUDO, None),
    ("without doubt", PSEUDO, None),
    ("not certain whether", PSEUDO, None),
    ("not clear whether", PSEUDO, None),
    ("whether or not", PSEUDO, None),
    ("if any", PSEUDO, None),
    # Terminate: a new clause.
    ("but", TERMINATE, None),
    ("however", TERMINATE, None),
    ("although", TERMINATE, None),
    ("though", TERMINATE, None),
    ("except", TERMINATE, None),
    ("aside from", TERMINATE, None),
    ("apart from", TERMINATE, None),
    ("which", TERMINATE, None),
    ("whereas", TERMINATE, None),
    ("while", TERMINATE, None),
    ("yet", TERMINATE, None),
    ("still", TERMINATE, None),
    ("nevertheless", TERMINATE, None),
    ("because", TERMINATE, None),
    ("since", TERMINATE, None),
    ("due to", TERMINATE, None),
    ("secondary to", TERMINATE, None),
    (";", TERMINATE, None),
    # A new finding or event: what follows is asserted afresh.
    ("presented", TERMINATE, None),
    ("presents", TERMINATE, None),
    ("presenting", TERMINATE, None),
    ("developed", TERMINATE, None),
    ("diagnosed", TERMINATE, None),
    ("confirmed", TERMINATE, None),
    ("showed", TERMINATE, None),
    ("revealed", TERMINATE, None),
    ("began", TERMINATE, None),
    ("started", TERMINATE, None),
    ("resumed", TERMINATE, None),
    ("remained", TERMINATE, None),
    ("complained", TERMINATE, None),
    ("that", TERMINATE, None),
    ("who", TERMINATE, None),
]


def words(phrase: str) -> str:
    """The phrase as sparkner tokenizes it, lowercased, tokens joined by single spaces."""
    text = phrase.strip().lower().replace("\u2019", "'")
    return " ".join(text[b:e] for b, e in tokenize_text(text))


def medspacy_rules(path: str | os.PathLike[str]) -> list[RawRule]:
    """medspaCy's rules, patterns expanded to literal phrases (historical ones dropped)."""
    with open(path, encoding="utf-8") as handle:
        entries = json.load(handle)["context_rules"]
    rules: list[RawRule] = []
    for entry in entries:
        direction = entry["direction"].lower()
        category = entry["category"].upper()
        if direction == "terminate":
            if category == "HISTORICAL":
                continue
            # "because", "since" end hypothetical scopes only; the rest end every scope.
            label = HYPOTHETICAL if category == "HYPOTHETICAL" else None
            rules += [(p, TERMINATE, label) for p in _phrases(entry)]
        elif category in MEDSPACY_CATEGORIES:
            label = MEDSPACY_CATEGORIES[category]
            rules += [(p, DIRECTIONS[direction], label) for p in _phrases(entry)]
    return rules


def _phrases(entry: dict) -> list[str]:
    pattern = entry.get("pattern")
    if not pattern:
        return [entry["literal"]]
    choices: list[list[str]] = []
    for token in pattern:
        value = token.get("LOWER", token.get("TEXT"))
        options = value["IN"] if isinstance(value, dict) else [value]
        if token.get("OP") == "?":
            options = [*options, ""]
        choices.append(options)
    return [_join(combo) for combo in itertools.product(*choices)]


def _join(tokens: tuple[str, ...]) -> str:
    """spaCy tokens back to text: "mother", "'s" -> "mother's" (which sparkner splits again
    as "mother", "'s"); "did", "n't" -> "didn't"."""
    text = ""
    for token in tokens:
        if token:
            glued = token.startswith("'") or token == "n't"
            text += token if glued or not text else " " + token
    return text


def pycontext_rules(path: str | os.PathLike[str]) -> list[RawRule]:
    """pyConTextNLP's modifiers: our labels; pseudo and terminate items as such."""
    rules: list[RawRule] = []
    with open(path, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            kind = (row["Type"] or "").strip().upper()
            lex = (row["Lex"] or "").strip()
            direction = DIRECTIONS.get((row["Direction"] or "").strip().lower())
            if not lex or direction is None:
                continue
            if kind == "PSEUDONEG":
                rule_direction, label = PSEUDO, None
            elif kind == "CONJ":
                rule_direction, label = TERMINATE, None
            elif kind in PYCONTEXT_CATEGORIES:
                if kind == "INDICATION" and "rule" not in lex:
                    continue
                rule_direction, label = direction, PYCONTEXT_CATEGORIES[kind]
            else:
                continue
            phrases = expand_regex(row["Regex"] or "") or _lex_alternatives(lex)
            rules += [(p, rule_direction, label) for p in phrases]
    return rules


def expand_regex(regex: str, limit: int = 64) -> list[str] | None:
    """The strings a plain alternation regex matches (``no(t)? (a|b)?``), or None when it
    is more than that (character classes, repetition) or matches over ``limit`` strings."""
    text = regex.strip().replace(r"\s", " ").replace(r"\b", "")
    if not text or re.search(r"[^\w '/()|?.-]", text):
        return None
    try:
        options, rest = _alternatives(text, 0)
    except ValueError:
        return None
    if rest != len(text) or len(options) > limit:
        return None
    return sorted({" ".join(o.split()) for o in options if o.strip()})


def _alternatives(text: str, i: int) -> tuple[list[str], int]:
    """Parse ``a|b|c`` up to a closing parenthesis or the end: the strings and the stop."""
    results: list[str] = []
    current = [""]
    while i < len(text) and text[i] != ")":
        char = text[i]
        if char == "|":
            results += current
            current = [""]
            i += 1
        elif char == "(":
            inner, i = _alternatives(text, i + 1)
            if i >= len(text) or text[i] != ")":
                raise ValueError("unbalanced")
            i += 1
            if i < len(text) and text[i] == "?":
                inner = [*inner, ""]
                i += 1
            current = [c + x for c in current for x in inner]
        elif char == "?":
            # "s?" after one character: that character is optional.
            current = [*current, *(c[:-1] for c in current if c)]
            i += 1
        else:
            current = [c + char for c in current]
            i += 1
        if len(current) > 256:
            raise ValueError("too many")
    return results + current, i


def _lex_alternatives(lex: str) -> list[str]:
    expanded = expand_regex(lex)
    return expanded if expanded else [lex]


def negspacy_rules(path: str | os.PathLike[str], termset: str = "en_clinical") -> list[RawRule]:
    """negspacy's NegEx lists: preceding -> forward absent, following -> backward absent."""
    with open(path, encoding="utf-8") as handle:
        terms = json.load(handle)[termset]
    return (
        [(p, PSEUDO, None) for p in terms["pseudo_negations"]]
        + [(p, FORWARD, ABSENT) for p in terms["preceding_negations"]]
        + [(p, BACKWARD, ABSENT) for p in terms["following_negations"]]
        + [(p, TERMINATE, None) for p in terms["termination"]]
    )


def build_rules(data: str | os.PathLike[str]) -> list[dict[str, str | None]]:
    """The merged rule list: one rule per tokenized phrase, the first source that has it
    wins (ours, medspaCy, pyConTextNLP, negspacy), junk phrases dropped."""
    folder = Path(data) / "lexicons" / "negation"
    sources = [
        ("sparkner", OWN_RULES),
        ("medspacy", medspacy_rules(folder / "medspacy" / "context_rules.json")),
        ("pyConTextNLP", pycontext_rules(folder / "pyConTextNLP" / "lexical_kb_05042016.tsv")),
        ("negspacy", negspacy_rules(folder / "negspacy" / "termsets.json")),
    ]
    dropped = {words(p) for p in DROPPED}
    merged: dict[str, dict[str, str | None]] = {}
    for source, rules in sources:
        for phrase, direction, label in rules:
            key = words(phrase)
            if not key or key in merged or (source != "sparkner" and key in dropped):
                continue
            merged[key] = {"phrase": key, "direction": direction, "label": label, "source": source}
    return sorted(merged.values(), key=lambda r: (r["direction"], r["label"] or "", r["phrase"]))


def write_rules(data: str | os.PathLike[str], output: str | os.PathLike[str]) -> Path:
    """Build the rules and write ``context_rules.json`` into ``output``."""
    rules = build_rules(data)
    folder = Path(output)
    folder.mkdir(parents=True, exist_ok=True)
    document = {
        "format": RULES_FORMAT,
        "version": 1,
        "built_by": "python -m sparkner.training.assertion_rules",
        "max_scope": MAX_SCOPE,
        "max_scope_backward": MAX_SCOPE_BACKWARD,
        "priority": list(DEFAULT_PRIORITY),
        "unasserted_entities": UNASSERTED_ENTITIES,
        "rules": rules,
    }
    path = folder / RULES_FILE
    path.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="the shared/data folder")
    parser.add_argument("--output", type=Path, required=True, help="folder for the JSON file")
    args = parser.parse_args(argv)
    path = write_rules(args.data, args.output)
    count = len(json.loads(path.read_text(encoding="utf-8"))["rules"])
    print(f"wrote {count} rules to {path}")


if __name__ == "__main__":
    main()
