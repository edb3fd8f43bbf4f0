"""The daemon's scheduler jobs, built from the configuration, and their bookkeeping.

Jobs (memory job store, rebuilt from the TOML at start and on reload; our own state in
SQLite records what ran):

    poll:folder:NAME, poll:feed:NAME   every source at its ``every``, with a small jitter;
                                       the first run at once
    digest:NAME                        the digest's cron schedule in the configured zone
    catchup:NAME                       once at start, for a fire time missed while down
    deliver                            every minute: outbox retries, and alerts that waited
    alert                              once, when waiting alerts may go out

A digest run is recorded per *slot*: its fire time as local wall-clock time. The two
firings of ``30 1 * * *`` in the autumn double hour (00:30Z and 01:30Z in Europe/London)
share one slot, and so do a catch-up and a late scheduled run, so neither sends twice.
The slot is claimed in the same transaction that queues the digest.

Catch-up: at start, a digest whose latest fire time passed after its last sent slot and
after the daemon first scheduled it is sent once at once. On the very first start nothing
is caught up: the first digest goes at its first scheduled time (covering ``since``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import partial
from zoneinfo import ZoneInfo

from apscheduler.events import (  # type: ignore[import-untyped]
    EVENT_JOB_MISSED,
    JobExecutionEvent,
)
from apscheduler.schedulers.asyncio import AsyncIOScheduler  # type: ignore[import-untyped]
from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped]
from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]

from digest import alerts
from digest.config import Config, DigestSpec, FeedSource, FolderSource
from digest.delivery import Outcome
from digest.errors import DigestError
from digest.models import Match
from digest.pipeline import QueuedDigest, Runtime, build_and_queue, deliver, poll, prune

log = logging.getLogger(__name__)

DELIVER_EVERY = timedelta(minutes=1)
MAX_JITTER = 60.0  # seconds
_LOOKBACK = (timedelta(hours=1), timedelta(days=1), timedelta(days=8), timedelta(days=32),
             timedelta(days=367), timedelta(days=4 * 366))
_TICK = timedelta(microseconds=1)


# time rules (pure) ----------------------------------------------------------------------
def digest_trigger(spec: DigestSpec, tz: ZoneInfo) -> CronTrigger:
    return CronTrigger.from_crontab(spec.schedule, timezone=tz)


def fire_times(trigger: CronTrigger, start: datetime, end: datetime) -> list[datetime]:
    """The trigger's fire times in (start, end], as aware UTC times."""
    found: list[datetime] = []
    cursor = start.astimezone(timezone.utc) + _TICK
    while True:
        fire = trigger.get_next_fire_time(None, cursor)
        if fire is None:
            return found
        fire = fire.astimezone(timezone.utc)
        if fire > end:
            return found
        found.append(fire)
        cursor = fire + _TICK  # UTC arithmetic: wall-clock arithmetic loses the fold


def previous_fire_time(trigger: CronTrigger, now: datetime) -> datetime | None:
    """The latest fire time at or before ``now`` (UTC), looking back up to four years."""
    for back in _LOOKBACK:
        times = fire_times(trigger, now - back - _TICK, now)
        if times:
            return times[-1]
    return None


def next_fire_time(trigger: CronTrigger, now: datetime) -> datetime | None:
    fire = trigger.get_next_fire_time(None, now.astimezone(timezone.utc))
    return None if fire is None else fire.astimezone(timezone.utc)


def slot_key(fire_time: datetime, tz: ZoneInfo) -> str:
    """The local wall-clock time of a fire time, without the fold: one slot per DST double."""
    return fire_time.astimezone(tz).replace(tzinfo=None, fold=0).isoformat(timespec="minutes")


def catch_up_due(fire_time: datetime | None, *, last_slot: datetime | None,
                 scheduled_since: datetime) -> bool:
    """A fire time was missed: after the daemon first scheduled the digest, and after the
    last slot it sent."""
    if fire_time is None or fire_time <= scheduled_since:
        return False
    return last_slot is None or fire_time > last_slot


def poll_interval(config: Config, source: FolderSource | FeedSource) -> timedelta:
    return source.every or config.sources.every


def jitter_for(interval: timedelta) -> float | None:
    """A small random delay that spreads polls: 10 % of the interval, at most a minute."""
    seconds = min(MAX_JITTER, interval.total_seconds() / 10)
    return seconds if seconds >= 0.1 else None


# the digest run ----------------------------------------------------------------------------
def queue_digest(rt: Runtime, spec: DigestSpec, fire_time: datetime) -> QueuedDigest | None:
    """Build and queue the digest for the slot of ``fire_time``; None when that slot is done.

    The slot claim and ``pipeline.build_and_queue`` share one transaction: a digest is
    queued for a slot exactly once, even across the autumn double hour or a crash.
    """
    with rt.store.transaction():
        key = slot_key(fire_time, rt.config.timezone)
        if not rt.store.claim_digest_slot(spec.name, key, fire_time, rt.clock()):
            return None
        return build_and_queue(rt, spec)


# the jobs ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Signature:
    kind: str
    detail: str


class Jobs:
    """Keeps the scheduler's jobs in line with ``rt.config`` and runs them.

    Every job is ``async def`` and registers itself as in flight, so a stop can wait for
    work to finish before the scheduler (which would cancel it) shuts down.
    """

    def __init__(self, rt: Runtime, scheduler: AsyncIOScheduler, *,
                 on_status: Callable[[str], None] | None = None) -> None:
        self.rt = rt
        self.scheduler = scheduler
        self.on_status = on_status
        self._signatures: dict[str, _Signature] = {}
        self._inflight: set[asyncio.Task[object]] = set()
        self._delivering = asyncio.Lock()  # one outbox flush at a time: never send twice
        scheduler.add_listener(self._missed, EVENT_JOB_MISSED)
        rt.on_new_matches = self._queue_alerts  # in the transaction recording the matches

    def _queue_alerts(self, matches: Sequence[Match]) -> None:
        alerts.queue_matches(self.rt, matches)

    # building -------------------------------------------------------------------------
    def sync(self) -> None:
        """Add, replace or remove jobs so they match the configuration; jobs whose
        schedule did not change are left alone (a reload does not re-poll everything)."""
        config = self.rt.config
        now = self.rt.clock()
        wanted: dict[str, tuple[_Signature, Callable[[str], None]]] = {}
        sources: list[tuple[str, FolderSource | FeedSource]] = [
            *(("folder", f) for f in config.sources.folders),
            *(("feed", f) for f in config.sources.feeds)]
        for kind, source in sources:
            every = poll_interval(config, source)
            wanted[f"poll:{kind}:{source.name}"] = (
                _Signature("poll", str(every.total_seconds())),
                partial(self._add_poll, kind=kind, name=source.name, every=every))
        for spec in config.digests:
            self.rt.store.scheduled_since(spec.name, now)
            wanted[f"digest:{spec.name}"] = (
                _Signature("digest", f"{spec.schedule}|{config.timezone.key}"),
                partial(self._add_digest, spec=spec))
        for job_id in [j for j in self._signatures if j not in wanted]:
            self._remove(job_id)
        for job_id, (signature, add) in wanted.items():
            if self._signatures.get(job_id) != signature:
                add(job_id)
                self._signatures[job_id] = signature
        if self.scheduler.get_job("deliver") is None:
            self.scheduler.add_job(self.deliver_job, IntervalTrigger(
                seconds=DELIVER_EVERY.total_seconds(), timezone=config.timezone),
                id="deliver", name="deliver", next_run_time=now)

    def _add_poll(self, job_id: str, *, kind: str, name: str, every: timedelta) -> None:
        trigger = IntervalTrigger(seconds=every.total_seconds(), jitter=jitter_for(every),
                                  timezone=self.rt.config.timezone)
        self.scheduler.add_job(self.poll_job, trigger, args=(kind, name), id=job_id,
                               name=job_id, replace_existing=True,
                               next_run_time=self.rt.clock())

    def _add_digest(self, job_id: str, *, spec: DigestSpec) -> None:
        self.scheduler.add_job(self.digest_job, digest_trigger(spec, self.rt.config.timezone),
                               args=(spec.name,), id=job_id, name=job_id,
                               replace_existing=True)

    def _remove(self, job_id: str) -> None:
        if self.scheduler.get_job(job_id) is not None:
            self.scheduler.remove_job(job_id)
        self._signatures.pop(job_id, None)

    def catch_up(self) -> list[str]:
        """Schedule a run now for every digest that missed a fire time while we were down."""
        now = self.rt.clock()
        names = []
        for spec in self.rt.config.digests:
            fire = previous_fire_time(digest_trigger(spec, self.rt.config.timezone), now)
            if catch_up_due(fire, last_slot=self.rt.store.last_digest_slot(spec.name),
                            scheduled_since=self.rt.store.scheduled_since(spec.name, now)):
                log.info("digest %s: catching up the run of %s", spec.name, fire)
                self._run_soon(f"catchup:{spec.name}", spec.name)
                names.append(spec.name)
        return names

    def _run_soon(self, job_id: str, digest: str) -> None:
        self.scheduler.add_job(self.digest_job, "date", run_date=self.rt.clock(),
                               args=(digest,), id=job_id, name=job_id, replace_existing=True)

    def _missed(self, event: JobExecutionEvent) -> None:
        """A digest run skipped by the misfire grace time (a long suspend) is caught up."""
        if event.job_id.startswith("digest:"):
            name = event.job_id.removeprefix("digest:")
            log.warning("digest %s: the run of %s was missed; sending it now", name,
                        event.scheduled_run_time)
            self._run_soon(f"catchup:{name}", name)

    # running ------------------------------------------------------------------------------
    @property
    def in_flight(self) -> int:
        return len(self._inflight)

    async def drain(self, timeout: float) -> bool:
        """Wait for running jobs; False when some were still running after ``timeout``."""
        pending = {task for task in self._inflight if task is not asyncio.current_task()}
        if not pending:
            return True
        log.info("waiting for %d running job(s)", len(pending))
        _, still = await asyncio.wait(pending, timeout=timeout)
        return not still

    async def _tracked(self, job: str, work: Callable[[], Awaitable[str]]) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._inflight.add(task)
        try:
            try:
                summary, ok = await work(), True
            except DigestError as exc:
                log.error("%s: %s", job, exc)
                summary, ok = str(exc), False
            if summary:
                self.rt.store.record_job_result(job, self.rt.clock(), ok, summary)
        finally:
            if task is not None:
                self._inflight.discard(task)

    async def poll_job(self, kind: str, name: str) -> None:
        await self._tracked(f"poll:{kind}:{name}", lambda: self._poll(kind, name))

    async def _poll(self, kind: str, name: str) -> str:
        sources = self.rt.config.sources
        if kind == "folder":
            folders = [f for f in sources.folders if f.name == name]
            report = await poll(self.rt, folders=folders, feeds=())
        else:
            feeds = [f for f in sources.feeds if f.name == name]
            report = await poll(self.rt, folders=(), feeds=feeds)
        if not report.sources:
            return ""  # removed by a reload since it was scheduled
        names = alerts.alerting_watchlists(self.rt.config) if self.rt.config.alerts else ()
        queued = sum(count for name, count in report.matched.items() if name in names)
        summary = (f"{report.new} new, {report.matches} match(es)"
                   + (f", {queued} to alert" if queued else ""))
        failed = report.failed
        if failed:
            summary += "; failed: " + "; ".join(f"{s.name}: {s.error}" for s in failed)
        if self.on_status:
            self.on_status(f"{name}: {summary}")
        if queued:
            await self._alerts()
        return summary

    async def digest_job(self, name: str) -> None:
        await self._tracked(f"digest:{name}", lambda: self._digest(name))

    async def _digest(self, name: str) -> str:
        spec = next((d for d in self.rt.config.digests if d.name == name), None)
        if spec is None:
            return ""
        now = self.rt.clock()
        fire = previous_fire_time(digest_trigger(spec, self.rt.config.timezone), now)
        if fire is None:
            return ""
        queued = queue_digest(self.rt, spec, fire)
        if queued is None:
            log.info("digest %s: the run of %s was already sent", name, fire)
            return ""
        pruned = prune(self.rt)  # each digest run drops article text past `retention`
        if pruned:
            log.info("dropped the text of %d article(s) older than the retention", pruned)
        stories = queued.digest.story_count
        summary = f"{stories} stor{'y' if stories == 1 else 'ies'}"
        summary += ", queued" if queued.message else ", nothing to send"
        if queued.message:
            outcomes = await self._deliver_outbox()
            summary += "; " + ", ".join(f"{o.status}" for o in outcomes
                                        if o.message.message_id == queued.message.message_id)
        if self.on_status:
            self.on_status(f"digest {name}: {summary}")
        return summary

    async def deliver_job(self) -> None:
        await self._tracked("deliver", self._deliver)

    async def _deliver(self) -> str:
        await self._alerts(deliver_now=False)
        outcomes = await self._deliver_outbox()
        if not outcomes:
            return ""
        return ", ".join(f"{o.message.name}: {o.status} ({o.detail})" for o in outcomes)

    async def _deliver_outbox(self) -> list[Outcome]:
        async with self._delivering:
            return await deliver(self.rt)

    async def alert_job(self) -> None:
        await self._tracked("alert", self._alerts)

    async def _alerts(self, *, deliver_now: bool = True) -> str:
        """Send waiting alerts when allowed, else schedule the ``alert`` job for then."""
        message = alerts.send_if_due(self.rt)
        if message is None:
            when = alerts.due_time(self.rt)
            if when is not None:
                self.scheduler.add_job(self.alert_job, "date", run_date=when, id="alert",
                                       name="alert", replace_existing=True)
            return ""
        if deliver_now:
            await self._deliver_outbox()
        return f"alert queued: {message.subject}"
