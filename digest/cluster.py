"""Near-duplicate stories: the same article from several feeds, or copies with small edits.

Each text becomes a set of word 3-shingles, sketched by one-permutation MinHash (one
64-bit hash per shingle, the minimum kept per bin, empty bins filled by rotation), so a
sketch costs one pass over the text. LSH banding over the sketch proposes candidate pairs;
a candidate is merged when its estimated Jaccard similarity is high, or fairly high with a
similar headline. Identical headlines also propose candidates (an edited copy may share
few shingle bands). Union-find turns pairs into groups. Cost grows linearly with the number
of texts; nothing compares all pairs.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from digest.models import Match

SHINGLE = 3  # words per shingle
BINS = 128  # MinHash sketch length
ROWS = 4  # sketch values per LSH band: bands of 4 find pairs from Jaccard ~0.4 up
BUCKET_LIMIT = 32  # members of one LSH bucket a newcomer is compared with
SKETCH_CHARS = 4000  # a story's opening tells whether two are the same; bounds the cost
_EMPTY = 1 << 64
_MASK = _EMPTY - 1
_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When a candidate pair is the same story."""

    body: float = 0.6  # estimated Jaccard of the shingle sets alone
    body_with_title: float = 0.3  # ... when the headlines are similar
    contained_with_title: float = 0.5  # share of the shorter text inside the longer one
    title: float = 0.6  # Jaccard of headline words counted as "similar"


@dataclass(frozen=True, slots=True)
class Sketch:
    """A text's MinHash values and its number of distinct shingles."""

    values: tuple[int, ...]
    size: int


def cluster_matches(matches: Sequence[Match], *,
                    thresholds: Thresholds = Thresholds()) -> list[list[Match]]:
    """Group matches whose articles are the same story; every article appears once.

    Groups keep input order (within and between groups). When an article (same id) occurs
    more than once, its first match stands for it.
    """
    unique: dict[str, Match] = {}
    for match in matches:
        unique.setdefault(match.article.id, match)
    members = list(unique.values())
    groups = cluster_texts([(m.article.title, m.article.body or m.article.description or "")
                            for m in members], thresholds=thresholds)
    return [[members[i] for i in group] for group in groups]


def cluster_texts(items: Sequence[tuple[str, str]], *,
                  thresholds: Thresholds = Thresholds()) -> list[list[int]]:
    """Group (title, body) pairs by near-duplicate text: lists of indices, in input order."""
    sketches = [sketch(body) for _, body in items]
    titles = [frozenset(_WORD.findall(title.casefold())) for title, _ in items]
    parent = list(range(len(items)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def consider(i: int, j: int) -> None:
        root_i, root_j = find(i), find(j)
        if root_i != root_j and _same_story(sketches[i], sketches[j], titles[i], titles[j],
                                            thresholds):
            parent[max(root_i, root_j)] = min(root_i, root_j)

    buckets: dict[tuple[int, ...], list[int]] = defaultdict(list)
    for i, signature in enumerate(sketches):
        if signature is None:
            continue
        for band in range(0, BINS, ROWS):
            key = (band, *signature.values[band:band + ROWS])
            bucket = buckets[key]
            for j in bucket[:BUCKET_LIMIT]:
                consider(i, j)
            bucket.append(i)
    by_title: dict[frozenset[str], list[int]] = defaultdict(list)
    for i, words in enumerate(titles):
        if len(words) >= 3:
            bucket = by_title[words]
            for j in bucket[:BUCKET_LIMIT]:
                consider(i, j)
            bucket.append(i)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(items)):
        groups[find(i)].append(i)
    return sorted(groups.values(), key=lambda group: group[0])


def sketch(text: str) -> Sketch | None:
    """The MinHash sketch of ``text``'s word shingles (None for texts with no words)."""
    words = _WORD.findall(text[:SKETCH_CHARS].casefold())
    if not words:
        return None
    # Python's own hash is salted per process, which is fine: sketches never outlive the
    # clustering call that made them, and it is several times faster than a digest.
    if len(words) >= SHINGLE:
        grams = zip(*(words[k:] for k in range(SHINGLE)), strict=False)
        shingles = {hash(gram) & _MASK for gram in grams}
    else:
        shingles = {hash(tuple(words)) & _MASK}
    bins = [_EMPTY] * BINS
    for value in shingles:
        slot = value % BINS
        if value < bins[slot]:
            bins[slot] = value
    return Sketch(_densify(bins), len(shingles))


def similarity(a: Sketch, b: Sketch) -> float:
    """Estimated Jaccard similarity of the two texts' shingle sets."""
    return sum(x == y for x, y in zip(a.values, b.values, strict=True)) / BINS


def containment(a: Sketch, b: Sketch) -> float:
    """Estimated share of the smaller text's shingles that the other text also has."""
    jaccard = similarity(a, b)
    common = jaccard * (a.size + b.size) / (1.0 + jaccard)
    return min(1.0, common / min(a.size, b.size))


def _densify(bins: list[int]) -> tuple[int, ...]:
    """Fill empty bins from the next non-empty one to the right (rotation densification)."""
    if all(value == _EMPTY for value in bins):
        return tuple(bins)
    filled = list(bins)
    for slot in range(BINS):
        distance = 0
        while bins[(slot + distance) % BINS] == _EMPTY:
            distance += 1
        if distance:
            filled[slot] = bins[(slot + distance) % BINS] + distance * 0x9E3779B97F4A7C15
    return tuple(filled)


def _same_story(a: Sketch | None, b: Sketch | None,
                title_a: frozenset[str], title_b: frozenset[str],
                thresholds: Thresholds) -> bool:
    if a is None or b is None:
        return False
    body = similarity(a, b)
    if body >= thresholds.body:
        return True
    union = title_a | title_b
    title = len(title_a & title_b) / len(union) if union else 0.0
    if title < thresholds.title:
        return False
    return (body >= thresholds.body_with_title
            or containment(a, b) >= thresholds.contained_with_title)
