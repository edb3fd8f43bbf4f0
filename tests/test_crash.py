"""Crash consistency: `digest once` killed with SIGKILL at seeded moments, then run again.

Real parts only: the CLI as a subprocess, two feeds on an aiohttp server that gain items
between runs, aiosmtpd, the SQLite file. Each kill waits for a moment of one kind — any
time, a feed being fetched, articles just recorded, a digest just queued, an SMTP
transaction under way, or the server's 250 just given — then restarts on the next round.
At the end, from what the SMTP server received: every matching item arrived, no item arrived
in two different digests (a resend of the very same message, same Message-ID, after a kill
between the server's 250 and our commit is allowed and counted), nothing else arrived, and
the database is a healthy WAL file.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import sqlite3
import string
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast
from xml.sax.saxutils import escape

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from digest.store import Store
from tests.conftest import REPO
from tests.feed_server import FeedServer, Route
from tests.smtp_server import SMTP_WARNINGS, Handler, SmtpServer

pytestmark = [*SMTP_WARNINGS, pytest.mark.slow]

SEED = 20240307
KILLS = 32
TOKEN = re.compile(r"\btok\d{4}\b")


@dataclass
class CountingHandler(Handler):
    """Also counts MAIL commands: an SMTP transaction has begun."""

    mails: int = 0

    async def handle_MAIL(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, options: list[str]) -> str:
        self.mails += 1
        return await super().handle_MAIL(server, session, envelope, address, options)


@dataclass
class Item:
    token: str
    title: str
    body: str
    matches: bool


@dataclass
class NewsRoom:
    """Feeds that gain items over time; every item carries a unique token in its title."""

    rng: random.Random
    feeds: dict[str, list[Item]] = field(default_factory=lambda: {"/fast.xml": [],
                                                                  "/slow.xml": []})
    count: int = 0

    def word(self) -> str:
        return "".join(self.rng.choice(string.ascii_lowercase) for _ in range(8))

    def add(self, path: str, *, matches: bool) -> Item:
        self.count += 1
        token = f"tok{self.count:04d}"
        words = " ".join(self.word() for _ in range(3))
        title = f"{'Kim Jong Un' if matches else 'Weather'} {words} {token}"
        body = " ".join(self.word() for _ in range(25)) + (
            ". Kim Jong Un was seen." if matches else ". Rain is expected.")
        item = Item(token, title, body, matches)
        self.feeds[path].append(item)
        return item

    def items(self) -> list[Item]:
        return [item for items in self.feeds.values() for item in items]

    def rss(self, path: str) -> bytes:
        entries = "".join(
            f"<item><title>{escape(i.title)}</title><guid>urn:crash:{i.token}</guid>"
            f"<link>https://news.example/{i.token}</link>"
            f"<description>{escape(i.body)}</description></item>"
            for i in self.feeds[path])
        return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>{path}</title>'
                f"<link>https://news.example/</link><description>d</description>{entries}"
                "</channel></rss>").encode()


def config_text(fast: str, slow: str, smtp: SmtpServer) -> str:
    return f"""\
timezone = "UTC"

[[sources.feeds]]
name = "Fast"
url = "{fast}"

[[sources.feeds]]
name = "Slow"
url = "{slow}"

[[watchlists]]
name = "Korea"
terms = ["Kim Jong Un"]

[[digests]]
name = "Crash"
schedule = "0 7 * * mon-fri"
to = ["you@example.com"]
max_stories = 1000

[delivery]
method = "smtp"
from = "News Digest <digest@localhost>"

[delivery.smtp]
host = "127.0.0.1"
port = {smtp.port}
security = "none"
timeout = "5s"
"""


def db_count(db: Path, table: str) -> int:
    """Rows in ``table``, read as another process would while the CLI writes (WAL)."""
    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.2)
        try:
            return int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
        finally:
            con.close()
    except sqlite3.Error:
        return 0


async def start_once(config: Path, log: Path) -> asyncio.subprocess.Process:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "digest", "once", "--config", str(config), "--quiet",
            env=env, stdout=out, stderr=out)


async def wait_until(proc: asyncio.subprocess.Process, condition: Callable[[], bool],
                     timeout: float = 20.0) -> bool:
    """True when ``condition`` held while ``proc`` still ran; False when it exited first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.returncode is not None:
            return False
        if condition():
            return True
        await asyncio.sleep(0.003)
    raise AssertionError("the run neither finished nor reached the moment to kill it")


def moment_of(kind: str, feeds: FeedServer, handler: CountingHandler,
              db: Path) -> Callable[[], bool]:
    """A test for "the moment of this kind has come in the run starting now"."""
    hits, mails, received = len(feeds.requests), handler.mails, len(handler.received)
    articles, queued = db_count(db, "articles"), db_count(db, "outbox")
    return {
        "any time": lambda: False,
        "fetch": lambda: len(feeds.requests) > hits,
        "recorded": lambda: db_count(db, "articles") > articles,
        "queued": lambda: db_count(db, "outbox") > queued,
        "sending": lambda: handler.mails > mails,
        "accepted": lambda: len(handler.received) > received,
    }[kind]


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(security="none", users=None)
    server.handler = CountingHandler()
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def test_sigkill_at_random_moments_loses_nothing_and_sends_nothing_twice(
        tmp_path: Path, isolated_env: Path, smtp: SmtpServer) -> None:
    rng = random.Random(SEED)
    room = NewsRoom(random.Random(SEED + 1))
    handler = cast(CountingHandler, smtp.handler)
    db = isolated_env / "digest.sqlite"
    log = tmp_path / "once.log"
    kills: Counter[str] = Counter()
    kinds = ["any time", "fetch", "recorded", "queued", "sending", "accepted"]
    procs: list[asyncio.subprocess.Process] = []
    async with FeedServer() as feeds:
        config = tmp_path / "digest.toml"
        config.write_text(config_text(feeds.url("/fast.xml"), feeds.url("/slow.xml"), smtp))

        def publish(slow_delay: float) -> None:
            feeds.routes["/fast.xml"] = Route.feed(room.rss("/fast.xml"))
            feeds.routes["/slow.xml"] = Route.feed(room.rss("/slow.xml"), delay=slow_delay)

        try:
            rounds = 0
            while sum(kills.values()) < KILLS:
                rounds += 1
                assert rounds < KILLS * 4, f"too few kills landed: {dict(kills)}"
                for path in room.feeds:
                    for _ in range(rng.randint(0, 3)):
                        room.add(path, matches=rng.random() < 0.7)
                publish(slow_delay=rng.choice([0.0, 0.3, 0.6]))
                handler.hang_data = rng.choice([0.0, 0.2])
                kind = kinds[rounds % len(kinds)] if rounds <= len(kinds) else rng.choice(kinds)
                moment = moment_of(kind, feeds, handler, db)
                proc = await start_once(config, log)
                procs.append(proc)
                if kind == "any time":
                    await asyncio.sleep(rng.uniform(0.05, 1.5))
                    reached = proc.returncode is None
                else:
                    reached = await wait_until(proc, moment)
                if reached:
                    proc.send_signal(signal.SIGKILL)
                    kills[kind] += 1
                await proc.wait()

            # the dust settles: runs without faults until nothing waits in the outbox
            handler.hang_data = 0.0
            publish(slow_delay=0.0)
            for _ in range(3):
                proc = await start_once(config, log)
                procs.append(proc)
                assert await proc.wait() == 0, log.read_text()[-3000:]
                if db_count(db, "outbox WHERE status != 'sent'") == 0:
                    break
        finally:
            for proc in procs:
                if proc.returncode is None:
                    proc.kill()
                    await proc.wait()

    # what arrived: item token -> the Message-IDs of the messages that carried it
    carried: dict[str, set[str]] = defaultdict(set)
    ids = Counter()
    for got in handler.received:
        message = got.message
        message_id = str(message["Message-ID"])
        ids[message_id] += 1
        body = message.get_body(preferencelist=("plain",))
        assert body is not None
        for token in TOKEN.findall(cast(str, body.get_content())):
            carried[token].add(message_id)
    resends = sum(n - 1 for n in ids.values())
    print(f"\n{sum(kills.values())} kills {dict(kills)} over {rounds} rounds; "
          f"{len(handler.received)} messages received, {resends} resend(s) of the same "
          f"Message-ID; {len(room.items())} items")

    wanted = {item.token for item in room.items() if item.matches}
    unwanted = {item.token for item in room.items() if not item.matches}
    lost = sorted(wanted - set(carried))
    assert not lost, f"matched items never delivered: {lost}"
    assert not unwanted & set(carried)
    twice = {token: sorted(mids) for token, mids in carried.items() if len(mids) > 1}
    assert not twice, f"items in two different digests: {twice}"
    assert all(kills[kind] for kind in kinds), dict(kills)
    assert resends <= kills["accepted"] + kills["sending"]  # only after a kill mid-send

    with Store.open(db) as store:
        assert [e for e in store.outbox() if e.status != "sent"] == []
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        con.close()


def test_store_uses_wal_with_full_synchronous_commits(isolated_env: Path) -> None:
    """A commit must survive a crash of the process and of the machine: WAL + FULL."""
    with Store.open(isolated_env / "digest.sqlite") as store:
        connection = store._db  # the settings the store chose
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert connection.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
