"""Values the store hands out, times as sortable text, and rows <-> values."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, cast

from digest.models import Article, Hit, Match, Outgoing


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


@dataclass(frozen=True, slots=True)
class DigestState:
    """What `digest status` shows about one digest."""

    name: str
    watermark: datetime | None
    last_run: datetime | None
    last_message_id: str | None



@dataclass(frozen=True, slots=True)
class JobResult:
    """The last run of one daemon job, for `digest status`."""

    job: str
    finished: datetime
    ok: bool
    summary: str


# time ---------------------------------------------------------------------------------
def _ts(moment: datetime | None) -> str | None:
    """ISO 8601 UTC with a fixed width, so that comparing strings compares times."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def _dt(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


# rows <-> values ----------------------------------------------------------------------
_ARTICLE_COLUMNS = ("a.key, a.source, a.url, a.canonical_url, a.title, a.body, a.description, "
                    "a.author, a.published, a.first_seen")
_OUTBOX_COLUMNS = ("message_id, kind, name, sender, recipients, subject, raw, created, "
                   "status, attempts, next_try, last_error, refused, sent_at")
_FEED_COLUMNS = ("name, url, etag, last_modified, body_hash, failures, last_error, "
                 "last_error_at, last_success, next_try, disabled, items_seen")


def _article(row: Sequence[Any]) -> Article:
    return Article(id=row[0], source=row[1], url=row[2], canonical_url=row[3], title=row[4],
                   body=row[5], description=row[6], author=row[7], published=_dt(row[8]),
                   first_seen=_dt(row[9]))


_MATCH_COLUMNS = f"{_ARTICLE_COLUMNS}, m.watchlist, m.score, m.hits, m.score_parts"


def _match(row: Sequence[Any]) -> Match:
    """A row of ``_MATCH_COLUMNS``."""
    return Match(article=_article(row[:10]), watchlist=row[10], score=row[11],
                 hits=_hits_from_json(row[12]), score_parts=json.loads(row[13]))


def _hits_json(hits: Iterable[Hit]) -> str:
    return json.dumps([[h.term, h.field, h.start, h.end, h.text] for h in hits],
                      ensure_ascii=False)


def _hits_from_json(text: str) -> tuple[Hit, ...]:
    return tuple(Hit(term=t, field=f, start=s, end=e, text=x) for t, f, s, e, x in json.loads(text))


def _outbox_entry(row: Sequence[Any]) -> OutboxEntry:
    message = Outgoing(message_id=row[0], kind=row[1], name=row[2], sender=row[3],
                       recipients=tuple(json.loads(row[4])), subject=row[5], raw=bytes(row[6]),
                       created=cast(datetime, _dt(row[7])))
    return OutboxEntry(message=message, status=row[8], attempts=row[9], next_try=_dt(row[10]),
                       last_error=row[11], refused=json.loads(row[12]), sent_at=_dt(row[13]))


def _feed(row: Sequence[Any]) -> FeedState:
    return FeedState(name=row[0], url=row[1], etag=row[2], last_modified=row[3],
                     body_hash=row[4], failures=row[5], last_error=row[6],
                     last_error_at=_dt(row[7]), last_success=_dt(row[8]), next_try=_dt(row[9]),
                     disabled=bool(row[10]), items_seen=row[11])
