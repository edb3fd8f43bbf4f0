"""The values that move between pipeline stages. All frozen: a stage never edits another's output.

sources ──Article──▶ store ──▶ matcher ──Match──▶ builder ──Digest──▶ render
        ──RenderedMail──▶ mail ──Outgoing──▶ outbox ──▶ delivery
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Field = Literal["title", "body"]


def content_hash(title: str, body: str) -> str:
    """A stable hash of an article's text; the id of folder articles and of feed entries
    without guid or link."""
    digest = hashlib.sha256()
    digest.update(title.strip().encode("utf-8", "surrogatepass"))
    digest.update(b"\0")
    digest.update(body.strip().encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Article:
    """One news item as a source produced it, title and body already plain text."""

    source: str
    id: str  # stable: feed guid, else link, else content hash (folder: always content hash)
    title: str
    body: str
    url: str | None = None  # http/https only; anything else is dropped by the source
    published: datetime | None = None  # timezone-aware UTC, or None when unknown
    author: str | None = None
    description: str | None = None  # the feed's own summary as text (a summary fallback)
    canonical_url: str | None = None  # url without tracking parameters/fragment: cross-feed dedupe
    first_seen: datetime | None = None  # set by the store when the article is first recorded

    @property
    def hash(self) -> str:
        return content_hash(self.title, self.body)

    @property
    def time(self) -> datetime | None:
        """When it happened as far as we know: published, else first seen."""
        return self.published or self.first_seen


@dataclass(frozen=True, slots=True)
class Hit:
    """One place a term matched. Offsets index the *original* field text."""

    term: str  # the term (or query atom) as the user wrote it
    field: Field
    start: int
    end: int
    text: str  # the original characters at [start:end]


@dataclass(frozen=True, slots=True)
class Match:
    """An article that satisfies a watchlist, with why and how strongly."""

    article: Article
    watchlist: str
    hits: tuple[Hit, ...]
    score: float
    score_parts: Mapping[str, float] = field(default_factory=dict)  # e.g. {"title": 3.0, ...}

    @property
    def terms(self) -> tuple[str, ...]:
        """The distinct matched terms, in first-hit order."""
        return tuple(dict.fromkeys(hit.term for hit in self.hits))


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of display text; ``marked`` pieces are highlighted matched words."""

    text: str
    marked: bool = False


@dataclass(frozen=True, slots=True)
class Story:
    """One story: the representative match plus near-duplicates from other sources."""

    lead: Match
    others: tuple[Match, ...] = ()
    summary: tuple[str, ...] = ()  # sentences, in article order
    title: tuple[Segment, ...] = ()  # headline with matched words marked
    snippet: tuple[Segment, ...] = ()  # matched words in context, marked
    alerted: bool = False  # already sent as an immediate alert


@dataclass(frozen=True, slots=True)
class Section:
    """One watchlist's part of a digest."""

    watchlist: str
    stories: tuple[Story, ...]
    more: int = 0  # stories left out by max_stories


@dataclass(frozen=True, slots=True)
class SourceProblem:
    """A source that failed since the last digest, for the digest's health footer."""

    source: str
    error: str
    failures: int
    since: datetime | None = None


@dataclass(frozen=True, slots=True)
class Digest:
    """What a digest email says, before any template touches it."""

    name: str
    period_start: datetime
    period_end: datetime
    recipients: tuple[str, ...]
    sections: tuple[Section, ...]
    problems: tuple[SourceProblem, ...] = ()

    @property
    def story_count(self) -> int:
        """Distinct stories: one that several watchlists matched counts once."""
        return len({story.lead.article.id for section in self.sections
                    for story in section.stories})

    @property
    def is_empty(self) -> bool:
        return self.story_count == 0


@dataclass(frozen=True, slots=True)
class RenderedMail:
    """The three texts a template set produces."""

    subject: str
    text: str
    html: str


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A finished message as it waits in the outbox."""

    message_id: str  # with angle brackets, as in the header
    kind: Literal["digest", "alert"]
    name: str  # digest name, or "alert"
    sender: str  # bare address for the envelope
    recipients: tuple[str, ...]
    subject: str
    raw: bytes  # the complete RFC 5322 message, CRLF line endings
    created: datetime
