"""Alert batching, min_interval and quiet hours with an injected clock, a real store and
Maildir: nothing is dropped, matches that wait go together, alerted stories are marked in
the next digest."""

from __future__ import annotations

import email
import mailbox
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import cast

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from digest import alerts
from digest.config import Alerts
from digest.jobs import Jobs, queue_digest
from digest.pipeline import Runtime
from digest.store import Store
from tests.test_jobs import LONDON, Clock, add_story, make_config, make_runtime

UTC = timezone.utc
NIGHT = ((22, 0), (7, 0))
RULES = Alerts(to=("alerts@example.com",), min_interval=timedelta(minutes=10),
               quiet_hours=NIGHT)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON).astimezone(UTC)  # type: ignore[misc]


# the time rules --------------------------------------------------------------------------
@pytest.mark.parametrize(("moment", "expected"), [
    (local(2025, 6, 2, 23, 0), local(2025, 6, 3, 7, 0)),  # after the start: next morning
    (local(2025, 6, 3, 3, 0), local(2025, 6, 3, 7, 0)),  # after midnight: this morning
    (local(2025, 6, 2, 22, 0), local(2025, 6, 3, 7, 0)),  # the start is inside
    (local(2025, 6, 3, 7, 0), None),  # the end is outside
    (local(2025, 6, 2, 12, 0), None),
    (local(2025, 10, 25, 23, 30), local(2025, 10, 26, 7, 0)),  # a 25-hour day
])
def test_quiet_window_across_midnight(moment: datetime, expected: datetime | None) -> None:
    assert alerts.quiet_until(moment, NIGHT, LONDON) == expected


def test_quiet_window_within_a_day_and_none() -> None:
    lunch = ((12, 0), (13, 30))
    assert alerts.quiet_until(local(2025, 6, 2, 12, 15), lunch, LONDON) == local(2025, 6, 2, 13, 30)
    assert alerts.quiet_until(local(2025, 6, 2, 13, 30), lunch, LONDON) is None
    assert alerts.quiet_until(local(2025, 6, 2, 3, 0), None, LONDON) is None
    assert alerts.quiet_until(local(2025, 6, 2, 3, 0), ((3, 0), (3, 0)), LONDON) is None


def test_next_alert_time_throttles_then_respects_quiet_hours() -> None:
    now = local(2025, 6, 2, 12, 3)
    assert alerts.next_alert_time(now, last_sent=None, rules=RULES, tz=LONDON) == now
    last = local(2025, 6, 2, 12, 0)
    assert (alerts.next_alert_time(now, last_sent=last, rules=RULES, tz=LONDON)
            == local(2025, 6, 2, 12, 10))
    late = local(2025, 6, 2, 21, 55)  # allowed at 22:05, which is quiet: 07:00
    assert (alerts.next_alert_time(late, last_sent=local(2025, 6, 2, 21, 55), rules=RULES,
                                   tz=LONDON) == local(2025, 6, 3, 7, 0))


# the job ---------------------------------------------------------------------------------
@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "state" / "digest.sqlite") as opened:
        yield opened


@pytest.fixture
async def scheduler() -> AsyncIterator[AsyncIOScheduler]:
    sched = AsyncIOScheduler(timezone=LONDON)
    sched.start(paused=True)
    yield sched
    sched.shutdown(wait=False)


def alert_mails(tmp_path: Path) -> list[EmailMessage]:
    box = tmp_path / "mail"
    if not box.exists():
        return []
    maildir = mailbox.Maildir(box, create=False)
    parsed = [cast(EmailMessage, email.message_from_bytes(maildir.get_bytes(key),
                                                          policy=policy.default))
              for key in maildir.iterkeys()]
    return sorted((m for m in parsed if "alert" in str(m["Message-ID"])),
                  key=lambda m: str(m["Date"]))


def text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return cast(str, body.get_content())


def found_by_poll(rt: Runtime, *titles: str) -> int:
    matches = [m for title in titles for m in add_story(rt, title)]
    return alerts.queue_matches(rt, matches)


async def test_batching_throttling_and_quiet_hours(tmp_path: Path, store: Store,
                                                   scheduler: AsyncIOScheduler) -> None:
    clock = Clock(local(2025, 6, 2, 12, 0))
    rt = make_runtime(make_config(tmp_path, alerts=RULES), store, clock)
    jobs = Jobs(rt, scheduler)

    # one poll, two matches: one mail at once
    assert found_by_poll(rt, "Kim Jong Un visits a factory", "Pyongyang parade") == 2
    await jobs.alert_job()
    [first] = alert_mails(tmp_path)
    assert "Kim Jong Un visits a factory" in text_of(first)
    assert "Pyongyang parade" in text_of(first)
    assert first["To"] == "alerts@example.com"

    # two more within min_interval: they wait, then go together
    clock.now = local(2025, 6, 2, 12, 3)
    found_by_poll(rt, "Kim Jong Un meets envoy")
    await jobs.alert_job()
    clock.now = local(2025, 6, 2, 12, 5)
    found_by_poll(rt, "Pyongyang flood warning")
    await jobs.alert_job()
    assert len(alert_mails(tmp_path)) == 1
    waiting = scheduler.get_job("alert")
    assert waiting is not None and waiting.next_run_time == local(2025, 6, 2, 12, 10)
    clock.now = local(2025, 6, 2, 12, 10)
    await jobs.alert_job()
    mails = alert_mails(tmp_path)
    assert len(mails) == 2
    assert "Kim Jong Un meets envoy" in text_of(mails[1])
    assert "Pyongyang flood warning" in text_of(mails[1])
    assert "visits a factory" not in text_of(mails[1])

    # in quiet hours: wait for the morning; the every-minute job does not send early
    clock.now = local(2025, 6, 2, 23, 15)
    found_by_poll(rt, "Kim Jong Un night launch")
    await jobs.alert_job()
    clock.now = local(2025, 6, 3, 6, 59)
    await jobs.deliver_job()
    assert len(alert_mails(tmp_path)) == 2
    assert scheduler.get_job("alert").next_run_time == local(2025, 6, 3, 7, 0)
    clock.now = local(2025, 6, 3, 7, 0)
    await jobs.deliver_job()
    mails = alert_mails(tmp_path)
    assert len(mails) == 3
    assert "night launch" in text_of(mails[2])
    assert store.pending_alerts() == []


async def test_alerted_stories_are_marked_in_the_next_digest(
        tmp_path: Path, store: Store, scheduler: AsyncIOScheduler) -> None:
    clock = Clock(local(2025, 6, 2, 12, 0))
    config = make_config(tmp_path, schedule="0 18 * * *", alerts=RULES)
    rt = make_runtime(config, store, clock)
    found_by_poll(rt, "Kim Jong Un visits a factory")
    await Jobs(rt, scheduler).alert_job()
    clock.now = local(2025, 6, 2, 13, 0)
    add_story(rt, "Pyongyang parade")  # after the alert: not alerted yet
    clock.now = local(2025, 6, 2, 18, 0)
    queued = queue_digest(rt, config.digests[0], clock.now)
    assert queued is not None and queued.message is not None
    marks = {s.lead.article.title: s.alerted for sec in queued.digest.sections
             for s in sec.stories}
    assert marks == {"Kim Jong Un visits a factory": True, "Pyongyang parade": False}
    assert b"already alerted" in queued.message.raw


async def test_no_alerts_section_queues_nothing(tmp_path: Path, store: Store) -> None:
    clock = Clock(local(2025, 6, 2, 12, 0))
    config = make_config(tmp_path, alerts=RULES)
    rt = make_runtime(replace(config, alerts=None), store, clock)
    assert found_by_poll(rt, "Kim Jong Un visits a factory") == 0
    assert alerts.send_if_due(rt) is None
