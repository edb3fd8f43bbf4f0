"""HTTP for feeds: one aiohttp session, bounded, capped, timed out, conditional.

``Fetcher`` is an async context manager that owns the session and the limits: a global
semaphore (``concurrency``) and one semaphore per host (``per_host``), so a thousand feeds
on one host cannot crowd out the others. Every request has a total timeout and a read
timeout (a server that trickles bytes or stops mid-body); bodies are read in chunks and
capped *after* decompression (a gzip bomb stops at the cap). Redirects are followed here,
at most ``max_redirects``, only to http/https, and a chain of permanent ones (301/308)
is reported so the caller can remember the new URL. TLS certificates are verified.

All failures become ``FetchError`` (with the status and any ``Retry-After``), chained to
the library error.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from types import TracebackType
from urllib.parse import urljoin, urlsplit

import aiohttp

from digest import __version__
from digest.errors import FetchError
from digest.urls import is_web_url

log = logging.getLogger(__name__)

USER_AGENT = f"digest/{__version__} (+news digest daemon)"
REDIRECTS = frozenset({301, 302, 303, 307, 308})
PERMANENT = frozenset({301, 308})
MAX_RETRY_AFTER = 24 * 3600.0
CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class Response:
    """A successful fetch: 200 with a body, or 304 without one."""

    status: int
    url: str  # where the body came from, after redirects
    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    moved_to: str | None = None  # new URL when every redirect on the way was permanent

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    def parse_headers(self) -> dict[str, str]:
        """The header feedparser uses to decode the body: its content type."""
        return {"content-type": self.content_type} if self.content_type else {}


class Fetcher:
    """Fetch feed URLs politely; use as ``async with Fetcher() as fetcher:``."""

    def __init__(self, *, concurrency: int = 50, per_host: int = 6, timeout: float = 30.0,
                 read_timeout: float | None = None, max_bytes: int = 10_000_000,
                 max_redirects: int = 5, user_agent: str = USER_AGENT) -> None:
        if concurrency < 1 or per_host < 1:
            raise ValueError("concurrency and per_host must be at least 1")
        self.concurrency = concurrency
        self.per_host = per_host
        self.timeout = timeout
        self.read_timeout = read_timeout if read_timeout is not None else min(timeout, 15.0)
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.user_agent = user_agent
        self._slots = asyncio.Semaphore(concurrency)
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Fetcher:
        connector = aiohttp.TCPConnector(limit=self.concurrency, limit_per_host=0,
                                         ttl_dns_cache=300)
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers={"User-Agent": self.user_agent,
                     "Accept": "application/rss+xml, application/atom+xml, "
                               "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"},
            timeout=aiohttp.ClientTimeout(total=self.timeout, sock_connect=self.timeout,
                                          sock_read=self.read_timeout),
            trust_env=False,
        )
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def fetch(self, url: str, *, etag: str | None = None,
                    last_modified: str | None = None) -> Response:
        """GET ``url`` (conditionally when validators are given); raise FetchError on failure."""
        if self._session is None:
            raise RuntimeError("Fetcher used outside 'async with'")
        if not is_web_url(url):
            scheme = urlsplit(url).scheme or "none"
            raise FetchError(f"refusing URL {url!r}: scheme {scheme!r} (only http and https)")
        host = (urlsplit(url).hostname or "").lower()
        host_slots = self._hosts.setdefault(host, asyncio.Semaphore(self.per_host))
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        async with host_slots, self._slots:
            try:
                return await asyncio.wait_for(self._follow(self._session, url, headers),
                                              self.timeout)
            except aiohttp.ServerTimeoutError as exc:
                raise FetchError(f"timed out: {exc or 'no data from the server'}") from exc
            except (asyncio.TimeoutError, TimeoutError) as exc:
                raise FetchError(f"timed out after {self.timeout:g} s") from exc
            except aiohttp.ClientSSLError as exc:
                raise FetchError(f"TLS error: {exc}") from exc
            except aiohttp.ClientError as exc:
                raise FetchError(_describe(exc)) from exc
            except (OSError, ValueError, UnicodeError) as exc:
                raise FetchError(f"{type(exc).__name__}: {exc}") from exc

    async def _follow(self, session: aiohttp.ClientSession, url: str,
                      headers: dict[str, str]) -> Response:
        permanent = True
        moved_to = None
        for _hop in range(self.max_redirects + 1):
            async with session.get(url, headers=headers, allow_redirects=False) as resp:
                if resp.status in REDIRECTS:
                    location = resp.headers.get("Location")
                    if not location:
                        raise FetchError(f"HTTP {resp.status} without Location",
                                         status=resp.status)
                    target = urljoin(url, location)
                    if not is_web_url(target):
                        raise FetchError(f"refusing redirect to {target!r} (only http and https)",
                                         status=resp.status)
                    permanent = permanent and resp.status in PERMANENT
                    moved_to = target if permanent else None
                    url = target
                    continue
                if resp.status == 304:
                    return Response(304, url, etag=resp.headers.get("ETag"),
                                    last_modified=resp.headers.get("Last-Modified"),
                                    moved_to=moved_to)
                if resp.status != 200:
                    raise _status_error(resp)
                body = await self._read(resp)
                return Response(200, url, body, etag=resp.headers.get("ETag"),
                                last_modified=resp.headers.get("Last-Modified"),
                                content_type=resp.headers.get("Content-Type"),
                                moved_to=moved_to)
        raise FetchError(f"too many redirects (more than {self.max_redirects})")

    async def _read(self, resp: aiohttp.ClientResponse) -> bytes:
        declared = resp.content_length
        if declared is not None and declared > self.max_bytes and not resp.headers.get(
                "Content-Encoding"):
            raise FetchError(f"body too large ({declared} bytes; limit {self.max_bytes})",
                             status=resp.status)
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.content.iter_chunked(CHUNK):
            size += len(chunk)
            if size > self.max_bytes:
                raise FetchError(f"body too large (over {self.max_bytes} bytes after decoding)",
                                 status=resp.status)
            chunks.append(chunk)
        return b"".join(chunks)


def _status_error(resp: aiohttp.ClientResponse) -> FetchError:
    reason = f" {resp.reason}" if resp.reason else ""
    retry_after = None
    if resp.status in (429, 503):
        retry_after = parse_retry_after(resp.headers.get("Retry-After"), datetime.now(timezone.utc))
    if resp.status == 410:
        return FetchError("feed is gone (410); remove it from the config", status=410)
    return FetchError(f"HTTP {resp.status}{reason}", status=resp.status, retry_after=retry_after)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), capped at a day."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return min(max((when - now).total_seconds(), 0.0), MAX_RETRY_AFTER)


def _describe(exc: aiohttp.ClientError) -> str:
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"cannot connect to {exc.host}:{exc.port}: {exc.os_error.strerror or exc.os_error}"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return f"broken response body: {exc}"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "server closed the connection"
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
