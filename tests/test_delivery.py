"""Maildir and stdout delivery, and the outbox's retry rules, with real files and SQLite."""

from __future__ import annotations

import email
import io
import mailbox
import stat
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email import policy
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from digest.config import Config, Delivery, Smtp, Sources
from digest.delivery import (
    MaildirTransport,
    SmtpTransport,
    StdoutTransport,
    backoff,
    flush_outbox,
    transport_for,
)
from digest.errors import ConfigError
from digest.mail import build_message, make_message_id
from digest.models import Outgoing, RenderedMail
from digest.store import Store

T0 = datetime(2024, 3, 1, 7, 0, tzinfo=timezone.utc)
SENDER = "News Digest <digest@localhost>"


def message(run: str, created: datetime = T0, *, subject: str = "Morning: 1 story",
            recipients: tuple[str, ...] = ("you@example.com",)) -> Outgoing:
    return build_message(
        RenderedMail(subject=subject, text=f"Kim Jong Un visits ({run})\n",
                     html=f"<p>Kim Jong Un visits ({run})</p>"),
        kind="digest", name="Morning", sender=SENDER, recipients=recipients,
        message_id=make_message_id("digest", "Morning", run, SENDER), date=created)


def queue(store: Store, *messages: Outgoing) -> None:
    for queued in messages:
        store.commit_digest(queued.name, queued.created, queued, [])


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "state" / "digest.db") as opened:
        yield opened


async def test_maildir_delivery_is_readable_and_private(tmp_path: Path) -> None:
    sent = message("run-1", subject="Morning: “Kim Jong Un” visits")
    receipt = await MaildirTransport(tmp_path / "mail").send(sent)
    box = mailbox.Maildir(tmp_path / "mail", create=False)
    [key] = box.keys()
    stored = email.message_from_bytes(box.get_bytes(key), policy=policy.default)
    assert stored["Subject"] == "Morning: “Kim Jong Un” visits"
    assert stored["Message-ID"] == sent.message_id
    path = Path(receipt.where.removeprefix("maildir "))
    assert path.is_file() and path.parent == tmp_path / "mail" / "new"
    assert path.read_bytes() == sent.raw.replace(b"\r\n", b"\n")  # local files: LF
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "mail").stat().st_mode) == 0o700
    assert receipt.refused == {}


async def test_stdout_shows_the_plain_text_part() -> None:
    out = io.StringIO()
    receipt = await StdoutTransport(out).send(message("run-1"))
    assert receipt.where == "stdout"
    assert out.getvalue() == ("Subject: Morning: 1 story\nTo: you@example.com\n\n"
                              "Kim Jong Un visits (run-1)\n")
    raw = io.StringIO()
    await StdoutTransport(raw, raw=True).send(message("run-1"))
    assert "Content-Type: multipart/alternative" in raw.getvalue()


async def test_flush_delivers_each_message_once(store: Store, tmp_path: Path) -> None:
    queue(store, message("run-1"), message("run-2", T0 + timedelta(minutes=1)))
    transport = MaildirTransport(tmp_path / "mail")
    outcomes = await flush_outbox(store, transport, T0 + timedelta(hours=1))
    assert [o.status for o in outcomes] == ["sent", "sent"]
    assert await flush_outbox(store, transport, T0 + timedelta(hours=2)) == []
    assert len(mailbox.Maildir(tmp_path / "mail")) == 2
    assert {e.status for e in store.outbox()} == {"sent"}


async def test_failed_write_stays_in_outbox_with_backoff(store: Store, tmp_path: Path) -> None:
    blocker = tmp_path / "mail"
    blocker.write_text("a file where the Maildir should be")
    queue(store, message("run-1"))
    transport = MaildirTransport(blocker)

    [outcome] = await flush_outbox(store, transport, T0)
    assert outcome.status == "retry"
    assert "could not write to the Maildir" in outcome.detail
    [entry] = store.outbox()
    assert (entry.status, entry.attempts, entry.next_try) == ("pending", 1,
                                                              T0 + timedelta(minutes=1))
    assert await flush_outbox(store, transport, T0 + timedelta(seconds=30)) == []  # backing off

    blocker.unlink()
    [outcome] = await flush_outbox(store, transport, T0 + timedelta(seconds=30), force=True)
    assert outcome.status == "sent"
    assert len(mailbox.Maildir(blocker)) == 1


async def test_gives_up_after_max_age(store: Store, tmp_path: Path) -> None:
    blocker = tmp_path / "mail"
    blocker.write_text("in the way")
    queue(store, message("run-1"))
    later = T0 + timedelta(days=3)
    [outcome] = await flush_outbox(store, MaildirTransport(blocker), later)
    assert outcome.status == "failed"
    [entry] = store.outbox()
    assert entry.status == "failed"
    assert entry.last_error is not None and entry.last_error.startswith("gave up after 1 attempts")
    blocker.unlink()
    assert await flush_outbox(store, MaildirTransport(blocker), later, force=True) == []


def test_backoff_grows_and_is_capped() -> None:
    waits = [backoff(n) for n in range(1, 10)]
    assert waits[:4] == [timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15),
                         timedelta(hours=1)]
    assert waits == sorted(waits)
    assert max(waits) == timedelta(hours=6) == waits[-1]


def config(tmp_path: Path, delivery: Delivery) -> Config:
    return Config(path=tmp_path / "digest.toml", timezone=ZoneInfo("UTC"), state_dir=None,
                  templates_dir=None, sources=Sources(), watchlists=(), digests=(),
                  delivery=delivery)


def test_transport_for_each_method(tmp_path: Path) -> None:
    out = io.StringIO()
    maildir = transport_for(config(tmp_path, Delivery(maildir=tmp_path / "m")))
    assert isinstance(maildir, MaildirTransport) and maildir.path == tmp_path / "m"
    stdout = transport_for(config(tmp_path, Delivery(method="stdout")), stdout=out)
    assert isinstance(stdout, StdoutTransport) and stdout.stream is out
    smtp = transport_for(config(tmp_path, Delivery(method="smtp", smtp=Smtp(host="localhost"))))
    assert isinstance(smtp, SmtpTransport)
    with pytest.raises(ConfigError, match=r"delivery\.smtp"):
        transport_for(config(tmp_path, Delivery(method="smtp")))


def test_maildir_defaults_to_the_state_directory(tmp_path: Path, isolated_env: Path) -> None:
    transport = transport_for(config(tmp_path, Delivery()))
    assert isinstance(transport, MaildirTransport)
    assert transport.path == isolated_env / "mail"
