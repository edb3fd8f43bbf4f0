"""Near-duplicate grouping on the BBC set, and how its cost grows.

    .venv/bin/python benchmarks/dedupe.py [--max 20000]

Prints: identical pairs of ``meta/bbc-articles-duplicates.tsv`` found (of 98), edited
groups that share a headline merged (of 31), false merges among 10,000 seeded random pairs
of different stories (pairs listed in the tsv excluded), groups beyond the tsv, and time
per 1,000 articles from the BBC set up to ~20,000 synthetic articles (BBC texts with small
seeded random edits: words dropped, replaced or inserted), with how many edited copies
landed in their original's group.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from digest.cluster import cluster_texts

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
ARTICLES = CORPUS / "articles" / "bbc"
DUPLICATES = CORPUS / "meta" / "bbc-articles-duplicates.tsv"
SEED = 20240501
RANDOM_PAIRS = 10_000


def load() -> tuple[list[str], list[tuple[str, str]]]:
    names, items = [], []
    for path in sorted(ARTICLES.glob("*/*.txt")):
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("cp1252")
        title, _, body = text.partition("\n")
        names.append(f"{path.parent.name}/{path.name}")
        items.append((title.strip(), body))
    return names, items


def listed() -> dict[str, list[tuple[str, ...]]]:
    kinds: dict[str, list[tuple[str, ...]]] = {}
    for line in DUPLICATES.read_text().splitlines()[1:]:
        kind, files = line.split("\t")
        kinds.setdefault(kind, []).append(tuple(files.split()))
    return kinds


def group_of(groups: Sequence[Sequence[int]], size: int) -> list[int]:
    owner = [0] * size
    for number, group in enumerate(groups):
        for index in group:
            owner[index] = number
    return owner


def edit(text: str, rng: random.Random, vocabulary: Sequence[str], edits: int) -> str:
    """A copy of ``text`` with ``edits`` words dropped, replaced or inserted."""
    words = text.split()
    for _ in range(edits):
        if len(words) < 2:
            break
        k = rng.randrange(len(words))
        action = rng.choice(("drop", "replace", "insert"))
        if action == "drop":
            del words[k]
        elif action == "replace":
            words[k] = rng.choice(vocabulary)
        else:
            words.insert(k, rng.choice(vocabulary))
    return " ".join(words)


def synthetic(items: Sequence[tuple[str, str]], total: int,
              rng: random.Random) -> tuple[list[tuple[str, str]], list[int]]:
    """``total`` articles: the BBC set, then edited copies (each with its original's index)."""
    vocabulary = [w for _, body in items[:200] for w in body.split()]
    result, origin = list(items), list(range(len(items)))
    while len(result) < total:
        k = rng.randrange(len(items))
        title, body = items[k]
        result.append((title, edit(body, rng, vocabulary, rng.randint(1, 8))))
        origin.append(k)
    return result[:total], origin[:total]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--max", type=int, default=20_000, help="largest synthetic set")
    args = parser.parse_args()
    names, items = load()
    index = {name: i for i, name in enumerate(names)}
    kinds = listed()
    started = time.perf_counter()
    groups = cluster_texts(items)
    elapsed = time.perf_counter() - started
    owner = group_of(groups, len(items))

    def together(files: Sequence[str]) -> bool:
        return len({owner[index[f]] for f in files}) == 1

    identical = kinds["exact_duplicate"]
    edited = kinds["same_title_different_text"]
    known = {frozenset((a, b)) for files in identical + edited
             for a in files for b in files if a != b}
    rng = random.Random(SEED)
    false_merges = checked = 0
    while checked < RANDOM_PAIRS:
        a, b = rng.sample(range(len(items)), 2)
        if frozenset((names[a], names[b])) in known:
            continue
        checked += 1
        false_merges += owner[a] == owner[b]
    listed_groups = {frozenset(index[f] for f in files) for files in identical + edited}
    extra = [g for g in groups if len(g) > 1 and frozenset(g) not in listed_groups]

    print(f"Near-duplicates in the BBC set ({len(items)} articles)\n")
    print("| check | result |")
    print("|---|---:|")
    print(f"| identical pairs grouped | {sum(map(together, identical))}/{len(identical)} |")
    merged = sum(map(together, edited))
    print(f"| edited groups (shared headline) merged | {merged}/{len(edited)} |")
    print(f"| false merges among {RANDOM_PAIRS:,} random pairs of different stories "
          f"| {false_merges} |")
    print(f"| groups not listed in the tsv | {len(extra)} |")
    print(f"| time for the set | {elapsed * 1000:.0f} ms ({elapsed * 1e6 / len(items):.0f} ms "
          f"per 1,000) |")
    for group in extra[:10]:
        print("    not in tsv:", ", ".join(f"{names[i]} {items[i][0]!r}" for i in group))

    print("\nScaling: the BBC set plus edited copies (1–8 words dropped/replaced/inserted)\n")
    print("| articles | seconds | ms per 1,000 | edited copies in their original's group |")
    print("|---:|---:|---:|---:|")
    for total in sorted({min(n, args.max) for n in (2_225, 5_000, 10_000, 20_000, args.max)}):
        data, origin = synthetic(items, total, random.Random(f"{SEED}:{total}"))
        started = time.perf_counter()
        groups = cluster_texts(data)
        seconds = time.perf_counter() - started
        owner = group_of(groups, len(data))
        copies = range(len(items), len(data))
        found = sum(owner[i] == owner[origin[i]] for i in copies)
        share = f"{found}/{len(copies)}" if len(copies) else "—"
        print(f"| {total:,} | {seconds:.1f} | {seconds * 1e6 / total:.0f} | {share} |")


if __name__ == "__main__":
    main()
