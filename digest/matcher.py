"""All watchlists compiled into one matcher: candidates from one Aho-Corasick pass over the
normalized text, confirmed by per-term rules, then the boolean expressions evaluated.

Every phrase of every watchlist (terms, query and exclude) becomes one or more automaton
keys: the phrase itself and, unless quoted or a prefix, the plural and possessive forms of
its last word. One pass per field yields candidates; a candidate counts only if it sits on
word boundaries, satisfies the capitals rule against the original text, and (for a prefix)
the word it starts is extended to its end. Regular expressions run on the original text.
"""

from __future__ import annotations

import logging
import math
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache

import ahocorasick  # type: ignore[import-not-found]  # no type stubs

from digest.config import Watchlist
from digest.errors import QueryError
from digest.models import Article, Field, Hit, Match
from digest.normalize import Normalized, normalize
from digest.query import And, Near, Node, Not, Or, Phrase, Regex, atoms, key_forms, parse

log = logging.getLogger(__name__)

TITLE_WEIGHT = 3.0
DISTINCT_TERM_BONUS = 0.5

REGEX_TEXT_CAP = 200_000  # regexes never see more than this many characters of a field
REGEX_SECONDS = 1.0  # and give up on one field after this long
FIELDS: tuple[Field, ...] = ("title", "body")


class WatchlistQueryError(QueryError):
    """A QueryError that also names the watchlist and the entry (``terms[2]``, ``query``)."""

    def __init__(self, error: QueryError, *, watchlist: str, entry: str) -> None:
        self.watchlist = watchlist
        self.entry = entry
        self.error = error  # as the parser raised it, naming no watchlist
        super().__init__(f"watchlist {watchlist!r} {entry}: {error.reason}",
                         query=error.query, position=error.position)
        self.reason = error.reason


@dataclass(frozen=True, slots=True)
class _Entry:
    """What one automaton key means: which phrase, and how to confirm a candidate."""

    atom: int
    length: int  # of the key
    prefix: bool
    capitals: tuple[tuple[int, int], ...]  # (offset, length) of acronym words in the key


@dataclass(frozen=True, slots=True)
class _Compiled:
    name: str
    terms: tuple[Node, ...]
    query: Node | None
    exclude: tuple[Node, ...]


class Matcher:
    """Built once per configuration (and on reload); ``match`` is cheap and thread-safe."""

    def __init__(self, watchlists: Sequence[Watchlist]) -> None:
        self._watchlists = tuple(_compile(w) for w in watchlists)
        self._atom_ids: dict[tuple[object, ...], int] = {}
        self._node_atoms: dict[int, int] = {}  # id(phrase node) → atom; the nodes live in self
        keys: dict[str, list[_Entry]] = {}
        self._by_atom: list[set[int]] = []
        self._always: list[int] = []
        for index, compiled in enumerate(self._watchlists):
            positive = (*compiled.terms, *((compiled.query,) if compiled.query else ()))
            if any(_may_match_without_phrases(node) for node in positive):
                self._always.append(index)
            for node in (*positive, *compiled.exclude):
                for atom in atoms(node):
                    if isinstance(atom, Phrase):
                        self._add_phrase(atom, index, keys)
        self._automaton = ahocorasick.Automaton()
        for key, entries in keys.items():
            self._automaton.add_word(key, tuple(entries))
        if keys:
            self._automaton.make_automaton()

    def _add_phrase(self, phrase: Phrase, watchlist: int, keys: dict[str, list[_Entry]]) -> None:
        identity = atom_identity(phrase)
        atom = self._atom_ids.get(identity)
        if atom is None:
            atom = self._atom_ids[identity] = len(self._by_atom)
            self._by_atom.append(set())
            for key in key_forms(phrase):
                keys.setdefault(key, []).append(
                    _Entry(atom, len(key), phrase.prefix, _capital_spans(phrase, key)))
        self._node_atoms[id(phrase)] = atom
        self._by_atom[atom].add(watchlist)

    def match(self, article: Article) -> list[Match]:
        """One Match per watchlist the article satisfies (exclude applied)."""
        found = _Found({"title": self._field(article.title), "body": self._field(article.body)},
                       self._node_atoms)
        touched = set(self._always)
        for candidates in found.fields.values():
            for atom in candidates.spans:
                touched.update(self._by_atom[atom])
        matches = []
        for index in sorted(touched):
            match = _match_one(self._watchlists[index], article, found)
            if match is not None:
                matches.append(match)
        return matches

    def _field(self, original: str) -> _Candidates:
        """Normalize one field once and collect the confirmed spans of every phrase in it."""
        normalized = normalize(original)
        spans: dict[int, dict[int, int]] = {}
        if self._automaton.kind == ahocorasick.AHOCORASICK:
            for last, entries in self._automaton.iter(normalized.text):
                for entry in entries:
                    span = _confirm(normalized, last + 1 - entry.length, last + 1, entry)
                    if span is not None:
                        ends = spans.setdefault(entry.atom, {})
                        ends[span[0]] = max(span[1], ends.get(span[0], 0))
        return _Candidates(normalized, {a: sorted(e.items()) for a, e in spans.items()})


def _confirm(normalized: Normalized, start: int, end: int,
             entry: _Entry) -> tuple[int, int] | None:
    """The normalized span of a real hit, or None: whole words, acronyms not lowercase."""
    text = normalized.text
    if start > 0 and _joins(text, start - 1, start - 2):
        return None
    if entry.prefix:
        while end < len(text) and text[end].isalnum():
            end += 1
    elif end < len(text) and _joins(text, end, end + 1):
        return None
    for offset, length in entry.capitals:
        a, b = normalized.span(start + offset, start + offset + length)
        if normalized.original[a:b].islower():
            return None
    return start, end


def _joins(text: str, index: int, beyond: int) -> bool:
    """Whether ``text[index]`` continues a word: a letter/digit, or an apostrophe inside a
    word ("Kim's": "Kim" does not end before the apostrophe)."""
    char = text[index]
    if char.isalnum():
        return True
    return char == "'" and 0 <= beyond < len(text) and text[beyond].isalnum()


# --- evaluation -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Hit:
    field: Field
    start: int  # original offsets
    end: int
    term: str


@dataclass(slots=True)
class _Candidates:
    """One field of one article: its normalized text and each phrase's confirmed spans."""

    normalized: Normalized
    spans: dict[int, list[tuple[int, int]]]  # atom → sorted normalized (start, end)
    word_starts: list[int] | None = None  # original offsets of word starts, built for NEAR

    def word_index(self, position: int) -> int:
        if self.word_starts is None:
            text = self.normalized.text
            starts = [0] if text else []
            starts += [i + 1 for i, c in enumerate(text) if c == " "]
            self.word_starts = [self.normalized.start_of(i) for i in starts]
        return max(bisect_right(self.word_starts, position) - 1, 0)


@dataclass(slots=True)
class _Found:
    """Everything known about one article while its watchlists are evaluated."""

    fields: dict[Field, _Candidates]
    node_atoms: dict[int, int]
    regex_cache: dict[tuple[int, Field], list[tuple[int, int]]] = field(default_factory=dict)


Result = list[_Hit] | None  # None: false; a list (maybe empty, for NOT): true, with its hits


def _evaluate(node: Node, found: _Found) -> Result:
    if isinstance(node, Phrase):
        return _phrase_hits(node, found) or None
    if isinstance(node, Regex):
        return _regex_hits(node, found) or None
    if isinstance(node, Not):
        return [] if _evaluate(node.child, found) is None else None
    if isinstance(node, And):
        left = _evaluate(node.left, found)
        if left is None:
            return None
        right = _evaluate(node.right, found)
        return None if right is None else left + right
    if isinstance(node, Or):
        results = [r for r in (_evaluate(node.left, found), _evaluate(node.right, found))
                   if r is not None]
        return [hit for r in results for hit in r] if results else None
    return _near(node, found)


def _fields(scope: Field | None) -> tuple[Field, ...]:
    return FIELDS if scope is None else (scope,)


def _phrase_hits(phrase: Phrase, found: _Found) -> list[_Hit]:
    atom = found.node_atoms[id(phrase)]
    hits: list[_Hit] = []
    for name in _fields(phrase.field):
        candidates = found.fields[name]
        spans = candidates.spans.get(atom)
        if spans:
            span = candidates.normalized.span
            hits.extend(_Hit(name, *span(start, end), phrase.written) for start, end in spans)
    return hits


def _regex_hits(regex: Regex, found: _Found) -> list[_Hit]:
    hits: list[_Hit] = []
    for name in _fields(regex.field):
        key = (id(regex.pattern), name)
        spans = found.regex_cache.get(key)
        if spans is None:
            text = found.fields[name].normalized.original[:REGEX_TEXT_CAP]
            spans = _regex_spans(regex, text)
            found.regex_cache[key] = spans
        hits.extend(_Hit(name, a, b, regex.written) for a, b in spans)
    return hits


def _regex_spans(regex: Regex, text: str) -> list[tuple[int, int]]:
    """Non-empty matches of a user's regex; one that runs too long matches nothing (and says
    so) rather than hanging the daemon."""
    try:
        return [m.span() for m in regex.pattern.finditer(text, timeout=REGEX_SECONDS)
                if m.end() > m.start()]
    except TimeoutError:
        log.warning("regex %s gave up after %ss on a %d-character text; treated as no match",
                    regex.written, REGEX_SECONDS, len(text))
        return []


def _near(node: Near, found: _Found) -> Result:
    left = _evaluate(node.left, found)
    right = _evaluate(node.right, found) if left else None
    if not left or not right:
        return None
    kept: dict[_Hit, None] = {}
    for a in left:
        for b in right:
            if a.field == b.field and _distance(a, b, found.fields[a.field]) <= node.distance:
                kept[a] = kept[b] = None
    return list(kept) or None


def _distance(a: _Hit, b: _Hit, candidates: _Candidates) -> int:
    """Words from the end of the earlier hit to the start of the later (0 if they overlap)."""
    first, second = (a, b) if a.start <= b.start else (b, a)
    gap = candidates.word_index(second.start) - candidates.word_index(max(first.end - 1, 0))
    return max(gap, 0)


def _may_match_without_phrases(node: Node) -> bool:
    """Whether ``node`` can be true although no phrase matched (regexes, NOT)."""
    if isinstance(node, Phrase):
        return False
    if isinstance(node, Regex | Not):
        return True
    if isinstance(node, Or):
        return _may_match_without_phrases(node.left) or _may_match_without_phrases(node.right)
    return _may_match_without_phrases(node.left) and _may_match_without_phrases(node.right)


def _match_one(compiled: _Compiled, article: Article, found: _Found) -> Match | None:
    if compiled.query is not None:
        result = _evaluate(compiled.query, found)
    else:
        results = [r for r in (_evaluate(term, found) for term in compiled.terms)
                   if r is not None]
        result = [hit for r in results for hit in r] if results else None
    if result is None:
        return None
    if any(_evaluate(node, found) is not None for node in compiled.exclude):
        return None
    hits = _unique(
        Hit(h.term, h.field, h.start, h.end, _text(article, h.field)[h.start:h.end])
        for h in result)
    score, parts = _score(hits)
    return Match(article, compiled.name, hits, score, parts)


def _text(article: Article, name: Field) -> str:
    return article.title if name == "title" else article.body


def atom_identity(phrase: Phrase) -> tuple[object, ...]:
    """Phrases that match the same text share one atom (field is applied later)."""
    return (phrase.words, phrase.exact, phrase.prefix, phrase.capitals)


def _capital_spans(phrase: Phrase, key: str) -> tuple[tuple[int, int], ...]:
    spans = []
    offset = 0
    for word, capital in zip(phrase.words, phrase.capitals, strict=True):
        if capital:
            spans.append((offset, min(len(word), len(key) - offset)))
        offset += len(word) + 1
    return tuple(spans)


def _unique(hits: Iterable[Hit]) -> tuple[Hit, ...]:
    """Distinct places, headline first, in text order."""
    seen: dict[tuple[Field, int, int], Hit] = {}
    for hit in hits:
        seen.setdefault((hit.field, hit.start, hit.end), hit)
    return tuple(sorted(seen.values(), key=lambda h: (h.field != "title", h.start, h.end)))


def _score(hits: Sequence[Hit]) -> tuple[float, dict[str, float]]:
    """Headline hits weigh more than body hits; repeats count with diminishing returns."""
    title = sum(1 for hit in hits if hit.field == "title")
    body = len(hits) - title
    distinct = len({hit.term for hit in hits})
    parts = {
        "title": round(TITLE_WEIGHT * math.log1p(title), 3),
        "body": round(math.log1p(body), 3),
        "distinct_terms": round(DISTINCT_TERM_BONUS * max(distinct - 1, 0), 3),
    }
    return round(sum(parts.values()), 3), parts


@cache
def _compile(watchlist: Watchlist) -> _Compiled:
    """The parsed watchlist; cached, because loading the config parses every entry to check
    it and the Matcher then needs the same trees (seconds with 100,000 terms). Unbounded,
    since a bounded LRU misses every time once a config has more watchlists than its size;
    ``forget_parsed`` empties it when a config is loaded."""

    def one(text: str, entry: str) -> Node:
        try:
            return parse(text)
        except QueryError as exc:
            raise WatchlistQueryError(exc, watchlist=watchlist.name, entry=entry) from exc

    return _Compiled(
        watchlist.name,
        tuple(one(t, f"terms[{i}]") for i, t in enumerate(watchlist.terms, start=1)),
        one(watchlist.query, "query") if watchlist.query is not None else None,
        tuple(one(t, f"exclude[{i}]") for i, t in enumerate(watchlist.exclude, start=1)),
    )


def validate_watchlist(watchlist: Watchlist) -> None:
    """Raise QueryError for the first malformed term/query/exclude (config loading calls it).

    The error is a WatchlistQueryError: ``entry`` says which one, counted from 1 as the
    config's keys are (``terms[2]``, ``query``, ``exclude[1]``), ``position`` where in it.
    """
    _compile(watchlist)


def forget_parsed() -> None:
    """Drop the watchlists parsed so far (a config is being loaded: only its own count)."""
    _compile.cache_clear()


def compile_query(query: str, *, name: str = "query") -> Matcher:
    """A matcher for one ad-hoc query (``digest match QUERY``); a malformed query raises
    the plain QueryError (no watchlist to name)."""
    try:
        return Matcher([Watchlist(name=name, query=query)])
    except WatchlistQueryError as exc:
        raise exc.error from None
