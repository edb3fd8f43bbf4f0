"""All state in one SQLite file; the only module that contains SQL.

Tables (created by ordered, named migrations recorded in `migrations`, each in one transaction):
  articles      key (the Article id) PK, source, url, canonical_url (unique when set), title,
                body, description, author, published, first_seen, hash
  matches       (article_key, watchlist) PK, score, hits (JSON), score_parts (JSON), first_seen,
                alerted_at
  digests       name PK, watermark (articles first seen before it were considered), last_run,
                last_message_id
  digest_items  (digest, article_key) PK, message_id: what went into which digest
  outbox        message_id PK, kind, name, sender, recipients (JSON), subject, raw, created,
                status ('pending' | 'sent' | 'failed'), attempts, next_try, last_error,
                refused (JSON {address: reply}), sent_at
  feeds         name PK, url, etag, last_modified, body_hash, failures, last_error, last_success,
                next_try, disabled, items_seen, last_error_at
Times are stored as ISO 8601 UTC strings. WAL mode, synchronous=FULL: a commit survives a crash.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from digest.models import Article, Match, Outgoing


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    message: Outgoing
    status: str  # pending | sent | failed
    attempts: int
    next_try: datetime | None
    last_error: str | None
    refused: dict[str, str]
    sent_at: datetime | None


@dataclass(frozen=True, slots=True)
class FeedState:
    name: str
    url: str  # current URL (after permanent redirects)
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    failures: int = 0
    last_error: str | None = None
    last_error_at: datetime | None = None
    last_success: datetime | None = None
    next_try: datetime | None = None
    disabled: bool = False
    items_seen: int = 0


class Store:
    """An open state database. Use ``with Store.open(path) as store:``."""

    @classmethod
    def open(cls, path: Path) -> Store:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Everything inside commits together or not at all (nested use is allowed)."""
        raise NotImplementedError
        yield

    # articles and matches -------------------------------------------------------------
    def add_articles(self, articles: Iterable[Article], now: datetime) -> list[Article]:
        """Record articles; return only the new ones (by id, canonical url), first_seen set."""
        raise NotImplementedError

    def add_matches(self, matches: Iterable[Match]) -> None:
        raise NotImplementedError

    def matches_between(self, watchlists: Sequence[str], start: datetime,
                        end: datetime) -> list[Match]:
        """Matches of articles first seen in [start, end), for the given watchlists."""
        raise NotImplementedError

    def articles_since(self, since: datetime) -> list[Article]:
        raise NotImplementedError

    def prune(self, before: datetime) -> int:
        """Drop article text first seen before ``before`` (ids stay, so nothing is new again)."""
        raise NotImplementedError

    # digests and the outbox ------------------------------------------------------------
    def watermark(self, digest: str) -> datetime | None:
        raise NotImplementedError

    def commit_digest(self, digest: str, watermark: datetime, message: Outgoing | None,
                      article_keys: Iterable[str]) -> None:
        """Advance the watermark and queue the message in one transaction."""
        raise NotImplementedError

    def due_messages(self, now: datetime) -> list[Outgoing]:
        """Pending messages whose next try has come, oldest first."""
        raise NotImplementedError

    def mark_sent(self, message_id: str, now: datetime, refused: dict[str, str]) -> None:
        raise NotImplementedError

    def mark_retry(self, message_id: str, error: str, next_try: datetime) -> None:
        raise NotImplementedError

    def mark_failed(self, message_id: str, error: str) -> None:
        raise NotImplementedError

    def outbox(self) -> list[OutboxEntry]:
        raise NotImplementedError

    # feeds --------------------------------------------------------------------------
    def feed_state(self, name: str, url: str) -> FeedState:
        raise NotImplementedError

    def save_feed_state(self, state: FeedState) -> None:
        raise NotImplementedError

    def feed_states(self) -> list[FeedState]:
        raise NotImplementedError
