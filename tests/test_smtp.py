"""SMTP delivery against a real aiosmtpd server on 127.0.0.1 (TLS certificates from trustme).

Each test flushes a real outbox (SQLite) through SmtpTransport and checks what the server
received and what the outbox says afterwards — what a user would see in `digest status`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from digest.config import Config, Delivery, Sources
from digest.delivery import SmtpTransport, check_smtp_login, flush_outbox
from digest.mail import build_message, make_message_id
from digest.models import Outgoing, RenderedMail
from digest.smtp import SmtpClient, SmtpSettingsError, SmtpUnreachable
from digest.store import OutboxEntry, Store
from tests.smtp_server import SMTP_WARNINGS, SmtpServer, smtp_server

pytestmark = SMTP_WARNINGS

T0 = datetime(2024, 3, 1, 7, 0, tzinfo=timezone.utc)
SENDER = "News Digest <digest@localhost>"
USERS = {"digest@example.com": "s3cret-pw"}


def message(run: str, created: datetime = T0,
            recipients: tuple[str, ...] = ("you@example.com",)) -> Outgoing:
    return build_message(
        RenderedMail(subject=f"Morning: {run}", text=f"Kim Jong Un visits ({run})\n",
                     html=f"<p>Kim Jong Un visits ({run})</p>"),
        kind="digest", name="Morning", sender=SENDER, recipients=recipients,
        message_id=make_message_id("digest", "Morning", run, SENDER), date=created)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "state" / "digest.db") as opened:
        yield opened


def queue(store: Store, *messages: Outgoing) -> None:
    for queued in messages:
        store.commit_digest(queued.name, queued.created, queued, [])


def transport(server: SmtpServer, password: str | None = "s3cret-pw",
              **overrides: object) -> SmtpTransport:
    smtp = server.smtp_config(username="digest@example.com", **overrides)
    return SmtpTransport(smtp, password, server.client_context())


def entry(store: Store, message_id: str) -> OutboxEntry:
    return next(e for e in store.outbox() if e.message.message_id == message_id)


@pytest.mark.parametrize("security", ["starttls", "tls"])
async def test_delivers_over_tls_with_login(store: Store, security: str) -> None:
    sent = message("run-1", recipients=("you@example.com", "me@example.org"))
    queue(store, sent)
    with smtp_server(security=security, users=USERS) as server:  # type: ignore[arg-type]
        [outcome] = await flush_outbox(store, transport(server), T0)
        [got] = server.handler.received
    assert outcome.status == "sent" and outcome.detail == f"smtp 127.0.0.1:{server.port}"
    assert got.login == "digest@example.com"
    assert got.sender == "digest@localhost"
    assert got.recipients == ("you@example.com", "me@example.org")
    assert got.message["Message-ID"] == sent.message_id
    assert got.message["Subject"] == "Morning: run-1"
    if security == "starttls":
        assert got.tls
    assert entry(store, sent.message_id).status == "sent"


async def test_wrong_password_keeps_message_pending(store: Store) -> None:
    queue(store, message("run-1"))
    with smtp_server(users=USERS) as server:
        [outcome] = await flush_outbox(store, transport(server, "wrong"), T0)
        assert server.handler.received == []
        assert isinstance(outcome.error, SmtpSettingsError)
        assert outcome.status == "retry"
        assert "535" in outcome.detail and "check the username and password" in outcome.detail
        assert "wrong" not in outcome.detail and "s3cret" not in outcome.detail
        [pending] = store.outbox()
        assert pending.status == "pending" and pending.attempts == 1

        # the user fixes the password: the next run delivers it
        [outcome] = await flush_outbox(store, transport(server), T0, force=True)
        assert outcome.status == "sent"
        assert len(server.handler.received) == 1


async def test_untrusted_certificate_is_a_settings_error(store: Store) -> None:
    queue(store, message("run-1"))
    with smtp_server(users=USERS) as server:
        untrusting = SmtpTransport(server.smtp_config(username="digest@example.com"),
                                   "s3cret-pw")  # the system CAs do not know trustme's
        [outcome] = await flush_outbox(store, untrusting, T0)
    assert isinstance(outcome.error, SmtpSettingsError)
    assert "certificate" in outcome.detail
    assert store.outbox()[0].status == "pending"


async def test_server_down_then_up_delivers_each_once_in_order(store: Store) -> None:
    first, second = message("run-1", T0 - timedelta(minutes=2)), message("run-2")
    queue(store, first, second)
    server = SmtpServer(security="starttls", users=USERS)  # not started: the port is closed
    now = T0
    for attempt, wait in enumerate([1, 5, 15], start=1):
        outcomes = await flush_outbox(store, transport(server), now)
        assert [o.status for o in outcomes] == ["retry", "retry"]
        assert all(isinstance(o.error, SmtpUnreachable) for o in outcomes)
        assert "connection refused — check [delivery.smtp]" in outcomes[0].detail
        assert entry(store, first.message_id).attempts == attempt
        assert entry(store, first.message_id).next_try == now + timedelta(minutes=wait)
        now += timedelta(minutes=wait)

    server.start()
    try:
        outcomes = await flush_outbox(store, transport(server), now)
        assert [o.status for o in outcomes] == ["sent", "sent"]
        assert await flush_outbox(store, transport(server), now + timedelta(hours=1),
                                  force=True) == []
        ids = [got.message["Message-ID"] for got in server.handler.received]
    finally:
        server.stop()
    assert ids == [first.message_id, second.message_id]  # once each, oldest first, same ids


async def test_permanent_rejection_is_failed_with_reply_kept(store: Store) -> None:
    rejected, fine = message("run-1"), message("run-2", T0 + timedelta(minutes=1))
    queue(store, rejected, fine)
    with smtp_server(users=USERS) as server:
        server.handler.data_replies.append("550 5.7.1 Message rejected as spam")
        outcomes = await flush_outbox(store, transport(server), T0 + timedelta(hours=1))
        assert [o.status for o in outcomes] == ["failed", "sent"]
        assert await flush_outbox(store, transport(server), T0 + timedelta(days=1),
                                  force=True) == []
        assert len(server.handler.received) == 1
    failed = entry(store, rejected.message_id)
    assert failed.status == "failed"
    assert failed.last_error is not None and "550 5.7.1 Message rejected as spam" in \
        failed.last_error


@pytest.mark.parametrize("reply", ["451 4.3.0 Try again later", "452 4.3.1 Out of memory"])
async def test_temporary_rejection_is_retried_with_the_same_message_id(store: Store,
                                                                       reply: str) -> None:
    sent = message("run-1")
    queue(store, sent)
    with smtp_server(users=USERS) as server:
        server.handler.mail_replies.append(reply)
        [outcome] = await flush_outbox(store, transport(server), T0)
        assert outcome.status == "retry" and reply in outcome.detail
        [outcome] = await flush_outbox(store, transport(server), T0 + timedelta(minutes=1))
        assert outcome.status == "sent"
        [got] = server.handler.received
    assert got.message["Message-ID"] == sent.message_id


async def test_one_of_two_recipients_refused_is_recorded(store: Store) -> None:
    sent = message("run-1", recipients=("you@example.com", "gone@example.com",
                                        "busy@example.com"))
    queue(store, sent)
    with smtp_server(users=USERS) as server:
        server.handler.refuse = {"gone@example.com": "550 5.1.1 No such user",
                                 "busy@example.com": "450 4.2.1 Mailbox busy"}
        [outcome] = await flush_outbox(store, transport(server), T0)
        [got] = server.handler.received
    assert outcome.status == "sent"
    assert set(outcome.refused) == {"gone@example.com", "busy@example.com"}
    assert got.recipients == ("you@example.com",)
    assert entry(store, sent.message_id).refused == {
        "gone@example.com": "550 5.1.1 No such user",
        "busy@example.com": "450 4.2.1 Mailbox busy"}


@pytest.mark.parametrize(("reply", "status"), [("550 5.1.1 No such user", "failed"),
                                               ("450 4.2.1 Mailbox busy", "retry")])
async def test_every_recipient_refused(store: Store, reply: str, status: str) -> None:
    queue(store, message("run-1"))
    with smtp_server(users=USERS) as server:
        server.handler.refuse = {"you@example.com": reply}
        [outcome] = await flush_outbox(store, transport(server), T0)
    assert outcome.status == status
    assert f"you@example.com: {reply}" in outcome.detail


async def test_connection_cut_during_data_is_retried(store: Store) -> None:
    sent = message("run-1")
    queue(store, sent)
    with smtp_server(users=USERS) as server:
        server.handler.cut_data = 1
        [outcome] = await flush_outbox(store, transport(server), T0)
        assert outcome.status == "retry" and isinstance(outcome.error, SmtpUnreachable)
        [outcome] = await flush_outbox(store, transport(server), T0, force=True)
        assert outcome.status == "sent"
        assert len(server.handler.received) == 1


async def test_server_that_hangs_times_out(store: Store) -> None:
    queue(store, message("run-1"))
    with smtp_server(users=USERS) as server:
        server.handler.hang_data = 3.0
        slow = transport(server, timeout=timedelta(seconds=0.3))
        [outcome] = await flush_outbox(store, slow, T0)
    assert outcome.status == "retry"
    assert "timed out" in outcome.detail
    assert store.outbox()[0].status == "pending"


async def test_no_tls_to_a_remote_host_is_refused_before_connecting(store: Store) -> None:
    queue(store, message("run-1"))
    smtp = SmtpServer(security="none", users=None).smtp_config(host="smtp.example.com")
    [outcome] = await flush_outbox(store, SmtpTransport(smtp, None), T0)
    assert isinstance(outcome.error, SmtpSettingsError)
    assert 'security = "none" is only allowed for localhost' in outcome.detail
    assert store.outbox()[0].status == "pending"


async def test_no_tls_to_localhost_is_allowed(store: Store) -> None:
    queue(store, message("run-1"))
    with smtp_server(security="none") as server:
        [outcome] = await flush_outbox(store, SmtpTransport(server.smtp_config(), None), T0)
        assert outcome.status == "sent" and len(server.handler.received) == 1


async def test_starttls_required_even_when_server_lacks_it(store: Store) -> None:
    queue(store, message("run-1"))
    with smtp_server(security="none", users=USERS) as server:
        [outcome] = await flush_outbox(store, transport(server, security="starttls"), T0)
        assert server.handler.received == []
    assert isinstance(outcome.error, SmtpSettingsError)
    assert "STARTTLS" in outcome.detail


async def test_check_login_reports_success_and_failure() -> None:
    with smtp_server(users=USERS) as server:
        smtp = server.smtp_config(username="digest@example.com")
        ok = await SmtpClient(smtp, "s3cret-pw", server.client_context()).check_login()
        assert ok == f"login to 127.0.0.1:{server.port} as digest@example.com (starttls): ok"
        with pytest.raises(SmtpSettingsError, match="535"):
            await SmtpClient(smtp, "wrong", server.client_context()).check_login()
        with pytest.raises(SmtpSettingsError, match="no SMTP password"):
            await SmtpClient(smtp, None, server.client_context()).check_login()


async def test_check_smtp_login_reads_the_password_from_the_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGEST_SMTP_PASSWORD", "s3cret-pw")
    with smtp_server(users=USERS) as server:
        smtp = server.smtp_config(username="digest@example.com",
                                  password_env="DIGEST_SMTP_PASSWORD")
        config = Config(path=tmp_path / "digest.toml", timezone=ZoneInfo("UTC"), state_dir=None,
                        templates_dir=None, sources=Sources(), watchlists=(), digests=(),
                        delivery=Delivery(method="smtp", smtp=smtp))
        said = await check_smtp_login(config, tls_context=server.client_context())
    assert said.startswith(f"login to 127.0.0.1:{server.port} as digest@example.com")
    assert "s3cret" not in said
