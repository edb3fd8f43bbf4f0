"""Extractive summaries: the sentences a reader needs, in article order.

A LexRank-style scorer in plain Python: TF-IDF vectors per sentence, a cosine-similarity
graph, PageRank by power iteration. Centrality is then weighted for news: a bonus for the
lead, for words of the headline and for the matched terms, and a penalty for sentences too
short or too long to stand alone. Boilerplate (see :mod:`digest.sentences`) is never picked.
Measured against human references on the BBC set by ``benchmarks/summaries.py``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

from digest.sentences import Sentence, split_sentences

MAX_CHARS = 20_000  # longer texts are cut (at a line end) before splitting
MAX_SENTENCES = 120  # and only this many candidate sentences enter the O(n²) graph
DESCRIPTION_CHARS = 300


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_PLURAL = r"(?:s|es|'s|\u2019s|s'|s\u2019)?"
_WORD = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)?")
_STOP = _set("""
a about above after again against all also am an and any are as at be because been before
being below between both but by can could did do does doing down during each few for from
further had has have having he her here hers herself him himself his how i if in into is it
its itself just me more most my myself no nor not now of off on once only or other our ours
ourselves out over own same she should so some such than that the their theirs them
themselves then there these they this those through to too under until up very was we were
what when where which while who whom why will with would you your yours yourself yourselves
said says say mr mrs ms s t one two new year years told
""")


def summarize(text: str, *, sentences: int = 3, terms: Sequence[str] = (),
              description: str | None = None, title: str | None = None,
              max_chars: int = MAX_CHARS) -> tuple[str, ...]:
    """Pick ``sentences`` sentences of ``text`` (each exactly as it appears there).

    ``terms`` are the matched words (sentences holding them get a bonus); ``description``
    (the feed's own summary) is the fallback for texts too short to summarize; ``title``
    (the headline) lends its words as a query. Sentences come back in article order; a
    hard-wrapped line break inside a sentence comes back as a space.
    """
    if sentences <= 0:
        return ()
    candidates = [s for s in split_sentences(_cap(text, max_chars))
                  if not s.boilerplate][:MAX_SENTENCES]
    if len(candidates) < max(sentences + 1, 3):
        return _fallback(candidates, sentences, description)
    scores = score_sentences(candidates, terms=terms, title=title)
    best = sorted(range(len(candidates)), key=lambda i: (-scores[i], i))[:sentences]
    return tuple(candidates[i].text for i in sorted(best))


def score_sentences(candidates: Sequence[Sentence], *, terms: Sequence[str] = (),
                    title: str | None = None) -> list[float]:
    """One score per sentence: weighted LexRank centrality (higher is better)."""
    bags = [_words(s.text) for s in candidates]
    centrality = lexrank(bags)
    n = len(candidates)
    top = max(centrality) or 1.0
    title_words = set(_words(title)) if title else set()
    term_patterns = _term_patterns(terms)
    scores = []
    for i, (sentence, bag) in enumerate(zip(candidates, bags, strict=True)):
        score = centrality[i] / top
        score *= 1.0 + 0.3 * (1.0 - i / n) + (0.3 if i == 0 else 0.0)
        if title_words and bag:
            score *= 1.0 + 0.5 * len(title_words.intersection(bag)) / len(title_words)
        if any(p.search(sentence.text) for p in term_patterns):
            score = score * 1.5 + 0.5  # the reader asked about these words: show them
        score *= _length_factor(len(bag))
        if sentence.text.rstrip("\"'\u201d\u2019) ").endswith("?"):
            score *= 0.6
        scores.append(score)
    return scores


def lexrank(bags: Sequence[Sequence[str]], *, threshold: float = 0.1, damping: float = 0.85,
            iterations: int = 50, tolerance: float = 1e-6) -> list[float]:
    """PageRank over the TF-IDF cosine graph of the sentences (word lists)."""
    n = len(bags)
    if n == 0:
        return []
    document_frequency: Counter[str] = Counter()
    for bag in bags:
        document_frequency.update(set(bag))
    idf = {word: math.log(n / df) + 1.0 for word, df in document_frequency.items()}
    vectors = []
    for bag in bags:
        weights = {word: count * idf[word] for word, count in Counter(bag).items()}
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        vectors.append({word: w / norm for word, w in weights.items()})
    neighbours: list[list[int]] = [[] for _ in range(n)]
    for i in range(n):
        vi = vectors[i]
        for j in range(i + 1, n):
            vj = vectors[j]
            small, large = (vi, vj) if len(vi) <= len(vj) else (vj, vi)
            similarity = sum(w * large[word] for word, w in small.items() if word in large)
            if similarity > threshold:
                neighbours[i].append(j)
                neighbours[j].append(i)
    rank = [1.0 / n] * n
    for _ in range(iterations):
        spread = [rank[j] / len(neighbours[j]) if neighbours[j] else 0.0 for j in range(n)]
        dangling = sum(rank[j] for j in range(n) if not neighbours[j]) / n
        new = [(1.0 - damping) / n + damping * (dangling + sum(spread[j] for j in neighbours[i]))
               for i in range(n)]
        delta = sum(abs(a - b) for a, b in zip(new, rank, strict=True))
        rank = new
        if delta < tolerance:
            break
    return rank


def trim(text: str, limit: int = DESCRIPTION_CHARS) -> str:
    """``text`` on one line, cut at a word boundary to about ``limit`` characters."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit].rsplit(" ", 1)[0] if " " in flat[:limit] else flat[:limit]
    return cut.rstrip(" ,;:-\u2013\u2014") + "\u2026"


def _fallback(candidates: Sequence[Sentence], count: int,
              description: str | None) -> tuple[str, ...]:
    """Short texts: their first sentences, or the feed's description when they have none."""
    if candidates:
        return tuple(s.text for s in candidates[:count])
    if description and description.strip():
        return (trim(description),)
    return ()


def _cap(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", 0, limit)
    return text[:cut] if cut > limit // 2 else text[:limit]


def _words(text: str) -> list[str]:
    words = (w.casefold().replace("\u2019", "'") for w in _WORD.findall(text))
    return [w[:-2] if w.endswith("'s") else w for w in words if w not in _STOP and len(w) > 1]


def _term_patterns(terms: Sequence[str]) -> list[re.Pattern[str]]:
    """Patterns for matched terms as the digest passes them: the words the matcher found
    (hit texts, literal article text), each also in its plural and possessive forms."""
    patterns = []
    for term in terms:
        words = re.findall(r"\w+", term)
        if words:
            body = r"\W+".join(re.escape(word) for word in words)
            patterns.append(re.compile(rf"(?<!\w){body}{_PLURAL}(?!\w)", re.IGNORECASE))
    return patterns


def _length_factor(words: int) -> float:
    if words < 4:
        return 0.5
    if words < 8:
        return 0.8
    if words > 45:
        return 0.8
    return 1.0
