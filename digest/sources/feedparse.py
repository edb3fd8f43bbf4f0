"""Feed bytes to Articles, with feedparser doing only the work we need.

feedparser never fetches here: it gets the bytes we downloaded (in a ``BytesIO``: a ``str``
could be read as a URL or file name) and the response headers, with its HTML sanitizer and
relative-URI rewriting turned off, because every HTML field is converted to plain text by
``digest.htmltext`` anyway. ``parse_feed`` is a plain, picklable function so the poller can
run it in a thread or a worker process; it does no I/O and touches no shared state.

Dates: feedparser returns UTC ``struct_time``s, but reads an unknown zone name ("CEST") as
UTC without a word; such dates are corrected from a small table of zone names, or dropped
when the name is unknown, so the store's first-seen time stands in instead.
"""

from __future__ import annotations

import calendar
import io
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import feedparser  # type: ignore[import-untyped]
from feedparser.datetimes import _parse_date  # type: ignore[import-untyped]

from digest.errors import SourceError
from digest.htmltext import clean_text, html_to_text, one_line
from digest.models import Article, content_hash
from digest.urls import canonical_url, safe_url

log = logging.getLogger(__name__)

MAX_TITLE = 500
MAX_BODY = 100_000
MAX_DESCRIPTION = 10_000
MAX_AUTHOR = 200
MAX_ID = 1_000

# Zone names feedparser's RFC 822 parser knows (it reads any other name as UTC).
_FEEDPARSER_ZONES = frozenset({
    "ut", "gmt", "z", "adt", "ast", "at", "edt", "est", "et", "cdt", "cst", "ct", "mdt",
    "mst", "mt", "pdt", "pst", "pt", "a", "n", "m", "y", "met", "mest",
})
# Common names it does not know, as offsets "+HHMM". Ambiguous ones (IST, BST?) are
# resolved the way news feeds use them most (BST: British Summer Time, IST: India).
_EXTRA_ZONES = {
    "utc": "+0000", "wet": "+0000", "west": "+0100", "bst": "+0100", "cet": "+0100",
    "cest": "+0200", "eet": "+0200", "eest": "+0300", "msk": "+0300", "ist": "+0530",
    "pkt": "+0500", "ict": "+0700", "wib": "+0700", "hkt": "+0800", "sgt": "+0800",
    "awst": "+0800", "jst": "+0900", "kst": "+0900", "acst": "+0930", "aest": "+1000",
    "aedt": "+1100", "nzst": "+1200", "nzdt": "+1300", "hst": "-1000", "akst": "-0900",
    "akdt": "-0800", "nst": "-0330", "ndt": "-0230", "brt": "-0300", "art": "-0300",
}
_ZONE_RE = re.compile(r"([A-Za-z]{1,5})\s*$")
_ISO_START_RE = re.compile(r"\s*\d{4}-\d\d")


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """What one feed body yielded."""

    articles: tuple[Article, ...]
    warning: str | None = None  # feedparser's complaint about a feed we still used


def parse_feed(body: bytes, *, source: str, url: str,
               headers: Mapping[str, str] | None = None) -> ParsedFeed:
    """Parse one feed body fetched from ``url``; raise SourceError if it is not a feed."""
    # Only the content type goes to feedparser: with a base URL it would join URLs at every
    # element, which doubles its time; we resolve the few links we keep against ``url``.
    response_headers = {key.lower(): value for key, value in (headers or {}).items()}
    parsed = _feedparser(body, response_headers)
    utf16 = _looks_utf16(body) if parsed.get("bozo") and not parsed.get("entries") else None
    if utf16:
        # UTF-16 without BOM or declaration: feedparser guesses UTF-8 and finds nothing
        parsed = _feedparser(body.decode(utf16, "replace").encode(), response_headers)
    entries = parsed.get("entries") or []
    warning = None
    if parsed.get("bozo"):
        reason = _bozo_reason(parsed.get("bozo_exception"))
        if not entries and not parsed.get("version"):
            raise SourceError(f"not a feed: {_not_a_feed_reason(body, response_headers, reason)}")
        if not entries:
            raise SourceError(f"malformed feed with no usable entries: {reason}")
        warning = reason
    articles = tuple(
        article for article in (_article(entry, source, url) for entry in entries)
        if article is not None
    )
    return ParsedFeed(articles=articles, warning=warning)


def _feedparser(body: bytes, headers: dict[str, str]) -> Any:
    return feedparser.parse(io.BytesIO(body), response_headers=headers,
                            sanitize_html=False, resolve_relative_uris=False)


def _looks_utf16(body: bytes) -> str:
    """"utf-16-be"/"utf-16-le" when every other byte of the start is NUL, else ""."""
    head = body[:200]
    if len(head) < 8:
        return ""
    if head[0::2].count(0) > len(head) // 3:
        return "utf-16-be"
    if head[1::2].count(0) > len(head) // 3:
        return "utf-16-le"
    return ""


def _bozo_reason(exc: object) -> str:
    if exc is None:
        return "malformed feed"
    text = one_line(str(exc))[:200]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _not_a_feed_reason(body: bytes, headers: Mapping[str, str], reason: str) -> str:
    head = body[:2048].lstrip().lower()
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if any(tag in head for tag in (b"<!doctype html", b"<html", b"<head", b"<body")) or (
            content_type == "text/html" and b"<rss" not in head and b"<feed" not in head):
        return "the server sent an HTML page (is the URL a web page rather than its feed?)"
    if not body.strip():
        return "the response was empty"
    return reason


GLOBAL_ID_PREFIXES = ("http://", "https://", "tag:", "urn:")


def _article(entry: Mapping[str, Any], source: str, base: str) -> Article | None:
    title = _truncate(one_line(_text_of(entry, "title")), MAX_TITLE)
    parts = [part for part in entry.get("content") or [] if isinstance(part, Mapping)]
    texts = [_detail_text(part) for part in parts]
    body_html = "\n\n".join(texts)
    summary = entry.get("summary_detail")
    if len(parts) == 1 and isinstance(summary, Mapping) and _same_text(summary, parts[0]):
        description = texts[0]  # feedparser copies a lone content into the summary
    else:
        description = _text_of(entry, "summary")
    body = _truncate(body_html.strip() or description, MAX_BODY)
    description = _truncate(description, MAX_DESCRIPTION)
    if not title and not body:
        return None
    link = _entry_link(entry, base)
    guid = one_line(str(entry.get("id") or ""))[:MAX_ID]
    if guid and not guid.lower().startswith(GLOBAL_ID_PREFIXES):
        guid = f"{source}|{guid}"  # a bare "1" or "post-17" is unique only within its feed
    article_id = guid or link or content_hash(title, body)
    author = one_line(str(entry.get("author") or ""))[:MAX_AUTHOR] or None
    return Article(
        source=source,
        id=article_id,
        title=title,
        body=body,
        url=link,
        published=entry_time(entry),
        author=author,
        description=description or None,
        canonical_url=canonical_url(link),
    )


def _text_of(entry: Mapping[str, Any], key: str) -> str:
    detail = entry.get(f"{key}_detail")
    if isinstance(detail, Mapping):
        return _detail_text(detail)
    value = entry.get(key)
    return html_to_text(value) if isinstance(value, str) else ""


def _detail_text(detail: Mapping[str, Any]) -> str:
    value = detail.get("value")
    if not isinstance(value, str):
        return ""
    kind = str(detail.get("type") or "text/html").lower()
    # Only text declared plain keeps its "<"; feedparser leaves entities in some plain
    # titles ("&amp;"), so those are decoded once too.
    return clean_text(value) if kind == "text/plain" and "&" not in value else html_to_text(value)


def _same_text(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two details give the same text (it depends on value and type only)."""
    return a.get("value") == b.get("value") and a.get("type") == b.get("type")


def _entry_link(entry: Mapping[str, Any], base: str) -> str | None:
    candidates = [entry.get("link")]
    for link in entry.get("links") or []:
        if isinstance(link, Mapping) and link.get("rel", "alternate") == "alternate":
            candidates.append(link.get("href"))
    if entry.get("guidislink"):
        candidates.append(entry.get("id"))
    for candidate in candidates:
        if isinstance(candidate, str):
            url = safe_url(candidate, base)
            if url:
                return url
    return None


def entry_time(entry: Mapping[str, Any]) -> datetime | None:
    """When the entry was published (else updated), in UTC; None when unknown or unsure."""
    plain = dict(entry)  # FeedParserDict.get("updated") falls back to "published", with a warning
    for key in ("published", "updated", "created"):
        raw = plain.get(key)
        parsed = plain.get(f"{key}_parsed")
        if not isinstance(raw, str) or not raw.strip():
            continue
        when = _trusted_time(raw, parsed if isinstance(parsed, time.struct_time) else None)
        if when is not None:
            return when
    return None


def _trusted_time(raw: str, parsed: time.struct_time | None) -> datetime | None:
    zone = _ZONE_RE.search(raw.strip())
    if zone and not _looks_iso(raw):
        name = zone.group(1).lower()
        if name not in _FEEDPARSER_ZONES:
            offset = _EXTRA_ZONES.get(name)
            if offset is None:
                return None  # feedparser would have read it as UTC: unknown, not "now"
            parsed = _parse_date(raw.strip()[: zone.start()] + " " + offset)
    if parsed is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=timezone.utc)
    except (OverflowError, ValueError, OSError):
        return None


def _looks_iso(raw: str) -> bool:
    return bool(_ISO_START_RE.match(raw))


def _truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"
