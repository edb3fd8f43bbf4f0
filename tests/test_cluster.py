"""Near-duplicate stories become one group; different stories never do."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from digest.cluster import SketchCache, cluster_matches, cluster_texts
from digest.models import Article, Match, content_hash

from .conftest import CORPUS

BBC = CORPUS / "articles" / "bbc"
DUPLICATES = CORPUS / "meta" / "bbc-articles-duplicates.tsv"
needs_corpus = pytest.mark.skipif(not BBC.is_dir(), reason="BBC corpus not available")


def read(path: Path) -> tuple[str, str]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")
    title, _, body = text.partition("\n")
    return title.strip(), body


def listed(kind: str) -> list[tuple[str, ...]]:
    rows = (line.split("\t") for line in DUPLICATES.read_text().splitlines()[1:])
    return [tuple(files.split()) for k, files in rows if k == kind]


def grouped(files: list[str]) -> list[set[str]]:
    groups = cluster_texts([read(BBC / name) for name in files])
    return [{files[i] for i in group} for group in groups]


@needs_corpus
@pytest.mark.parametrize("kind", ["exact_duplicate", "same_title_different_text"])
def test_listed_duplicates_are_grouped_among_other_stories(kind: str) -> None:
    pairs = listed(kind)[:12]
    paired = {name for pair in pairs for name in pair}
    rng = random.Random(7)
    others = [f"{p.parent.name}/{p.name}" for p in sorted(BBC.glob("*/*.txt"))]
    others = [name for name in rng.sample(others, 60) if name not in paired][:40]
    files = [name for pair in pairs for name in pair] + others
    rng.shuffle(files)
    groups = grouped(files)
    for pair in pairs:
        assert set(pair) in groups
    assert sum(len(group) for group in groups) == len(files)  # every article exactly once


@needs_corpus
def test_different_stories_stay_apart() -> None:
    duplicated = {name for kind in ("exact_duplicate", "same_title_different_text")
                  for pair in listed(kind) for name in pair}
    files = [f"{p.parent.name}/{p.name}" for p in sorted(BBC.glob("politics/*.txt"))]
    files = [name for name in files if name not in duplicated][:150]
    assert all(len(group) == 1 for group in grouped(files))


def story(words: int = 120, seed: int = 1) -> str:
    rng = random.Random(seed)
    vocabulary = ["minister", "council", "market", "talks", "price", "energy", "border",
                  "court", "vote", "rail", "union", "strike", "bank", "rate", "growth"]
    return " ".join(" ".join(rng.choice(vocabulary) for _ in range(12)) + "."
                    for _ in range(words // 12))


def test_edited_copies_are_grouped() -> None:
    body = story()
    words = body.split()
    edited = " ".join([*words[:30], "reportedly", *words[30:80], *words[82:]])
    longer = body + " " + story(seed=9)
    items = [("Storm hits coast", body), ("Court rules on rail", story(seed=2)),
             ("Storm hits coast", edited), ("Storm hits the coast", longer)]
    assert cluster_texts(items) == [[0, 2, 3], [1]]


def test_empty_and_odd_inputs() -> None:
    assert cluster_texts([]) == []
    items = [("", ""), ("Only a title", ""), ("Same words", "Short text."),
             ("Same words", "Short text.")]
    groups = cluster_texts(items)
    assert sorted(i for group in groups for i in group) == [0, 1, 2, 3]
    assert [2, 3] in groups
    assert [0] in groups and [1] in groups  # empty bodies are never "the same"


def make_match(source: str, title: str, body: str, score: float = 1.0,
               watchlist: str = "Korea") -> Match:
    article = Article(source=source, id=content_hash(title, body), title=title, body=body,
                      url=f"https://{source}.example/{content_hash(title, body)[:8]}")
    return Match(article=article, watchlist=watchlist, hits=(), score=score)


def test_cluster_matches_groups_sources_and_counts_an_article_once() -> None:
    body = story(seed=3)
    first = make_match("bbc", "Kim visits Russia", body)
    again = make_match("bbc", "Kim visits Russia", body, watchlist="Russia")  # same article
    other_feed = make_match("reuters", "Kim visits Russia", body.replace("talks", "meetings", 1))
    unrelated = make_match("ap", "Rail strike called off", story(seed=4))
    groups = cluster_matches([first, unrelated, again, other_feed])
    assert groups == [[first, other_feed], [unrelated]]
    assert cluster_matches([]) == []


def test_a_sketch_cache_sketches_each_article_once_and_keeps_the_latest() -> None:
    body = story(seed=3)
    first = make_match("bbc", "Kim visits Russia", body)
    other_feed = make_match("reuters", "Kim visits Russia", body.replace("talks", "meetings", 1))
    unrelated = make_match("ap", "Rail strike called off", story(seed=4))
    matches = [first, unrelated, other_feed]
    cache = SketchCache()
    assert cluster_matches(matches, cache=cache) == cluster_matches(matches)
    assert len(cache) == 3
    assert cluster_matches(matches, cache=cache) == [[first, other_feed], [unrelated]]
    assert len(cache) == 3  # nothing sketched twice

    # the cache is trusted by article id: a sketch made earlier is what clustering uses
    primed = SketchCache()
    primed.sketch(first.article.id, story(seed=4))
    assert cluster_matches(matches, cache=primed) == [[first, unrelated], [other_feed]]

    small = SketchCache(limit=2)
    cluster_matches(matches, cache=small)
    assert len(small) == 2
