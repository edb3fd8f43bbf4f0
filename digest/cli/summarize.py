"""`digest summarize PATH… [--sentences N] [--json]`: the summary a digest would use."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

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
            title, body = read_article(path)
        except OSError as exc:
            print(f"digest: error: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
            status = 1
            continue
        chosen = summarize(body, sentences=args.sentences, title=title)
        if args.json:
            print(json.dumps({"path": str(path), "title": title, "sentences": list(chosen)},
                             ensure_ascii=False))
            continue
        if len(args.paths) > 1:
            if number:
                print()
            print(f"{path}: {title}")
        for sentence in chosen:
            print(sentence)
    return status


def read_article(path: Path) -> tuple[str, str]:
    """(headline, body) of an article file: the first non-empty line, then the rest."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    lines = text.splitlines(keepends=True)
    for index, line in enumerate(lines):
        if line.strip():
            return line.strip(), "".join(lines[index + 1:])
    return "", ""


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number
