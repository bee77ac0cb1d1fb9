"""The recipe for sparkner's bundled resolvers (``resolver_mesh``, ``resolver_icd10cm``,
``resolver_drugs``).

    python -m sparkner.training.resolver --data ../shared/data --output sparkner/resources

1. Vocabularies from ``lexicons/``: every MeSH descriptor with its entry terms
   (``mesh_descriptors.tsv.xz``; terms over 100 characters, systematic chemical names, are
   left out), each with the classes of ``mesh_terms.tsv.xz`` (or of its tree numbers); the
   ICD-10-CM PROBLEM codes with their inclusion terms (``icd10cm_terms.tsv.xz``), plus each
   term without its parenthesised words and without a trailing ", unspecified ..." part; the
   DrugBank drugs of ``drug_terms.tsv.xz``, each with the UNII that shares the most of its
   names in ``unii_names.tsv.xz`` and that UNII's names (brand names among them).
2. The re-ranker is trained on the NCBI-disease train split (``ncbi_disease/concepts``)
   against MeSH alone, its L2 penalty chosen on the dev split (accuracy@1 on mentions with
   a MeSH descriptor).
3. ``resolver_mesh`` also gets the train split's mentions as aliases of their descriptors
   (as the sieve of D'Souza & Ng 2015 does) for the selection on dev, and the bundled one
   the train and dev mentions (as the taggers are refit on train + dev); test is never read.

Each folder gets ``build.json`` with the counts and the dev figures.
"""

from __future__ import annotations

import argparse
import json
import lzma
import re
import shutil
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from sparkner.resolution.abbreviations import expand, find_abbreviations
from sparkner.resolution.ranker import DEFAULT_RANKER, Ranker, train_ranker
from sparkner.resolution.resolver import Resolver, load_resolver
from sparkner.resolution.store import Concept, write_resolver
from sparkner.resolution.text import normalize
from sparkner.training.pubtator import Abstract, read_pubtator

MAX_TERM_LENGTH = 100
DISEASE = "Disease"  # the NCBI mentions' entity type (-> PROBLEM concepts)
L2_CHOICES = (1e-4, 1e-3, 1e-2)
# No word vectors: the word_vectors feature (cosine of mean embeddings_clinical vectors of
# mention and alias) changed no dev answer (0.8906 with and without on NCBI-disease dev,
# 0.8351 / 0.8336 without corpus aliases) and its lookups were a quarter of the resolver's
# cost on new notes; the feature stays in the format, at 0 (a user's resolver may name
# vectors).
EMBEDDINGS: str | None = None


def _rows(path: Path) -> Iterator[list[str]]:
    opener = lzma.open if path.suffix == ".xz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        next(handle)  # the header
        for line in handle:
            yield line.rstrip("\n").split("\t")


# -- MeSH -------------------------------------------------------------------------------------
def _tree_classes(trees: str) -> set[str]:
    classes = set()
    for tree in filter(None, trees.split(";")):
        if tree.startswith(("C", "F03")):
            classes.add("PROBLEM")
        elif tree.startswith("E01"):
            classes.add("TEST")
        elif tree.startswith(("E02", "E04")):
            classes.add("TREATMENT")
        elif tree.startswith("D"):
            classes.add("CHEMICAL")
    return classes


def mesh_concepts(
    lexicons: Path, extra_aliases: dict[str, list[str]] | None = None
) -> list[Concept]:
    """Every MeSH descriptor with its entry terms (and ``extra_aliases`` by descriptor)."""
    classes: dict[str, set[str]] = defaultdict(set)
    for _, cls, source in _rows(lexicons / "mesh_terms.tsv.xz"):
        classes[source.removeprefix("MESH:")].add(cls)
    concepts: dict[str, Concept] = {}
    for descriptor, preferred, term, trees in _rows(lexicons / "mesh_descriptors.tsv.xz"):
        concept = concepts.get(descriptor)
        if concept is None:
            found = classes.get(descriptor) or _tree_classes(trees)
            concept = concepts[descriptor] = Concept(
                descriptor, preferred, "", tuple(sorted(found))
            )
        if len(term) <= MAX_TERM_LENGTH:
            concept.aliases.append(term)
    for descriptor, aliases in (extra_aliases or {}).items():
        if descriptor in concepts:
            concepts[descriptor].aliases.extend(aliases)
    return list(concepts.values())


# -- ICD-10-CM ----------------------------------------------------------------------------------
# Common names of common problems that the tabular list does not spell out (hand-listed;
# a name here goes to the code a coder would give it).
COMMON_ICD_TERMS: dict[str, list[str]] = {
    "I10": ["hypertension", "HTN", "high blood pressure", "hypertensive"],
    "E78.5": ["hyperlipidemia", "dyslipidemia"],
    "N39.0": ["urinary tract infection", "UTI"],
    "I25.10": ["coronary artery disease", "CAD"],
    "I48.91": ["atrial fibrillation", "afib"],
    "E11.9": ["type 2 diabetes", "diabetes mellitus type 2", "DM2", "T2DM"],
    "E10.9": ["type 1 diabetes", "T1DM"],
    "J44.9": ["chronic obstructive pulmonary disease", "COPD"],
    "J45.909": ["asthma"],
    "I50.9": ["heart failure", "CHF", "congestive heart failure"],
    "N18.9": ["chronic kidney disease", "CKD"],
    "K21.9": ["gastroesophageal reflux disease", "GERD", "reflux"],
    "F32.A": ["depression"],
    "F41.9": ["anxiety"],
    "G47.33": ["obstructive sleep apnea", "OSA"],
    "I63.9": ["stroke", "CVA", "cerebrovascular accident"],
    "I21.9": ["myocardial infarction", "MI", "heart attack"],
    "R07.9": ["chest pain"],
    "R06.02": ["shortness of breath", "SOB", "dyspnea"],
    "R11.2": ["nausea and vomiting"],
    "M54.50": ["low back pain"],
    "C50.919": ["breast cancer"],
    "D64.9": ["anemia"],
    "E03.9": ["hypothyroidism"],
    "N17.9": ["acute kidney injury", "AKI", "acute renal failure"],
}
_PARENTHESES = re.compile(r"\s*[(\[][^()\[\]]*[)\]]")
_UNSPECIFIED = re.compile(r",\s*(unspecified|not elsewhere classified|NOS)\b.*$", re.I)


# "Unspecified hydronephrosis" (N13.30), "Seizure NOS" (R56.9): the code a bare
# "hydronephrosis" or "seizure" gets.
_LEADING_UNSPECIFIED = re.compile(r"^unspecified\s+(?=\S)", re.I)
_TRAILING_NOS = re.compile(r"\s+NOS$")


def icd_variants(term: str) -> list[str]:
    """A term, without its parenthesised words, and without a trailing ", unspecified ...",
    a leading "Unspecified" or a trailing "NOS"."""
    variants = [term]
    bare = " ".join(_PARENTHESES.sub("", term).split())
    short = _UNSPECIFIED.sub("", bare).strip(" ,")
    short = _TRAILING_NOS.sub("", _LEADING_UNSPECIFIED.sub("", short)).strip(" ,")
    for variant in (bare, short):
        if variant and variant not in variants:
            variants.append(variant)
    return variants


def icd_concepts(lexicons: Path) -> list[Concept]:
    """The billable (leaf) ICD-10-CM codes. A code's name is its term that says
    "unspecified" if one does (the file lists a code's terms alphabetically, its description
    among them), else its first. A category's terms go to its default leaf, as coders code
    to a leaf: the leaf with the same name, else the category's name "without ..." ("Type 2
    diabetes mellitus" -> E11.9), else the one named "X, unspecified" or "Unspecified X"
    (M54.5 -> M54.50), else the one ending in 9. "Malignant neoplasm of X" also reads "cancer
    of X". A normal form several codes share goes to the first to claim it: leaves' names,
    then categories' names, then the other terms, each in code order."""
    rows: dict[str, list[str]] = defaultdict(list)
    terms: dict[str, list[str]] = defaultdict(list)
    for code, common in COMMON_ICD_TERMS.items():
        terms[code].extend(common)
    for term, _, source in _rows(lexicons / "icd10cm_terms.tsv.xz"):
        code = source.removeprefix("ICD10CM:")
        rows[code].append(term)
        terms[code].extend(icd_variants(term))
        if term.lower().startswith("malignant neoplasm of "):
            terms[code].append("cancer of " + term[len("malignant neoplasm of ") :])
    names = {
        code: next((t for t in listed if "unspecified" in t.lower()), listed[0])
        for code, listed in rows.items()
    }
    codes = sorted(names)
    leaves = [
        c for i, c in enumerate(codes) if i + 1 == len(codes) or not codes[i + 1].startswith(c)
    ]
    leaf_set = set(leaves)
    target: dict[str, str] = {c: c for c in leaves}
    for code in codes:
        if code in leaf_set:
            continue
        below = [c for c in leaves if c.startswith(code) and c != code]
        name = names[code].lower()
        default = (
            [c for c in below if names[c].lower() == name]
            or [c for c in below if names[c].lower().startswith(name + " without ")]
            or [
                c
                for c in below
                if names[c].lower().endswith(", unspecified")
                or names[c].lower().startswith("unspecified ")
            ]
            or [c for c in below if c.endswith("9")]
        )
        if default:
            target[code] = min(default, key=lambda c: (len(c), c))
    concepts: dict[str, Concept] = {}
    owner: dict[str, str] = {}
    passes = (
        [(c, icd_variants(names[c])) for c in leaves],
        [(c, icd_variants(names[c])) for c in codes if c not in leaf_set],
        [(c, terms[c]) for c in codes],
    )
    for claims in passes:
        for code, claimed in claims:
            leaf = target.get(code)
            if leaf is None:
                continue
            concept = concepts.get(leaf)
            if concept is None:
                concept = concepts[leaf] = Concept(leaf, names[leaf], "", ("PROBLEM",))
            for term in claimed:
                key = normalize(term)
                if owner.setdefault(key, leaf) == leaf:
                    concept.aliases.append(term)
    return [concepts[c] for c in sorted(concepts)]


# -- drugs ------------------------------------------------------------------------------------
def drug_concepts(lexicons: Path) -> list[Concept]:
    """The DrugBank drugs, each with the UNII sharing most of its names and its names."""
    drugbank: dict[str, list[str]] = defaultdict(list)
    for term, _, source in _rows(lexicons / "drug_terms.tsv.xz"):
        if source.startswith("DRUGBANK:"):
            drugbank[source.removeprefix("DRUGBANK:")].append(term)
    unii_of_name: dict[str, set[str]] = defaultdict(set)
    names_of_unii: dict[str, list[str]] = defaultdict(list)
    for term, _, source in _rows(lexicons / "unii_names.tsv.xz"):
        unii = source.removeprefix("UNII:")
        unii_of_name[term.lower()].add(unii)
        names_of_unii[unii].append(term)
    taken = {term.lower() for terms in drugbank.values() for term in terms}
    concepts = []
    for drug, terms in drugbank.items():
        # Sorted: ties go to the same UNII in every build (set order varies per process).
        votes = Counter(u for t in terms for u in sorted(unii_of_name.get(t.lower(), ())))
        unii = votes.most_common(1)[0][0] if votes else ""
        aliases = list(terms)
        if unii:
            # The UNII's other names (brands): not those another DrugBank drug has.
            aliases += [n for n in names_of_unii[unii] if n.lower() not in taken]
        # The name: a DrugBank term that is also a name of its UNII (often the official
        # one), else the shortest.
        official = [t for t in terms if unii and unii in unii_of_name.get(t.lower(), ())]
        name = min(official or terms, key=lambda t: (len(t), t))
        concepts.append(Concept(drug, name, unii, ("TREATMENT_DRUG",), aliases))
    return concepts


# -- the re-ranker ------------------------------------------------------------------------------
def mesh_ids(mention_ids: Sequence[str], descriptors: set[str]) -> set[str]:
    return {i for i in mention_ids if i in descriptors}


def query_texts(abstracts: Sequence[Abstract]) -> list[tuple[str, tuple[str, ...]]]:
    """Each mention's text with the abbreviations of its abstract expanded, and its ids."""
    queries = []
    for abstract in abstracts:
        abbreviations = find_abbreviations(abstract.text)
        for mention in abstract.mentions:
            queries.append((expand(mention.text, abbreviations), mention.ids))
    return queries


def training_examples(
    resolver: Resolver, queries: Sequence[tuple[str, tuple[str, ...]]]
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    codes = resolver.vocabulary.codes
    wanted = resolver.wanted_classes(DISEASE)
    features, gold = [], []
    for text, ids in queries:
        concepts, _, rows = resolver.candidates(text, wanted)
        features.append(rows)
        gold.append(np.asarray([codes[c] in ids for c in concepts], bool))
    return features, gold


def accuracy(
    resolver: Resolver, queries: Sequence[tuple[str, tuple[str, ...]]], descriptors: set[str]
) -> dict[str, float]:
    """Accuracy@1 on mentions with a MeSH descriptor among their ids, and on all mentions
    (a composite mention is right with any of its ids)."""
    right_mesh = total_mesh = right_all = 0
    for text, ids in queries:
        candidates = resolver.resolve(text, DISEASE)
        code = resolver.vocabulary.codes[candidates[0].concept] if candidates else None
        hit = code is not None and code in ids
        right_all += hit
        if mesh_ids(ids, descriptors):
            total_mesh += 1
            right_mesh += hit
    return {
        "accuracy_mesh": round(right_mesh / max(total_mesh, 1), 4),
        "accuracy_all": round(right_all / max(len(queries), 1), 4),
        "mentions_mesh": total_mesh,
        "mentions_all": len(queries),
    }


def train_aliases(abstracts: Sequence[Abstract], descriptors: set[str]) -> dict[str, list[str]]:
    """The corpus mentions as aliases: each mention text (in normal form) goes to the
    descriptor most of its mentions have, if that is one descriptor with at least half the
    votes (a text mostly annotated as a composite, "breast and ovarian cancer", is left to
    the vocabulary)."""
    votes: dict[str, Counter[tuple[str, ...]]] = defaultdict(Counter)
    shown: dict[str, str] = {}
    for abstract in abstracts:
        for mention in abstract.mentions:
            key = normalize(mention.text)
            votes[key][mention.ids] += 1
            shown.setdefault(key, mention.text)
    aliases: dict[str, list[str]] = defaultdict(list)
    for key, counts in votes.items():
        (ids, count), total = counts.most_common(1)[0], sum(counts.values())
        if len(ids) == 1 and ids[0] in descriptors and 2 * count >= total:
            aliases[ids[0]].append(shown[key])
    return aliases


def build(data: Path, output: Path, log: bool = True) -> dict[str, dict[str, object]]:
    """Build the three resolvers from ``data`` into ``output``/resolver_*; returns their
    build records."""
    started = time.time()
    lexicons = data / "lexicons"
    corpus = data / "ncbi_disease" / "concepts"
    train = read_pubtator(corpus / "train.pubtator.txt")
    dev = read_pubtator(corpus / "dev.pubtator.txt")

    def say(message: str) -> None:
        if log:
            print(f"[{time.time() - started:6.1f}s] {message}", flush=True)

    plain = mesh_concepts(lexicons)
    descriptors = {c.code for c in plain}
    with tempfile.TemporaryDirectory() as scratch:
        write_resolver(scratch, "mesh_plain", "MeSH", plain, DEFAULT_RANKER, EMBEDDINGS)
        resolver = load_resolver(scratch)
        say("MeSH without corpus aliases indexed; features of the train mentions")
        features, gold = training_examples(resolver, query_texts(train))
        extra = train_aliases(train, descriptors)
        full_folder = Path(scratch) / "full"
        write_resolver(
            full_folder, "mesh_full", "MeSH", mesh_concepts(lexicons, extra), embeddings=EMBEDDINGS
        )
        full = load_resolver(str(full_folder))
        dev_queries = query_texts(dev)
        selection = []
        best: tuple[float, Ranker, float] | None = None
        for l2 in L2_CHOICES:
            ranker = train_ranker(features, gold, l2=l2)
            figures = accuracy(full.with_ranker(ranker), dev_queries, descriptors)
            selection.append({"l2": l2, **figures})
            say(f"l2={l2}: dev {figures}")
            if best is None or figures["accuracy_mesh"] > best[0]:
                best = (figures["accuracy_mesh"], ranker, l2)
        assert best is not None
        ranker = best[1]
        plain_dev = accuracy(resolver.with_ranker(ranker), dev_queries, descriptors)
        say(f"chosen l2={best[2]}; dev without corpus aliases {plain_dev}")
    records: dict[str, dict[str, object]] = {}
    ranker_record = {
        "trained_on": "ncbi_disease/concepts/train.pubtator.txt (mentions vs MeSH alone)",
        "selected_on": "ncbi_disease/concepts/dev.pubtator.txt",
        "l2_choices": selection,
        "l2": best[2],
        "dev_without_corpus_aliases": plain_dev,
        "train_mentions": len(features),
    }
    # As the taggers are refit on train + dev once selected: the bundled MeSH resolver has
    # the dev mentions as aliases too (the test split is never read here).
    final_extra = train_aliases([*train, *dev], descriptors)
    vocabularies = [
        ("resolver_mesh", "MeSH", mesh_concepts(lexicons, final_extra), "mesh_descriptors.tsv.xz"),
        ("resolver_icd10cm", "ICD-10-CM", icd_concepts(lexicons), "icd10cm_terms.tsv.xz"),
        ("resolver_drugs", "DrugBank", drug_concepts(lexicons), "drug_terms.tsv.xz + unii"),
    ]
    for name, vocabulary, concepts, source in vocabularies:
        folder = output / name
        if folder.exists():
            shutil.rmtree(folder)
        header = write_resolver(folder, name, vocabulary, concepts, ranker, EMBEDDINGS)
        size = sum(p.stat().st_size for p in folder.iterdir())
        record = {
            "source": source,
            "counts": header["counts"],
            "bytes": size,
            "ranker": ranker_record,
        }
        (folder / "build.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
        records[name] = record
        say(f"{name}: {header['counts']}, {size / 1e6:.1f} MB")
    return records


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="the data folder, e.g. ../shared/data")
    parser.add_argument("--output", required=True, help="e.g. sparkner/resources")
    args = parser.parse_args(argv)
    build(Path(args.data), Path(args.output))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
