"""Scheduler jobs with an injected clock: slots, the autumn DST double hour, catch-up, and
rebuilding jobs on reload. A real store and Maildir; the scheduler is started paused, so
the tests call the jobs themselves at the times they choose."""

from __future__ import annotations

import asyncio
import mailbox
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from digest.config import (
    Alerts,
    Config,
    Delivery,
    DigestSpec,
    FeedSource,
    FolderSource,
    Sources,
    Watchlist,
)
from digest.delivery import MaildirTransport, Receipt
from digest.jobs import (
    Jobs,
    catch_up_due,
    digest_trigger,
    fire_times,
    jitter_for,
    previous_fire_time,
    queue_digest,
    slot_key,
)
from digest.models import Article, Match, Outgoing
from digest.pipeline import Runtime
from digest.store import Store

LONDON = ZoneInfo("Europe/London")
UTC = timezone.utc


class Clock:
    """The injected clock: tests move ``now`` by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def make_config(tmp_path: Path, *, schedule: str = "30 1 * * *", send_empty: bool = False,
                alerts: Alerts | None = None) -> Config:
    return Config(
        path=tmp_path / "digest.toml", timezone=LONDON, state_dir=None, templates_dir=None,
        sources=Sources(folders=(FolderSource("seeds", tmp_path / "seeds"),)),
        watchlists=(Watchlist("Korea", terms=("Kim Jong Un", "Pyongyang"),
                              alert=alerts is not None),),
        digests=(DigestSpec("Night", schedule, ("Korea",), ("you@example.com",),
                            send_empty=send_empty),),
        delivery=Delivery(method="maildir", maildir=tmp_path / "mail"),
        alerts=alerts)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "state" / "digest.sqlite") as opened:
        yield opened


def make_runtime(config: Config, store: Store, clock: Clock) -> Runtime:
    return Runtime.create(config, store, MaildirTransport(config.path.parent / "mail"), clock)


def add_story(rt: Runtime, title: str, body: str = "") -> list[Match]:
    """What a poll does: record a new article at the clock's time and its matches."""
    article = Article(source="seeds", id=title, title=title, body=body or f"{title}. More.")
    new = rt.store.add_articles([article], rt.clock())
    matches = [m for a in new for m in rt.matcher.match(a)]
    rt.store.add_matches(matches)
    return matches


def mails(tmp_path: Path) -> list[str]:
    box = tmp_path / "mail"
    if not box.exists():
        return []
    return sorted(str(m["Subject"]) for m in mailbox.Maildir(box, create=False))


@pytest.fixture
async def scheduler() -> AsyncIterator[AsyncIOScheduler]:
    sched = AsyncIOScheduler(timezone=LONDON)
    sched.start(paused=True)
    yield sched
    sched.shutdown(wait=False)


# the time rules --------------------------------------------------------------------------
def test_autumn_double_hour_fires_twice_but_is_one_slot() -> None:
    trigger = digest_trigger(DigestSpec("Night", "30 1 * * *", (), ()), LONDON)
    start = datetime(2025, 10, 25, 12, tzinfo=UTC)
    times = fire_times(trigger, start, start + timedelta(days=2))
    assert times == [datetime(2025, 10, 26, 0, 30, tzinfo=UTC),
                     datetime(2025, 10, 26, 1, 30, tzinfo=UTC),
                     datetime(2025, 10, 27, 1, 30, tzinfo=UTC)]
    assert [slot_key(t, LONDON) for t in times] == [
        "2025-10-26T01:30", "2025-10-26T01:30", "2025-10-27T01:30"]


def test_spring_gap_fires_at_most_once() -> None:
    trigger = digest_trigger(DigestSpec("Night", "30 1 * * *", (), ()), LONDON)
    day = datetime(2025, 3, 29, 12, tzinfo=UTC)
    fired = fire_times(trigger, day, day + timedelta(days=1))
    assert len(fired) <= 1
    assert fired == [datetime(2025, 3, 30, 1, 30, tzinfo=UTC)]  # 02:30 BST: not skipped


@pytest.mark.parametrize(("schedule", "now", "expected"), [
    ("* * * * *", datetime(2025, 6, 2, 7, 0, 30, tzinfo=UTC),
     datetime(2025, 6, 2, 7, 0, tzinfo=UTC)),
    ("0 7 * * mon-fri", datetime(2025, 6, 2, 6, 59, tzinfo=UTC),  # Monday 07:59 BST
     datetime(2025, 6, 2, 6, 0, tzinfo=UTC)),
    ("0 7 * * mon-fri", datetime(2025, 6, 2, 5, 0, tzinfo=UTC),  # Monday before 07:00
     datetime(2025, 5, 30, 6, 0, tzinfo=UTC)),  # … Friday's
    ("0 7 1 * *", datetime(2025, 6, 20, tzinfo=UTC), datetime(2025, 6, 1, 6, 0, tzinfo=UTC)),
    ("0 7 29 2 *", datetime(2025, 6, 20, tzinfo=UTC), datetime(2024, 2, 29, 7, 0, tzinfo=UTC)),
])
def test_previous_fire_time(schedule: str, now: datetime, expected: datetime) -> None:
    trigger = digest_trigger(DigestSpec("D", schedule, (), ()), LONDON)
    assert previous_fire_time(trigger, now) == expected


def test_catch_up_rules() -> None:
    t = datetime(2025, 6, 2, 6, tzinfo=UTC)
    day = timedelta(days=1)
    assert not catch_up_due(None, last_slot=None, scheduled_since=t - day)
    assert not catch_up_due(t, last_slot=None, scheduled_since=t + day)  # first start
    assert catch_up_due(t, last_slot=None, scheduled_since=t - day)
    assert catch_up_due(t, last_slot=t - day, scheduled_since=t - 7 * day)
    assert not catch_up_due(t, last_slot=t, scheduled_since=t - 7 * day)


def test_jitter_is_small_and_bounded() -> None:
    assert jitter_for(timedelta(seconds=2)) == pytest.approx(0.2)
    assert jitter_for(timedelta(minutes=5)) == 30
    assert jitter_for(timedelta(hours=2)) == 60
    assert jitter_for(timedelta(milliseconds=500)) is None


# digest runs -----------------------------------------------------------------------------
async def test_autumn_double_hour_sends_one_digest(tmp_path: Path, store: Store,
                                                   scheduler: AsyncIOScheduler) -> None:
    clock = Clock(datetime(2025, 10, 25, 23, 0, tzinfo=UTC))
    rt = make_runtime(make_config(tmp_path), store, clock)
    add_story(rt, "Kim Jong Un visits a factory")
    jobs = Jobs(rt, scheduler)
    clock.now = datetime(2025, 10, 26, 0, 30, 1, tzinfo=UTC)  # 01:30 BST
    await jobs.digest_job("Night")
    assert len(mails(tmp_path)) == 1
    add_story(rt, "Pyongyang parade")
    clock.now = datetime(2025, 10, 26, 1, 30, 1, tzinfo=UTC)  # 01:30 GMT, the same slot
    await jobs.digest_job("Night")
    assert len(mails(tmp_path)) == 1
    clock.now = datetime(2025, 10, 27, 1, 30, 2, tzinfo=UTC)  # the next night
    await jobs.digest_job("Night")
    subjects = mails(tmp_path)
    assert len(subjects) == 2
    assert any("Pyongyang" in s for s in subjects)


async def test_catch_up_once_after_downtime_never_on_first_start(
        tmp_path: Path, store: Store, scheduler: AsyncIOScheduler) -> None:
    config = make_config(tmp_path, schedule="0 7 * * *")
    clock = Clock(datetime(2025, 6, 2, 12, 0, tzinfo=UTC))  # first start, after 07:00
    rt = make_runtime(config, store, clock)
    jobs = Jobs(rt, scheduler)
    jobs.sync()
    assert jobs.catch_up() == []
    add_story(rt, "Kim Jong Un opens a school")
    clock.now = datetime(2025, 6, 3, 6, 0, 5, tzinfo=UTC)  # 07:00 BST: the scheduled run
    await jobs.digest_job("Night")
    assert len(mails(tmp_path)) == 1
    # down from the 3rd to the 5th: two runs missed, one catch-up
    add_story(rt, "Pyongyang hosts talks")
    clock.now = datetime(2025, 6, 5, 9, 0, tzinfo=UTC)
    assert jobs.catch_up() == ["Night"]
    assert scheduler.get_job("catchup:Night") is not None
    await jobs.digest_job("Night")
    assert len(mails(tmp_path)) == 2
    clock.now += timedelta(minutes=5)  # a second restart the same morning
    assert jobs.catch_up() == []
    await jobs.digest_job("Night")  # a late scheduled run: the slot is done
    assert len(mails(tmp_path)) == 2


async def test_empty_digest_claims_its_slot_but_sends_nothing(
        tmp_path: Path, store: Store, scheduler: AsyncIOScheduler) -> None:
    clock = Clock(datetime(2025, 6, 2, 0, 30, 5, tzinfo=UTC))
    rt = make_runtime(make_config(tmp_path), store, clock)
    await Jobs(rt, scheduler).digest_job("Night")
    assert mails(tmp_path) == []
    assert store.last_digest_slot("Night") == datetime(2025, 6, 2, 0, 30, tzinfo=UTC)


# building jobs ---------------------------------------------------------------------------
async def test_sync_builds_and_reconciles_jobs(tmp_path: Path, store: Store,
                                               scheduler: AsyncIOScheduler) -> None:
    config = make_config(tmp_path)
    config = replace(config, sources=replace(
        config.sources, every=timedelta(minutes=15),
        feeds=(FeedSource("A", "http://127.0.0.1:9/a"),
               FeedSource("B", "http://127.0.0.1:9/b", every=timedelta(minutes=5)))))
    clock = Clock(datetime.now(UTC))
    rt = make_runtime(config, store, clock)
    jobs = Jobs(rt, scheduler)
    jobs.sync()
    ids = {job.id for job in scheduler.get_jobs()}
    assert ids == {"poll:folder:seeds", "poll:feed:A", "poll:feed:B", "digest:Night", "deliver"}
    assert scheduler.get_job("poll:feed:B").trigger.interval == timedelta(minutes=5)
    assert scheduler.get_job("poll:feed:A").trigger.interval == timedelta(minutes=15)
    digest_job = scheduler.get_job("digest:Night")
    assert str(digest_job.trigger.timezone) == "Europe/London"
    kept_a = scheduler.get_job("poll:feed:A").next_run_time

    # reload: B removed, A unchanged, a new digest, the folder polled more often
    rt.config = replace(config, sources=replace(
        config.sources, folders=(FolderSource("seeds", tmp_path / "seeds",
                                              every=timedelta(minutes=1)),),
        feeds=config.sources.feeds[:1]),
        digests=(*config.digests, DigestSpec("Weekly", "0 8 * * sun", ("Korea",), ("a@b.c",))))
    jobs.sync()
    ids = {job.id for job in scheduler.get_jobs()}
    assert ids == {"poll:folder:seeds", "poll:feed:A", "digest:Night", "digest:Weekly",
                   "deliver"}
    assert scheduler.get_job("poll:feed:A").next_run_time == kept_a
    assert scheduler.get_job("poll:folder:seeds").trigger.interval == timedelta(minutes=1)
    assert store.scheduled_since("Weekly", clock.now + timedelta(days=9)) <= clock.now


# running jobs -------------------------------------------------------------------------------
class SlowTransport:
    """A real transport's shape, slow enough for flushes to overlap; counts what it sends."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, message: Outgoing) -> Receipt:
        await asyncio.sleep(0.2)
        self.sent.append(message.message_id)
        return Receipt(where="slow", refused={})


async def test_overlapping_flushes_send_once_and_drain_waits(
        tmp_path: Path, store: Store, scheduler: AsyncIOScheduler) -> None:
    clock = Clock(datetime(2025, 6, 2, 0, 30, 5, tzinfo=UTC))
    transport = SlowTransport()
    rt = Runtime.create(make_config(tmp_path), store, transport, clock)
    clock.now -= timedelta(minutes=5)
    add_story(rt, "Kim Jong Un visits a factory")
    clock.now += timedelta(minutes=5)
    queued = queue_digest(rt, rt.config.digests[0], datetime(2025, 6, 2, 0, 30, tzinfo=UTC))
    assert queued is not None and queued.message is not None
    jobs = Jobs(rt, scheduler)
    running = [asyncio.create_task(jobs.deliver_job()) for _ in range(3)]
    await asyncio.sleep(0.05)
    assert jobs.in_flight == 3
    assert await jobs.drain(timeout=5)
    assert all(task.done() for task in running)
    assert transport.sent == [queued.message.message_id]
    assert [e.status for e in store.outbox()] == ["sent"]


async def test_drain_gives_up_after_its_timeout(tmp_path: Path, store: Store,
                                                scheduler: AsyncIOScheduler) -> None:
    clock = Clock(datetime(2025, 6, 2, 0, 30, 5, tzinfo=UTC))
    rt = Runtime.create(make_config(tmp_path), store, SlowTransport(), clock)
    clock.now -= timedelta(minutes=5)
    add_story(rt, "Kim Jong Un visits a factory")
    clock.now += timedelta(minutes=5)
    queue_digest(rt, rt.config.digests[0], datetime(2025, 6, 2, 0, 30, tzinfo=UTC))
    jobs = Jobs(rt, scheduler)
    task = asyncio.create_task(jobs.deliver_job())
    await asyncio.sleep(0.05)
    assert not await jobs.drain(timeout=0.01)
    await task
