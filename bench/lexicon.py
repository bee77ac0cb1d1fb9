"""Speed of the lexicon matcher over the MTSamples notes, and load time of a lexicon store.

The notes are cut into documents, sentences and tokens with sparkner's own batch functions
first (not timed); then only matching is timed: ``match_lexicon`` (chunks with their text)
and ``token_classes`` (the tagger's per-token feature), in batches of 1,000 notes. Prints
tokens per second as the median of several runs after one warm-up run, and the median time
to load the store from disk (the per-process cache bypassed).

    python bench/lexicon.py [--runs 5] [--data ../shared/data] [--lexicon FOLDER]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
from pathlib import Path

import pyarrow as pa
from bench_support import DATA, batches, load_notes, timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per measure")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--lexicon", type=Path, default=None, help="a store folder")
    parser.add_argument("--batch", type=int, default=1000, help="notes per batch")
    args = parser.parse_args()

    from sparkner.annotators.document_assembler import assemble_documents
    from sparkner.lexicon.store import (
        HEADER_FILE,
        _read_store,
        load_lexicon,
        read_header,
    )
    from sparkner.resources import bundled_folder
    from sparkner.text.sentences import SentenceRules, detect_sentences
    from sparkner.text.tokenizing import TokenRules, tokenize

    folder = args.lexicon or bundled_folder("lexicon_clinical", HEADER_FILE, "lexicon")
    lexicon = load_lexicon(folder)
    header = read_header(folder)
    load = timed(lambda: _read_store(Path(folder), header), args.runs).seconds

    from sparkner.lexicon.matcher import match_lexicon, token_classes

    notes = load_notes(args.data)
    columns = []
    for chunk in batches(notes, args.batch):
        documents = assemble_documents(pa.array(chunk))
        tokens = tokenize(detect_sentences(documents, SentenceRules()), TokenRules())
        columns.append((documents, tokens))
    count = sum(len(tokens.flatten()) for _, tokens in columns)
    chunks = sum(len(match_lexicon(d, t, lexicon).flatten()) for d, t in columns)

    match = timed(lambda: [match_lexicon(d, t, lexicon) for d, t in columns], args.runs).seconds
    feature = timed(lambda: [token_classes(t, lexicon) for _, t in columns], args.runs).seconds
    report = {
        "lexicon": f"{header.name} ({header.terms} terms, {header.fingerprint})",
        "notes": len(notes),
        "tokens": count,
        "chunks": chunks,
        "load_ms_median": round(1000 * statistics.median(load), 1),
        "match_lexicon_tokens_per_s": round(count / statistics.median(match)),
        "token_classes_tokens_per_s": round(count / statistics.median(feature)),
        "runs": args.runs,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
