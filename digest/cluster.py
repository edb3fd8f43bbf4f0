"""Near-duplicate stories: the same article from several feeds, or copies with small edits.

Each text becomes a set of word 3-shingles, sketched by one-permutation MinHash (one
64-bit hash per shingle, the minimum kept per bin, empty bins filled by rotation), so a
sketch costs one pass over the text. LSH banding over the sketch proposes candidate pairs;
a candidate is merged when its estimated Jaccard similarity is high, or fairly high with a
similar headline. Identical headlines also propose candidates (an edited copy may share
few shingle bands). Union-find turns pairs into groups. Cost grows linearly with the number
of texts; nothing compares all pairs.

Sketching is most of the cost, so a ``SketchCache`` lets the poll sketch each matched
article once, as it is recorded, instead of the digest sketching them all at the end.
"""

from __future__ import annotations

import re
from array import array
from collections import OrderedDict, defaultdict
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
# ASCII text splits into the same words as _WORD finds, several times faster: every ASCII
# character that \w does not match becomes a space
_ASCII_NON_WORD = str.maketrans({code: " " for code in range(128)
                                 if not (chr(code).isalnum() or chr(code) == "_")})


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

    values: array[int]  # BINS unsigned 64-bit values: 1 KB, where a tuple takes 5
    size: int


class SketchCache:
    """Sketches of article texts by article id, the most recent ``limit`` kept.

    An id always names the same text, so a sketch made while the article was recorded
    serves every digest built later in this process (a sketch uses the process's salted
    ``hash``, so it is never stored)."""

    def __init__(self, limit: int = 20_000) -> None:
        self.limit = limit
        self._sketches: OrderedDict[str, Sketch | None] = OrderedDict()

    def sketch(self, key: str, text: str) -> Sketch | None:
        """The sketch of ``text``, the article ``key``'s text, made once."""
        if key in self._sketches:
            return self._sketches[key]
        made = self._sketches[key] = sketch(text)
        if len(self._sketches) > self.limit:
            self._sketches.popitem(last=False)
        return made

    def __len__(self) -> int:
        return len(self._sketches)


def sketch_text(match: Match) -> str:
    """The text of a match's article that clustering compares."""
    return match.article.body or match.article.description or ""


def cluster_matches(matches: Sequence[Match], *, thresholds: Thresholds = Thresholds(),
                    cache: SketchCache | None = None) -> list[list[Match]]:
    """Group matches whose articles are the same story; every article appears once.

    Groups keep input order (within and between groups). When an article (same id) occurs
    more than once, its first match stands for it. ``cache`` supplies (and keeps) sketches.
    """
    unique: dict[str, Match] = {}
    for match in matches:
        unique.setdefault(match.article.id, match)
    members = list(unique.values())
    items = [(m.article.title, sketch_text(m)) for m in members]
    sketches = None
    if cache is not None:
        sketches = [cache.sketch(m.article.id, text) for m, (_, text) in
                    zip(members, items, strict=True)]
    groups = cluster_texts(items, thresholds=thresholds, sketches=sketches)
    return [[members[i] for i in group] for group in groups]


def cluster_texts(items: Sequence[tuple[str, str]], *, thresholds: Thresholds = Thresholds(),
                  sketches: Sequence[Sketch | None] | None = None) -> list[list[int]]:
    """Group (title, body) pairs by near-duplicate text: lists of indices, in input order.
    ``sketches``, when given, are the bodies' sketches, in the same order."""
    if sketches is None:
        sketches = [sketch(body) for _, body in items]
    titles = [frozenset(_words(title)) for title, _ in items]
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

    buckets: dict[tuple[int, bytes], list[int]] = defaultdict(list)
    for i, signature in enumerate(sketches):
        if signature is None:
            continue
        raw = signature.values.tobytes()
        for band in range(0, BINS, ROWS):
            bucket = buckets[band, raw[8 * band:8 * (band + ROWS)]]
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
    words = _words(text[:SKETCH_CHARS])
    if not words:
        return None
    # Python's own hash is salted per process, which is fine: sketches never leave the
    # process that made them (SketchCache), and it is several times faster than a digest.
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


def _words(text: str) -> list[str]:
    if text.isascii():
        return text.lower().translate(_ASCII_NON_WORD).split()
    return _WORD.findall(text.casefold())


def similarity(a: Sketch, b: Sketch) -> float:
    """Estimated Jaccard similarity of the two texts' shingle sets."""
    return sum(x == y for x, y in zip(a.values, b.values, strict=True)) / BINS


def containment(a: Sketch, b: Sketch, jaccard: float | None = None) -> float:
    """Estimated share of the smaller text's shingles that the other text also has
    (``jaccard``: their ``similarity``, when already known)."""
    if jaccard is None:
        jaccard = similarity(a, b)
    common = jaccard * (a.size + b.size) / (1.0 + jaccard)
    return min(1.0, common / min(a.size, b.size))


def _densify(bins: list[int]) -> array[int]:
    """Fill empty bins from the next non-empty one to the right (rotation densification);
    ``sketch`` calls it with at least one bin filled."""
    filled = list(bins)
    # one walk leftwards around the ring, from a filled bin, carrying the nearest filled
    # value to the right and how far away it is
    last = next(slot for slot in reversed(range(BINS)) if bins[slot] != _EMPTY)
    value, distance = bins[last], 0
    for step in range(1, BINS):
        slot = (last - step) % BINS
        distance += 1
        if bins[slot] != _EMPTY:
            value, distance = bins[slot], 0
        else:
            filled[slot] = (value + distance * 0x9E3779B97F4A7C15) & _MASK
    return array("Q", filled)


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
            or containment(a, b, body) >= thresholds.contained_with_title)
