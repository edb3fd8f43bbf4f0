"""Polling many feeds: the cheap path first, failures contained, state kept per feed.

For each feed, ``FeedPoller.poll``:

1. skips it when it is disabled (410) or waiting (backoff, ``Retry-After``);
2. fetches it conditionally (ETag / Last-Modified) through the ``Fetcher``;
3. stops on 304, or on a 200 whose body hashes like the last one;
4. otherwise parses it off the event loop (threads, or worker processes) into Articles;
5. records the outcome in the feed's ``FeedState``: validators, body hash, failures with
   exponential backoff, the new URL after permanent redirects, 410 as disabled.

Store calls happen only here, on the event loop's thread (the SQLite connection is not
thread-safe); only parsing leaves the loop. A feed's failure becomes its ``FeedResult``
with ``status="error"``; it never raises into the other feeds. Which articles are new is
for the store to decide: a result carries every entry of a changed feed.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import multiprocessing
import os
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from types import TracebackType
from typing import Literal, Protocol
from urllib.parse import urlsplit

from digest.config import FeedSource
from digest.errors import FetchError, SourceError
from digest.models import Article
from digest.sources.feedparse import ParsedFeed, parse_feed
from digest.sources.fetch import USER_AGENT, Fetcher, Response
from digest.store import FeedState

log = logging.getLogger(__name__)

Status = Literal["new", "not-modified", "unchanged", "skipped", "error"]
BACKOFF_START = timedelta(minutes=5)
BACKOFF_CAP = timedelta(hours=6)
ASKED_TO_WAIT = "the server asked us to wait until"
POOL_FROM = 300  # feeds in one poll from which parsing moves to worker processes


class FeedStateStore(Protocol):
    """The part of ``digest.store.Store`` the poller uses."""

    def feed_state(self, name: str, url: str) -> FeedState: ...

    def save_feed_state(self, state: FeedState) -> None: ...


@dataclass(frozen=True)
class FeedResult:
    """What polling one feed gave."""

    feed: FeedSource
    articles: tuple[Article, ...]  # all parsed entries (the store decides what is new)
    status: Status  # new | not-modified | unchanged (same body hash) | skipped | error
    error: str | None = None  # error: what failed; skipped: why it was not fetched
    recorded: int = 0  # entries handed to ``poll``'s ``record`` (then ``articles`` is empty)

    @property
    def entries(self) -> int:
        """How many entries the feed had."""
        return self.recorded or len(self.articles)


class FeedPoller:
    """Polls feeds; an async context manager owning one HTTP session and, once a poll has
    many feeds to parse, a process pool.

    ``parse_workers``: 0 parses in threads; N > 0 in N processes; None (default) decides
    per poll: processes (one per CPU, at most 4) for polls of ``POOL_FROM`` feeds or more,
    threads otherwise. The pool starts at the first body to parse, so an all-304 poll never
    starts it. Why: on 2 CPUs processes win on large polls, threads on small ones (process
    start-up and pickling); ``benchmarks/feeds.py`` measures the large case."""

    def __init__(self, *, concurrency: int = 50, per_host: int = 6, timeout: float = 30.0,
                 max_bytes: int = 10_000_000, user_agent: str = USER_AGENT,
                 read_timeout: float | None = None,
                 parse_workers: int | None = None) -> None:
        self.concurrency = concurrency
        self.parse_workers = parse_workers
        self._fetcher = Fetcher(concurrency=concurrency, per_host=per_host, timeout=timeout,
                                read_timeout=read_timeout, max_bytes=max_bytes,
                                user_agent=user_agent)
        self._pool: Executor | None = None
        self._processes = 0

    def _workers_for(self, feeds: int) -> int:
        if self.parse_workers is not None:
            return max(self.parse_workers, 0)
        cpus = os.cpu_count() or 1
        return min(cpus, 4) if cpus > 1 and feeds >= POOL_FROM else 0

    async def __aenter__(self) -> FeedPoller:
        await self._fetcher.__aenter__()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self._fetcher.__aexit__(exc_type, exc, tb)
        if self._pool is not None:
            await asyncio.to_thread(self._pool.shutdown, wait=True, cancel_futures=True)
            self._pool = None

    async def poll(self, feeds: Sequence[FeedSource], store: FeedStateStore, now: datetime, *,
                   force: bool = False,
                   progress: Callable[[FeedResult], None] | None = None,
                   record: Callable[[FeedResult, FeedState], Awaitable[None]] | None = None,
                   ) -> list[FeedResult]:
        """Poll ``feeds`` concurrently; one result per feed, in the order given.

        ``force`` (``digest once``) also polls feeds that are backing off after failures,
        but still not those that asked to wait (``Retry-After``) or are gone (410).
        ``record(result, new_state)`` stores a result's articles together with the feed's
        new state (validators, body hash) in one transaction: were the state saved first, a
        crash in between would make the next poll get a 304 (or the same body) for
        articles never recorded, losing them. With ``record``, results come back without
        their articles (``recorded`` counts them), so a poll of thousands of feeds does not
        keep every entry in memory.
        """
        inflight = asyncio.Semaphore(self.concurrency)  # bounds bodies waiting to be parsed
        self._processes = self._workers_for(len(feeds))

        async def one(feed: FeedSource) -> FeedResult:
            async with inflight:
                state = store.feed_state(feed.name, feed.url)
                result, new_state = await self._poll_one(feed, state, now, force)
                if record is not None and result.articles:
                    await record(result, new_state)
                    # recorded: don't hold every entry of every feed until the poll ends
                    result = replace(result, articles=(), recorded=len(result.articles))
                elif new_state != state:
                    store.save_feed_state(new_state)
            if progress is not None:
                progress(result)
            return result

        order = _interleave_hosts(feeds)
        tasks = {index: asyncio.ensure_future(one(feeds[index])) for index in order}
        try:
            await asyncio.gather(*tasks.values())
        finally:
            for task in tasks.values():
                task.cancel()
        return [tasks[index].result() for index in range(len(feeds))]

    async def _poll_one(self, feed: FeedSource, state: FeedState, now: datetime,
                        force: bool) -> tuple[FeedResult, FeedState]:
        reason = skip_reason(state, now, force)
        if reason is not None:
            return FeedResult(feed, (), "skipped", reason), state
        try:
            response = await self._fetcher.fetch(state.url, etag=state.etag,
                                                 last_modified=state.last_modified)
        except FetchError as exc:
            log.info("feed %r: %s", feed.name, exc)
            return FeedResult(feed, (), "error", str(exc)), failed(state, exc, now)
        if response.moved_to:
            log.info("feed %r moved permanently to %s", feed.name, response.moved_to)
            state = replace(state, url=response.moved_to)
        if response.not_modified:
            return FeedResult(feed, (), "not-modified"), succeeded(state, response, now)
        body_hash = hashlib.sha256(response.body).hexdigest()
        if body_hash == state.body_hash:
            return FeedResult(feed, (), "unchanged"), succeeded(state, response, now)
        try:
            parsed = await self._parse(feed, response)
        except SourceError as exc:
            log.info("feed %r: %s", feed.name, exc)
            return FeedResult(feed, (), "error", str(exc)), failed(state, exc, now)
        if parsed.warning:
            log.warning("feed %r is malformed but usable (%s)", feed.name, parsed.warning)
        state = replace(succeeded(state, response, now), body_hash=body_hash,
                        items_seen=len(parsed.articles))
        return FeedResult(feed, parsed.articles, "new"), state

    async def _parse(self, feed: FeedSource, response: Response) -> ParsedFeed:
        job = partial(parse_feed, response.body, source=feed.name, url=response.url,
                      headers=response.parse_headers())
        try:
            if self._processes == 0:
                return await asyncio.to_thread(job)
            if self._pool is None:
                self._pool = ProcessPoolExecutor(self._processes,
                                                 mp_context=multiprocessing.get_context("spawn"))
            return await asyncio.get_running_loop().run_in_executor(self._pool, job)
        except SourceError:
            raise
        except Exception as exc:  # feedparser bugs on hostile input must stay this feed's
            log.warning("feed %r: parser crashed", feed.name, exc_info=True)
            raise SourceError(f"could not parse the feed ({type(exc).__name__}: {exc})") from exc


def skip_reason(state: FeedState, now: datetime, force: bool) -> str | None:
    """Why this feed is not fetched now, or None to fetch it."""
    if state.disabled:
        return state.last_error or "feed is disabled"
    if state.next_try is None or state.next_try <= now:
        return None
    asked = ASKED_TO_WAIT in (state.last_error or "")
    if force and not asked:
        return None
    kind = "as the server asked" if asked else f"backing off after {state.failures} failures"
    return f"waiting until {state.next_try:%Y-%m-%d %H:%M} UTC ({kind})"


def succeeded(state: FeedState, response: Response, now: datetime) -> FeedState:
    return replace(
        state,
        etag=response.etag or (state.etag if response.not_modified else None),
        last_modified=response.last_modified or (
            state.last_modified if response.not_modified else None),
        failures=0, next_try=None, last_success=now,
    )


def failed(state: FeedState, exc: SourceError, now: datetime) -> FeedState:
    """The state after a failure: backoff, Retry-After, or disabled on 410."""
    failures = state.failures + 1
    message = str(exc)
    if isinstance(exc, FetchError) and exc.status == 410:
        return replace(state, failures=failures, last_error=message, last_error_at=now,
                       disabled=True, next_try=None)
    retry_after = exc.retry_after if isinstance(exc, FetchError) else None
    if retry_after is not None:
        next_try = now + timedelta(seconds=retry_after)
        message = f"{message}; {ASKED_TO_WAIT} {next_try:%Y-%m-%d %H:%M:%S} UTC"
    else:
        next_try = now + backoff(failures)
    return replace(state, failures=failures, last_error=message, last_error_at=now,
                   next_try=next_try)


def backoff(failures: int) -> timedelta:
    """5 minutes after the first failure, doubling, at most 6 hours."""
    if failures < 1:
        return timedelta(0)
    delay: timedelta = BACKOFF_START * 2 ** min(failures - 1, 20)
    return min(delay, BACKOFF_CAP)


def _interleave_hosts(feeds: Sequence[FeedSource]) -> list[int]:
    """Feed indexes ordered round-robin over hosts, so one big host cannot hold every slot."""
    by_host: dict[str, list[int]] = {}
    for index, feed in enumerate(feeds):
        try:
            host = (urlsplit(feed.url).hostname or "").lower()
        except ValueError:
            host = ""
        by_host.setdefault(host, []).append(index)
    queues = list(by_host.values())
    order: list[int] = []
    depth = 0
    while len(order) < len(feeds):
        order.extend(queue[depth] for queue in queues if depth < len(queue))
        depth += 1
    return order
