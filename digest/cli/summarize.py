"""`digest summarize PATH… [--sentences N] [--json]`: the summary a digest would use."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from digest.errors import SourceError
from digest.sources.folder import read_article_file
from digest.summarize import summarize


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "summarize", help="show the summary a digest would use for article files",
        description="Print the extractive summary of each article file (first non-empty "
                    "line: headline; the rest: body).")
    parser.add_argument("paths", nargs="+", metavar="PATH", type=Path, help="article files")
    parser.add_argument("--sentences", "-n", type=_positive, default=3, metavar="N",
                        help="sentences per summary (default: 3)")
    parser.add_argument("--json", action="store_true",
                        help='one JSON object per path and line: {"path", "title", "sentences"}')
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    status = 0
    for number, path in enumerate(args.paths):
        try:
            article = read_article_file(path)
        except SourceError as exc:
            print(f"digest: error: {path}: {exc}", file=sys.stderr)
            status = 1
            continue
        chosen = summarize(article.body, sentences=args.sentences, title=article.title,
                           description=article.description)
        if args.json:
            record = {"path": str(path), "title": article.title, "sentences": list(chosen)}
            print(json.dumps(record, ensure_ascii=False))
            continue
        if len(args.paths) > 1:
            if number:
                print()
            print(f"{path}: {article.title}")
        for sentence in chosen:
            print(sentence)
    return status


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number
