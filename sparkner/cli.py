"""The ``sparkner`` command line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence


def _build_embeddings(args: argparse.Namespace) -> int:
    from sparkner.training.embeddings import build_embeddings, load_config

    stats = build_embeddings(load_config(args.config), args.data, args.output)
    print(json.dumps({k: v for k, v in stats.items() if k != "config"}, indent=1))
    return 0


def _neighbours(args: argparse.Namespace) -> int:
    from sparkner.annotators.word_embeddings import WordEmbeddingsModel
    from sparkner.embeddings.store import open_store

    model = (
        WordEmbeddingsModel().attach_files(args.store)
        if args.store
        else WordEmbeddingsModel.pretrained(args.name)
    )
    store = open_store(model.files_folder())
    for word in args.words:
        try:
            near = store.nearest(word, args.k)
        except KeyError:
            print(f"{word}: not in the vocabulary")
            continue
        print(f"{word}: " + ", ".join(f"{w} ({score:.2f})" for w, score in near))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sparkner", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    build = commands.add_parser(
        "build-embeddings", help="train word vectors from a recipe (needs the 'train' extra)"
    )
    build.add_argument("--config", required=True, help="e.g. conf/embeddings_clinical.yaml")
    build.add_argument("--data", required=True, help="the data folder, e.g. ../shared/data")
    build.add_argument("--output", required=True, help="folder to write the store to")
    build.set_defaults(run=_build_embeddings)

    near = commands.add_parser("neighbours", help="nearest words in a set of word vectors")
    near.add_argument("words", nargs="+")
    near.add_argument("--name", default="embeddings_clinical", help="bundled vectors")
    near.add_argument("--store", help="a store folder instead of bundled vectors")
    near.add_argument("-k", type=int, default=8, help="neighbours per word")
    near.set_defaults(run=_neighbours)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (FileNotFoundError, ValueError) as exc:
        # Messages name files and settings, never note text.
        print(f"sparkner {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
