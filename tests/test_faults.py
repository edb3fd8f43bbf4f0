"""Delivery under faults, as a user lives it: `digest once` and `digest status` against a real
aiosmtpd on 127.0.0.1 that is down, says 4xx or 5xx, cuts the connection or hangs.

What a user must be able to rely on: a digest that could not go waits in the outbox and
goes later exactly once, with the Message-ID it was built with and in the order it was
built; a temporary failure older than the give-up age (3 days) becomes a failure that
`digest status` shows, with exit status 1, as it does for a 5xx at once.
(`tests/test_smtp.py` covers the same rules one flush at a time; `tests/test_once_smtp.py`
the single down-then-up, 550 and partial-refusal runs.)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from digest.cli import main
from tests.smtp_server import SMTP_WARNINGS, SmtpServer

pytestmark = SMTP_WARNINGS


class Setup:
    """A config delivering the folder ``news/`` to aiosmtpd on a fixed port."""

    def __init__(self, root: Path, port: int, *, timeout: str = "2s") -> None:
        self.root = root
        self.news = root / "news"
        self.news.mkdir(parents=True, exist_ok=True)
        self.config = root / "digest.toml"
        self.config.write_text(f"""\
timezone = "UTC"

[[sources.folders]]
name = "news"
path = "news"

[[watchlists]]
name = "Korea"
terms = ["Kim Jong Un"]

[[digests]]
name = "Morning"
schedule = "0 7 * * mon-fri"
to = ["you@example.com", "boss@example.com"]

[delivery]
method = "smtp"
from = "News Digest <digest@localhost>"

[delivery.smtp]
host = "127.0.0.1"
port = {port}
security = "none"
timeout = "{timeout}"
""")
        self.count = 0

    def article(self, headline: str) -> None:
        self.count += 1
        (self.news / f"{self.count:03d}.txt").write_text(
            f"{headline}\n\nKim Jong Un said something new today, officials reported.\n")

    def run(self, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
        status = main(["once", "--config", str(self.config), "--quiet", *args])
        out, err = capsys.readouterr()
        return status, out, err

    def status(self, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
        status = main(["status", "--config", str(self.config)])
        out, _ = capsys.readouterr()
        return status, out


def outbox(state: Path) -> list[tuple[str, str, int, str | None]]:
    """(message_id, status, attempts, last_error) in the order built."""
    con = sqlite3.connect(state / "digest.sqlite")
    try:
        return con.execute("SELECT message_id, status, attempts, last_error FROM outbox "
                           "ORDER BY created, rowid").fetchall()
    finally:
        con.close()


def age_outbox(state: Path, by: timedelta) -> None:
    """Pretend every queued message was built ``by`` earlier (instead of waiting days)."""
    con = sqlite3.connect(state / "digest.sqlite")
    try:
        rows = con.execute("SELECT message_id, created FROM outbox").fetchall()
        with con:
            for message_id, created in rows:
                older = datetime.fromisoformat(created) - by
                con.execute("UPDATE outbox SET created = ? WHERE message_id = ?",
                            (older.astimezone(timezone.utc).isoformat(timespec="microseconds"),
                             message_id))
    finally:
        con.close()


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    smtp = SmtpServer(security="none", users=None)  # started by the tests that want it up
    try:
        yield smtp
    finally:
        smtp.stop()


def received_ids(server: SmtpServer) -> list[str]:
    return [str(got.message["Message-ID"]) for got in server.handler.received]


def test_smtp_down_for_several_runs_then_back_delivers_each_digest_once_in_order(
        tmp_path: Path, isolated_env: Path, server: SmtpServer,
        capsys: pytest.CaptureFixture[str]) -> None:
    setup = Setup(tmp_path, server.port)
    for run, headline in enumerate(["Kim Jong Un visits Moscow", "Kim Jong Un meets Putin",
                                    "Kim Jong Un returns home"], start=1):
        setup.article(headline)
        status, out, err = setup.run(capsys)
        assert status == 1, err
        assert "NOT delivered (retry)" in out and "connection refused" in out
        assert len(outbox(isolated_env)) == run
        assert "Traceback" not in err
    queued = outbox(isolated_env)
    assert [row[1] for row in queued] == ["pending"] * 3
    assert [row[2] for row in queued] == [3, 2, 1]  # each run retried all that waited
    status, shown = setup.status(capsys)
    assert status == 0  # waiting is not failing
    assert "outbox: 3 pending, 0 failed" in shown and "connection refused" in shown

    server.start()
    status, out, err = setup.run(capsys)
    assert status == 0, err
    assert received_ids(server) == [row[0] for row in queued]  # same ids, oldest first
    texts = [got.content.decode() for got in server.handler.received]
    assert "visits Moscow" in texts[0] and "meets Putin" in texts[1] and "returns home" in texts[2]
    assert "returns home" not in texts[0] + texts[1] and "visits Moscow" not in texts[2]

    status, out, _ = setup.run(capsys)
    assert status == 0 and "nothing to send" in out
    assert len(server.handler.received) == 3


@pytest.mark.parametrize("stage", ["MAIL", "RCPT", "DATA"])
def test_4xx_is_retried_with_the_same_message_id_then_given_up_after_three_days(
        tmp_path: Path, isolated_env: Path, server: SmtpServer, stage: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    server.start()
    setup = Setup(tmp_path, server.port)
    setup.article("Kim Jong Un visits Moscow")

    def fail_next() -> None:
        reply = "451 4.3.0 Try again later"
        if stage == "MAIL":
            server.handler.mail_replies.append(reply)
        elif stage == "DATA":
            server.handler.data_replies.append(reply)
        else:
            server.handler.refuse = {a: reply for a in ("you@example.com", "boss@example.com")}

    fail_next()
    status, out, err = setup.run(capsys)
    assert status == 1
    assert "NOT delivered (retry)" in out and "451 4.3.0 Try again later" in out
    assert "451" in err  # logged
    [(message_id, state, attempts, error)] = outbox(isolated_env)
    assert (state, attempts) == ("pending", 1) and error is not None and "451" in error

    # the server recovers: the same message goes, once, under the same Message-ID
    server.handler.refuse = {}
    status, _, err = setup.run(capsys)
    assert status == 0, err
    assert received_ids(server) == [message_id]

    # a second digest meets a server that keeps saying 451 for more than three days
    setup.article("Kim Jong Un meets Putin")
    fail_next()
    setup.run(capsys)
    age_outbox(isolated_env, timedelta(days=3, minutes=1))
    for _ in range(2):
        fail_next()
    status, out, _ = setup.run(capsys)
    assert status == 1 and "→ failed: gave up after 2 attempts over 3.0 days" in out
    second = outbox(isolated_env)[1]
    assert second[1] == "failed" and second[3] is not None
    assert second[3].startswith("gave up after 2 attempts over 3.0 days") and "451" in second[3]
    status, shown = setup.status(capsys)
    assert status == 1
    assert "outbox: 0 pending, 1 failed" in shown and "FAILED:" in shown and "gave up" in shown
    server.handler.refuse = {}
    server.handler.mail_replies.clear()
    server.handler.data_replies.clear()
    setup.run(capsys)
    assert received_ids(server) == [message_id]  # a failed message is not sent again


def test_the_give_up_age_is_configurable(tmp_path: Path, isolated_env: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    setup = Setup(tmp_path, SmtpServer(security="none", users=None).port)  # nothing listens
    setup.config.write_text(setup.config.read_text().replace(
        'from = "News Digest', 'give_up_after = "2h"\nfrom = "News Digest'))
    setup.article("Kim Jong Un visits Moscow")
    assert setup.run(capsys)[0] == 1
    age_outbox(isolated_env, timedelta(hours=1))
    assert setup.run(capsys)[0] == 1
    assert outbox(isolated_env)[0][1] == "pending"  # an hour old: still worth trying
    age_outbox(isolated_env, timedelta(hours=1, minutes=1))
    status, out, _ = setup.run(capsys)
    assert status == 1 and "gave up after 3 attempts" in out
    assert outbox(isolated_env)[0][1] == "failed"


def test_5xx_fails_at_once_with_the_reason_in_status_and_log(
        tmp_path: Path, isolated_env: Path, server: SmtpServer,
        capsys: pytest.CaptureFixture[str]) -> None:
    server.start()
    setup = Setup(tmp_path, server.port)
    setup.article("Kim Jong Un visits Moscow")
    server.handler.data_replies.append("554 5.7.1 Message rejected as spam")
    status, out, err = setup.run(capsys)
    assert status == 1
    assert "NOT delivered (failed)" in out
    assert "ERROR digest.delivery" in err and "554 5.7.1 Message rejected as spam" in err
    status, shown = setup.status(capsys)
    assert status == 1
    assert "FAILED: 'Morning: 1 story" in shown and "554 5.7.1 Message rejected as spam" in shown
    status, _, _ = setup.run(capsys)
    assert status == 0 and server.handler.received == []  # not retried


def test_connection_cut_during_data_then_delivered_once(
        tmp_path: Path, isolated_env: Path, server: SmtpServer,
        capsys: pytest.CaptureFixture[str]) -> None:
    server.start()
    setup = Setup(tmp_path, server.port)
    setup.article("Kim Jong Un visits Moscow")
    server.handler.cut_data = 1
    status, out, err = setup.run(capsys)
    assert status == 1 and "NOT delivered (retry)" in out
    assert "Traceback" not in err
    [(message_id, state, _, _)] = outbox(isolated_env)
    assert state == "pending"
    assert setup.run(capsys)[0] == 0
    assert received_ids(server) == [message_id]


def test_server_that_accepts_then_hangs_times_out_and_the_message_waits(
        tmp_path: Path, isolated_env: Path, server: SmtpServer,
        capsys: pytest.CaptureFixture[str]) -> None:
    server.start()
    setup = Setup(tmp_path, server.port, timeout="1s")
    setup.article("Kim Jong Un visits Moscow")
    server.handler.hang_data = 3.0
    status, out, _ = setup.run(capsys)
    assert status == 1 and "timed out" in out
    [(message_id, state, _, error)] = outbox(isolated_env)
    assert state == "pending" and error is not None and "timed out" in error
    server.handler.hang_data = 0.0
    assert setup.run(capsys)[0] == 0
    # the hung server may have kept its copy after all: any copy carries the same id
    assert set(received_ids(server)) == {message_id}
    assert [row[1] for row in outbox(isolated_env)] == ["sent"]


def test_one_of_two_recipients_refused_delivers_to_the_other_once(
        tmp_path: Path, isolated_env: Path, server: SmtpServer,
        capsys: pytest.CaptureFixture[str]) -> None:
    server.start()
    setup = Setup(tmp_path, server.port)
    setup.article("Kim Jong Un visits Moscow")
    server.handler.refuse = {"boss@example.com": "550 5.1.1 No such user"}
    status, _, err = setup.run(capsys)
    assert status == 0
    assert "recipient boss@example.com refused: 550 5.1.1 No such user" in err
    [got] = server.handler.received
    assert got.recipients == ("you@example.com",)
    setup.run(capsys)
    assert len(server.handler.received) == 1  # the refused one is not a reason to resend
