"""Matching cost against the number of watchlist terms, over the BBC corpus.

Run: .venv/bin/python benchmarks/match.py [--articles N]

Terms are like real watchlists: about 2 % are names and phrases from the corpus headlines
(so they hit), the rest are near misses built from pieces of corpus words (they share
prefixes and syllables with the text but rarely occur), spread over watchlists of 10 terms
each. The naive baseline compiles one
case-insensitive whole-word regex per term and runs each over every article; at 10,000
terms it is sampled on fewer articles to keep the run short.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from digest.config import Watchlist  # noqa: E402
from digest.matcher import Matcher  # noqa: E402
from digest.models import Article  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpus" / "articles" / "bbc"
SIZES = (10, 100, 1_000, 10_000)
NAIVE_ARTICLES = {10: 400, 100: 200, 1_000: 40, 10_000: 10}


def load_articles() -> list[Article]:
    articles = []
    for path in sorted(CORPUS.glob("*/*.txt")):
        text = path.read_text(encoding="utf-8", errors="replace").strip()
        title, _, body = text.partition("\n")
        articles.append(Article("bbc", path.stem, title.strip(), body))
    return articles


def make_terms(articles: list[Article], count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    vocabulary = {w.lower() for a in articles for w in re.findall(r"[A-Za-z]+", a.body)}
    words = sorted(w for w in vocabulary if len(w) >= 4)
    found = {m for a in articles for m in re.findall(r"[A-Z][a-z]+(?: [A-Z][a-z]+)?", a.title)}
    names = sorted(n for n in found if " " in n or n.lower() not in vocabulary)
    real = rng.sample(names, max(count // 50, 1))
    terms: set[str] = set(real)
    while len(terms) < count:
        a, b = rng.sample(words, 2)
        made = a[: rng.randint(2, len(a) - 1)] + b[rng.randint(1, len(b) - 2):]
        if len(made) >= 5 and made not in vocabulary:
            terms.add(made if rng.random() < 0.7 else f"{made} {rng.choice(words)}")
    return sorted(terms)


def watchlists(terms: list[str]) -> list[Watchlist]:
    return [Watchlist(name=f"w{i}", terms=tuple(terms[i:i + 10]))
            for i in range(0, len(terms), 10)]


def per_article(run, articles: list[Article]) -> float:  # type: ignore[no-untyped-def]
    start = time.process_time()  # CPU time: other load on the machine does not count
    for item in articles:
        run(item)
    return (time.process_time() - start) / len(articles)


def naive(terms: list[str]):  # type: ignore[no-untyped-def]
    patterns = [re.compile(r"(?<!\w)" + r"\s+".join(map(re.escape, t.split())) + r"(?!\w)",
                           re.IGNORECASE) for t in terms]

    def run(item: Article) -> int:
        return sum(1 for p in patterns if p.search(item.title) or p.search(item.body))
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=0, help="limit (default: all)")
    args = parser.parse_args()
    articles = load_articles()
    if args.articles:
        articles = articles[: args.articles]
    size = sum(len(a.title) + len(a.body) for a in articles) / len(articles)
    print(f"{len(articles)} BBC articles, {size / 1000:.1f} kB on average\n")
    print(f"{'terms':>7} {'build ms':>9} {'articles/s':>11} {'ms/article':>11} "
          f"{'matches':>8} {'naive ms/article':>17} {'speed-up':>9}")
    base = None
    for count in SIZES:
        terms = make_terms(articles, count)
        start = time.perf_counter()
        matcher = Matcher(watchlists(terms))
        build = time.perf_counter() - start
        matched = sum(1 for a in articles if matcher.match(a))
        cost = min(per_article(matcher.match, articles) for _ in range(3))  # least disturbed
        base = base or cost
        naive_cost = per_article(naive(terms), articles[: NAIVE_ARTICLES[count]])
        print(f"{count:>7,} {build * 1000:>9.0f} {1 / cost:>11,.0f} {cost * 1000:>11.3f} "
              f"{matched:>8} {naive_cost * 1000:>17.2f} {naive_cost / cost:>8,.0f}×")
    print(f"\n10,000-term cost / 10-term cost: {cost / base:.2f}× (target ≤ 3×)")


if __name__ == "__main__":
    main()
