"""The pipeline every entry point shares: poll → record → match → build → queue → deliver.

`digest once` runs the steps in order, now; the daemon's jobs call the same steps on a
schedule. No step reaches back into an earlier one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from functools import partial

from digest.builder import build_digest
from digest.cluster import SketchCache, cluster_matches, sketch_text
from digest.config import Config, DigestSpec, FeedSource, FolderSource
from digest.delivery import Outcome, Transport, flush_outbox
from digest.mail import build_message, make_message_id
from digest.matcher import Matcher
from digest.models import Article, Digest, Match, Outgoing, SourceProblem
from digest.render import Renderer
from digest.sources.folder import read_folder
from digest.store import FeedState, Store

log = logging.getLogger(__name__)

MATCH_SLICE = 0.02  # seconds of matching between two yields to the event loop


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True, slots=True)
class SourceReport:
    """What one poll of one source gave."""

    name: str
    kind: str  # "folder" | "feed"
    articles: int  # entries read
    new: int = 0
    status: str = "ok"  # ok | not-modified | unchanged | skipped | error
    error: str | None = None
    skipped_files: int = 0


@dataclass(frozen=True, slots=True)
class PollReport:
    sources: tuple[SourceReport, ...]
    new: int  # articles seen for the first time
    matched: dict[str, int]  # new matches per watchlist (the matches are in the store)

    @property
    def matches(self) -> int:
        return sum(self.matched.values())

    @property
    def failed(self) -> tuple[SourceReport, ...]:
        return tuple(s for s in self.sources if s.status == "error")


@dataclass(frozen=True, slots=True)
class QueuedDigest:
    """A digest built for one run: the message is None when it was empty and not sent."""

    spec: DigestSpec
    digest: Digest
    message: Outgoing | None


@dataclass(frozen=True, slots=True)
class OnceReport:
    poll: PollReport
    digests: tuple[QueuedDigest, ...]
    deliveries: tuple[Outcome, ...] = ()

    @property
    def undelivered(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.deliveries if o.status != "sent")


@dataclass
class Runtime:
    """The open resources of one process: config, store, compiled matcher, renderer."""

    config: Config
    store: Store
    matcher: Matcher
    renderer: Renderer
    transport: Transport
    clock: Callable[[], datetime] = utcnow
    progress: Callable[[str, int, int], None] | None = None  # (source name, done, total)
    # called with each batch of new matches inside the transaction that records them (the
    # daemon queues alerts there, so a crash cannot record a match but lose its alert)
    on_new_matches: Callable[[Sequence[Match]], None] | None = None
    # matched articles are sketched for clustering as they are recorded, not all at once
    # when the digest is built
    sketches: SketchCache = field(default_factory=SketchCache)
    _poll_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @classmethod
    def create(cls, config: Config, store: Store, transport: Transport,
               clock: Callable[[], datetime] = utcnow) -> Runtime:
        return cls(config=config, store=store, matcher=Matcher(config.watchlists),
                   renderer=Renderer(templates_dir=config.templates_dir,
                                     timezone=config.timezone),
                   transport=transport, clock=clock)


# ── poll, record, match ─────────────────────────────────────────────────────────────


async def poll(rt: Runtime, *, folders: Sequence[FolderSource] | None = None,
               feeds: Sequence[FeedSource] | None = None, force: bool = False) -> PollReport:
    """Read the given sources (default: all), record new articles and their matches."""
    sources = rt.config.sources
    folders = sources.folders if folders is None else folders
    feeds = sources.feeds if feeds is None else feeds
    async with rt._poll_lock:
        now = rt.clock()
        reports: list[SourceReport] = []
        matched: Counter[str] = Counter()
        for folder in folders:
            report, found = await _poll_folder(rt, folder, now)
            reports.append(report)
            matched.update(found)
        if feeds:
            feed_reports, feed_matched = await _poll_feeds(rt, feeds, now, force=force)
            reports.extend(feed_reports)
            matched.update(feed_matched)
    for report in reports:
        if report.error:
            log.warning("source %s: %s", report.name, report.error)
    return PollReport(tuple(reports), sum(r.new for r in reports), dict(matched))


async def _record(rt: Runtime, articles: Sequence[Article], now: datetime,
                  feed_state: FeedState | None = None) -> tuple[int, Counter[str]]:
    """Match the articles not seen before, then record them with their matches (and the
    feed's new state) in one transaction: a crash in between must not leave an article
    seen but never matched, nor a feed's validators saved for articles never recorded."""
    candidates = [replace(article, first_seen=now) for article in rt.store.unseen(articles)]
    matches = await _match_all(rt.matcher, candidates, rt.sketches)
    with rt.store.transaction(durable=False):  # a power cut can only make us refetch
        new, found = (rt.store.record_articles(candidates, matches, now) if candidates
                      else ([], []))
        if found and rt.on_new_matches is not None:
            rt.on_new_matches(found)
        if feed_state is not None:
            rt.store.save_feed_state(feed_state)
    return len(new), Counter(match.watchlist for match in found)


async def _poll_folder(rt: Runtime, folder: FolderSource,
                       now: datetime) -> tuple[SourceReport, Counter[str]]:
    result = await asyncio.to_thread(read_folder, folder)
    new, matches = await _record(rt, result.articles, now)
    status = "error" if result.error else "ok"
    report = SourceReport(folder.name, "folder", len(result.articles), new, status,
                          result.error, len(result.skipped))
    if rt.progress:
        rt.progress(folder.name, 1, 1)
    return report, matches


async def _poll_feeds(rt: Runtime, feeds: Sequence[FeedSource], now: datetime, *,
                      force: bool) -> tuple[list[SourceReport], Counter[str]]:
    from digest.sources.feeds import FeedPoller, FeedResult

    reports: list[SourceReport] = []
    fresh: dict[str, tuple[int, Counter[str]]] = {}  # feed name: (new articles, matches)
    done = 0

    def on_result(result: FeedResult) -> None:
        nonlocal done
        done += 1
        if rt.progress:
            rt.progress(result.feed.name, done, len(feeds))

    async def record(result: FeedResult, state: FeedState) -> None:
        fresh[result.feed.name] = await _record(rt, result.articles, now, state)

    async with FeedPoller() as poller:
        results = await poller.poll(feeds, rt.store, now, force=force, progress=on_result,
                                    record=record)
    for result in results:
        status = "ok" if result.status == "new" else result.status
        added, _ = fresh.get(result.feed.name, (0, Counter()))
        reports.append(SourceReport(result.feed.name, "feed", result.entries,
                                    added, status, result.error))
    return reports, sum((found for _, found in fresh.values()), Counter())


async def _match_all(matcher: Matcher, articles: Sequence[Article],
                     sketches: SketchCache) -> list[Match]:
    """The articles' matches; each matched article is sketched for clustering too.

    This runs on the event loop's thread, yielding to the loop every ``MATCH_SLICE``: in a
    worker thread it would contend with the loop for the GIL (each socket send or SQLite
    call then waits for it, which measured slower overall), and a large batch must still
    not hold up the loop (fetches, alerts, signals, the watchdog). One article holds it
    at most about two ``REGEX_SECONDS`` (a slow user regex on its title and body)."""
    matches: list[Match] = []
    until = time.monotonic() + MATCH_SLICE
    for article in articles:
        if time.monotonic() >= until:
            await asyncio.sleep(0)
            until = time.monotonic() + MATCH_SLICE
        found = matcher.match(article)
        for match in found:
            sketches.sketch(match.article.id, sketch_text(match))
        matches.extend(found)
    return matches


# ── build and queue ────────────────────────────────────────────────────────────────


def build_and_queue(rt: Runtime, spec: DigestSpec, *, since: timedelta | None = None,
                    to: tuple[str, ...] | None = None) -> QueuedDigest:
    """Build the digest of everything matched since its watermark and queue it.

    The watermark advances and the message enters the outbox in one transaction, so a
    crash leaves either both or neither. ``since`` widens the window (articles already
    sent are shown again: the user asked for them). Stories already sent as an alert are
    marked so.
    """
    store = rt.store
    with store.transaction():
        now = rt.clock()
        watermark = store.watermark(spec.name)
        if since is not None:
            start = now - since
        else:
            start = watermark if watermark is not None else now - spec.since
        matches = store.matches_between(spec.watchlists, start, now)
        recipients = to or spec.to
        alerted = frozenset(store.alerted_keys(m.article.id for m in matches))
        digest = build_digest(spec, matches, period_start=start, period_end=now,
                              recipients=recipients, problems=source_problems(rt, start),
                              alerted=alerted,
                              clusterer=partial(cluster_matches, cache=rt.sketches))
        message = None
        if not digest.is_empty or spec.send_empty:
            message = render_message(rt, digest, key=f"{spec.name}|{start.isoformat()}|"
                                     f"{now.isoformat()}|{','.join(recipients)}")
        keys = {story.lead.article.id for section in digest.sections
                for story in section.stories}
        store.commit_digest(spec.name, now, message, keys)
    return QueuedDigest(spec, digest, message)


def render_message(rt: Runtime, digest: Digest, *, key: str, kind: str = "digest") -> Outgoing:
    rendered = rt.renderer.render_digest(digest)
    sender = rt.config.delivery.sender
    return build_message(rendered, kind=kind, name=digest.name, sender=sender,
                         recipients=digest.recipients,
                         message_id=make_message_id(kind, digest.name, key, sender),
                         date=rt.clock())


def source_problems(rt: Runtime, since: datetime) -> tuple[SourceProblem, ...]:
    """Feeds that failed since ``since``, for the digest's health footer."""
    problems = []
    for state in rt.store.feed_states():
        if state.last_error and (state.last_error_at is None or state.last_error_at >= since):
            problems.append(SourceProblem(state.name, state.last_error, state.failures,
                                          state.last_error_at))
    return tuple(problems)


async def deliver(rt: Runtime, *, force: bool = False) -> list[Outcome]:
    """Send what is due; ``force`` (digest once) also retries messages still in backoff."""
    return await flush_outbox(rt.store, rt.transport, rt.clock(), force=force,
                              max_age=rt.config.delivery.give_up_after)


def prune(rt: Runtime) -> int:
    """Drop article text older than ``retention`` (ids stay, so nothing is new again), but
    never text a digest has yet to include."""
    now = rt.clock()
    cutoff = now - rt.config.retention
    for spec in rt.config.digests:
        watermark = rt.store.watermark(spec.name)
        cutoff = min(cutoff, watermark if watermark is not None else now - spec.since)
    return rt.store.prune(cutoff)


# ── digest once ────────────────────────────────────────────────────────────────────


async def run_once(rt: Runtime, *, digests: Sequence[DigestSpec], since: timedelta | None = None,
                   to: tuple[str, ...] | None = None) -> OnceReport:
    """Poll every source now, then build, queue and deliver each of ``digests``."""
    report = await poll(rt, force=True)
    queued = []
    for spec in digests:
        queued.append(build_and_queue(rt, spec, since=since, to=to))
    outcomes = await deliver(rt, force=True)
    prune(rt)
    return OnceReport(report, tuple(queued), tuple(outcomes))
