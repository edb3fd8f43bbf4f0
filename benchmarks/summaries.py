"""Summary quality on the BBC set against its human extractive references.

    .venv/bin/python benchmarks/summaries.py [--limit N] [--splitter]

Prints ROUGE-1/2/L F1 (rouge_score, Porter stemming) and sentence precision (the share of
chosen sentences the reference also chose) for our 3-sentence summaries, lead-3 and a
seeded random-3, plus milliseconds per article for ours. ``--splitter`` also compares our
sentence splitter with pysbd (speed and agreement), when pysbd is installed.

The reference files join their sentences without a space ("…$10.9bn.For the full-year…"),
so they are split where the article itself has a space after that full stop.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from multiprocessing import Pool
from pathlib import Path

from rouge_score import rouge_scorer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from digest.sentences import split_sentences
from digest.summarize import summarize

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
ARTICLES = CORPUS / "articles" / "bbc"
SUMMARIES = CORPUS / "summaries" / "bbc"
COUNT = 3
SEED = 20240501
_JOINED = re.compile(r"[.!?][\"'\u201d\u2019]?(?=[\"'\u201c\u2018]?[A-Z0-9])")

Article = tuple[str, str, str, str]  # name, title, body, reference
System = Callable[[str, str, str], Sequence[str]]  # (name, title, body) -> sentences


def read_text(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252")  # sport/199.txt has one Latin-1 pound sign


def load(limit: int | None = None) -> list[Article]:
    """(name, title, body, reference) for every article, in a stable order."""
    paths = sorted(ARTICLES.glob("*/*.txt"))
    if limit:
        paths = random.Random(SEED).sample(paths, limit) if limit < len(paths) else paths
    articles = []
    for path in paths:
        name = f"{path.parent.name}/{path.name}"
        title, _, body = read_text(path).partition("\n")
        articles.append((name, title.strip(), body, read_text(SUMMARIES / name)))
    return articles


def split_reference(reference: str, article: str) -> list[str]:
    """The reference's sentences: cut where a full stop is directly followed by the next
    sentence, but only where the article has whitespace at that point ("$10.9bn" and
    "U.S" stay whole)."""
    flat = " ".join(article.split())
    pieces, start = [], 0
    for found in _JOINED.finditer(reference):
        cut = found.end()
        left, right = reference[max(start, cut - 40):cut], reference[cut:cut + 40]
        if f"{left} {right}" in flat or (left in flat and f" {right}" in flat
                                         and f"{left}{right}" not in flat):
            pieces.append(reference[start:cut].strip())
            start = cut
    pieces.append(reference[start:].strip())
    return [p for p in pieces if p]


def ours(name: str, title: str, body: str) -> Sequence[str]:
    return summarize(body, sentences=COUNT, title=title)


def lead(name: str, title: str, body: str) -> Sequence[str]:
    return [s.text for s in split_sentences(body) if not s.boilerplate][:COUNT]


def rand(name: str, title: str, body: str) -> Sequence[str]:
    candidates = [s.text for s in split_sentences(body) if not s.boilerplate]
    rng = random.Random(f"{SEED}:{name}")
    picked = sorted(rng.sample(range(len(candidates)), min(COUNT, len(candidates))))
    return [candidates[i] for i in picked]


SYSTEMS: dict[str, System] = {"ours": ours, "lead-3": lead, "random-3": rand}


def evaluate(article: Article) -> dict[str, tuple[float, float, float, float]]:
    """Per system: ROUGE-1, ROUGE-2, ROUGE-L F1 and sentence precision for one article."""
    name, title, body, reference = article
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    ref_sentences = split_reference(reference, body)
    ref_text = " ".join(ref_sentences)
    chosen_set = {" ".join(s.split()) for s in ref_sentences}
    result = {}
    for system, run in SYSTEMS.items():
        chosen = [" ".join(s.split()) for s in run(name, title, body)]
        scores = scorer.score(ref_text, " ".join(chosen))
        hits = sum(s in chosen_set or s in ref_text for s in chosen)
        result[system] = (scores["rouge1"].fmeasure, scores["rouge2"].fmeasure,
                          scores["rougeL"].fmeasure, hits / len(chosen) if chosen else 0.0)
    return result


def time_ours(articles: Sequence[Article]) -> float:
    """Milliseconds per article for summarize() alone, in this process."""
    started = time.perf_counter()
    for name, title, body, _ in articles:
        ours(name, title, body)
    return (time.perf_counter() - started) * 1000 / len(articles)


def compare_splitters(articles: Sequence[Article]) -> None:
    try:
        import pysbd
    except ImportError:
        print("\n(pysbd not installed: splitter comparison skipped)")
        return
    segmenter = pysbd.Segmenter(language="en", clean=False)
    ours_ms = theirs_ms = 0.0
    same_articles = same_sentences = total = 0
    for _, _, body, _ in articles:
        started = time.perf_counter()
        mine = [" ".join(s.text.split()) for s in split_sentences(body)]
        ours_ms += time.perf_counter() - started
        started = time.perf_counter()
        theirs = [" ".join(s.split()) for line in body.split("\n") if line.strip()
                  for s in segmenter.segment(line) if s.strip()]
        theirs_ms += time.perf_counter() - started
        same_articles += mine == theirs
        same_sentences += len(set(mine) & set(theirs))
        total += len(set(theirs))
    n = len(articles)
    print(f"\nSentence splitting, {n} articles (pysbd per line, clean=False)\n")
    print("| splitter | ms/article | articles split identically | pysbd sentences also ours |")
    print("|---|---:|---:|---:|")
    print(f"| digest.sentences | {ours_ms * 1000 / n:.2f} | {same_articles}/{n} "
          f"| {same_sentences / total:.2%} |")
    print(f"| pysbd 0.3.4 | {theirs_ms * 1000 / n:.2f} | — | — |")
    print(f"\npysbd took {theirs_ms / ours_ms:.0f}× as long as digest.sentences")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="a seeded sample of N articles")
    parser.add_argument("--splitter", action="store_true", help="also compare with pysbd")
    args = parser.parse_args()
    articles = load(args.limit)
    started = time.perf_counter()
    with Pool(2) as pool:
        results = pool.map(evaluate, articles, chunksize=25)
    elapsed = time.perf_counter() - started
    ms = time_ours(articles[:500])
    print(f"Summaries of {len(articles)} BBC articles, {COUNT} sentences each "
          f"(F1, rouge_score with stemming; sentence precision against the reference)\n")
    print("| system | ROUGE-1 | ROUGE-2 | ROUGE-L | sentence precision | ms/article |")
    print("|---|---:|---:|---:|---:|---:|")
    for system in SYSTEMS:
        columns = zip(*(r[system] for r in results), strict=True)
        means = [statistics.fmean(column) for column in columns]
        timing = f"{ms:.1f}" if system == "ours" else "—"
        print(f"| {system} | " + " | ".join(f"{m:.4f}" for m in means) + f" | {timing} |")
    print(f"\n(evaluated in {elapsed:.0f} s on 2 processes; ms/article: summarize() alone, "
          f"one process, first {min(500, len(articles))} articles)")
    if args.splitter:
        compare_splitters(articles)


if __name__ == "__main__":
    main()
