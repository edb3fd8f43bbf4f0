"""`digest run` as a real subprocess against a local feed server and aiosmtpd.

Short poll intervals and a per-minute digest: an alert arrives within a poll, the story is
in the next digest once (marked as already alerted), a restart sends nothing twice, SIGHUP
applies a changed watchlist and survives a broken file, SIGTERM exits 0 and keeps what
waits in the outbox.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import cast
from xml.sax.saxutils import escape

import pytest

from tests.conftest import REPO
from tests.feed_server import FeedServer, Route
from tests.smtp_server import SMTP_WARNINGS, SmtpServer, smtp_server

pytestmark = [*SMTP_WARNINGS, pytest.mark.slow]

POLL_WAIT = 10.0  # a 2 s poll with jitter, plus start-up and delivery


def rss(*titles: str) -> bytes:
    items = "".join(
        f"<item><title>{escape(t)}</title><guid>urn:test:{abs(hash(t))}</guid>"
        f"<link>https://news.example/{abs(hash(t))}</link>"
        f"<description>{escape(t)}. Officials said more on Monday.</description></item>"
        for t in titles)
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Test</title>'
            f"<link>https://news.example/</link><description>t</description>{items}"
            f"</channel></rss>").encode()


def config_text(tmp_path: Path, feed_url: str, smtp: SmtpServer, *,
                terms: tuple[str, ...] = ("Kim Jong Un",)) -> str:
    quoted = ", ".join(f'"{t}"' for t in terms)
    return f"""\
timezone = "Europe/London"

[sources]
every = "2s"

[[sources.feeds]]
name = "Test feed"
url = "{feed_url}"

[[watchlists]]
name = "Korea"
terms = [{quoted}]
alert = true

[[digests]]
name = "Minutely"
schedule = "* * * * *"
to = ["you@example.com"]

[alerts]
to = ["alerts@example.com"]
min_interval = "1s"

[delivery]
method = "smtp"
from = "News Digest <digest@localhost>"

[delivery.smtp]
host = "127.0.0.1"
port = {smtp.port}
security = "none"
timeout = "5s"
"""


class DaemonProcess:
    """`python -m digest run` with stderr in a file; stopped by its PID."""

    def __init__(self, config: Path, log: Path) -> None:
        self.config = config
        self.log_path = log
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        with log.open("a") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "digest", "run", "--config", str(config)],
                env=env, stderr=out)

    def log(self) -> str:
        return self.log_path.read_text()

    def signal(self, signum: int) -> None:
        self.proc.send_signal(signum)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise


async def wait_for(condition: Callable[[], object], timeout: float, what: str,
                   daemon: DaemonProcess | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if daemon is not None and daemon.proc.poll() is not None:
            raise AssertionError(f"the daemon exited ({daemon.proc.returncode}) waiting for "
                                 f"{what}:\n{daemon.log()}")
        if time.monotonic() > deadline:
            log = daemon.log() if daemon else ""
            raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{log}")
        await asyncio.sleep(0.1)


def messages(smtp: SmtpServer, to: str) -> list[EmailMessage]:
    return [cast(EmailMessage, r.message) for r in list(smtp.handler.received)
            if to in r.recipients]


def text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return cast(str, body.get_content())


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server(security="none") as server:
        yield server


@pytest.fixture
def daemons() -> Iterator[list[DaemonProcess]]:
    started: list[DaemonProcess] = []
    yield started
    for daemon in started:
        if daemon.proc.poll() is None:
            daemon.proc.kill()
            daemon.proc.wait()


async def test_alert_then_digest_once_and_restart_sends_nothing_twice(
        tmp_path: Path, smtp: SmtpServer, daemons: list[DaemonProcess]) -> None:
    async with FeedServer({"/feed.xml": Route.feed(rss("Weather is mild"))}) as feeds:
        config = tmp_path / "digest.toml"
        config.write_text(config_text(tmp_path, feeds.url("/feed.xml"), smtp))
        daemon = DaemonProcess(config, tmp_path / "daemon.log")
        daemons.append(daemon)
        await wait_for(lambda: feeds.hits("/feed.xml"), POLL_WAIT, "the first poll", daemon)

        feeds.routes["/feed.xml"] = Route.feed(rss("Weather is mild",
                                                   "Kim Jong Un visits Moscow"))
        await wait_for(lambda: messages(smtp, "alerts@example.com"), POLL_WAIT, "the alert",
                       daemon)
        [alert] = messages(smtp, "alerts@example.com")
        assert "Kim Jong Un visits Moscow" in text_of(alert)

        def digests_with_story() -> list[EmailMessage]:
            return [m for m in messages(smtp, "you@example.com")
                    if "Kim Jong Un visits Moscow" in text_of(m)]

        await wait_for(digests_with_story, 70, "the next digest", daemon)
        [digest] = digests_with_story()
        assert "already alerted" in text_of(digest)
        assert daemon.stop() == 0
        assert "Traceback" not in daemon.log()

        before = [str(m["Message-ID"]) for m in messages(smtp, "")]
        polls = len(feeds.hits("/feed.xml"))
        again = DaemonProcess(config, tmp_path / "daemon.log")
        daemons.append(again)
        await wait_for(lambda: len(feeds.hits("/feed.xml")) >= polls + 2, POLL_WAIT,
                       "two polls after the restart", again)
        await asyncio.sleep(1.5)  # time for anything that would be sent
        assert again.stop() == 0
    after = [str(m["Message-ID"]) for m in messages(smtp, "")]
    assert after == before
    assert len(set(after)) == len(after)
    assert len(digests_with_story()) == 1


async def test_reload_and_stop(tmp_path: Path, smtp: SmtpServer,
                               daemons: list[DaemonProcess]) -> None:
    async with FeedServer({"/feed.xml": Route.feed(rss("Weather is mild"))}) as feeds:
        url = feeds.url("/feed.xml")
        config = tmp_path / "digest.toml"
        config.write_text(config_text(tmp_path, url, smtp))
        daemon = DaemonProcess(config, tmp_path / "daemon.log")
        daemons.append(daemon)
        await wait_for(lambda: feeds.hits("/feed.xml"), POLL_WAIT, "the first poll", daemon)

        def alerted(title: str) -> bool:
            return any(title in text_of(m) for m in messages(smtp, "alerts@example.com"))

        # a changed watchlist takes effect
        config.write_text(config_text(tmp_path, url, smtp, terms=("Kim Jong Un", "Pyongyang")))
        daemon.signal(signal.SIGHUP)
        await wait_for(lambda: "reloaded" in daemon.log(), POLL_WAIT, "the reload", daemon)
        feeds.routes["/feed.xml"] = Route.feed(rss("Weather is mild", "Pyongyang hosts talks"))
        await wait_for(lambda: alerted("Pyongyang hosts talks"), POLL_WAIT,
                       "an alert for the new term", daemon)

        # a broken file is logged and the running configuration stays
        config.write_text("[[watchlists]\nname = \n")
        daemon.signal(signal.SIGHUP)
        await wait_for(lambda: "reload failed" in daemon.log(), POLL_WAIT, "the error", daemon)
        feeds.routes["/feed.xml"] = Route.feed(rss("Weather is mild", "Pyongyang hosts talks",
                                                   "Pyongyang parade"))
        await wait_for(lambda: alerted("Pyongyang parade"), POLL_WAIT,
                       "an alert under the kept configuration", daemon)
        assert daemon.proc.poll() is None

        # the SMTP server goes away: the next alert waits in the outbox, and a stop keeps it
        smtp.stop()
        feeds.routes["/feed.xml"] = Route.feed(rss("Weather is mild", "Pyongyang hosts talks",
                                                   "Pyongyang parade", "Kim Jong Un tests"))
        await wait_for(lambda: "kept in the outbox" in daemon.log()
                       or "WARNING digest.delivery: alert" in daemon.log(), POLL_WAIT,
                       "a failed delivery", daemon)
        assert daemon.stop() == 0
        assert "stopped" in daemon.log()

    config.write_text(config_text(tmp_path, url, smtp, terms=("Kim Jong Un", "Pyongyang")))
    status = subprocess.run(
        [sys.executable, "-m", "digest", "status", "--config", str(config)],
        env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True,
        timeout=30)
    assert status.returncode == 0, status.stderr
    assert "outbox: 1 pending, 0 failed" in status.stdout
    assert "Kim Jong Un tests" in status.stdout
