"""`digest once` delivering through a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from digest.cli import main
from digest.config import load_config, state_database
from digest.store import Store
from tests.conftest import REPO
from tests.smtp_server import SMTP_WARNINGS, SmtpServer, smtp_server

pytestmark = SMTP_WARNINGS
PASSWORD = "s3cret-pa55"


def write_config(root: Path, server: SmtpServer, *, security: str = "starttls",
                 username: str | None = "digest") -> Path:
    shutil.copytree(REPO / "seeds", root / "seeds", dirs_exist_ok=True)
    lines = [
        'timezone = "Europe/London"',
        "[[sources.folders]]", 'name = "seeds"', 'path = "seeds"',
        "[[watchlists]]", 'name = "Korea"', 'terms = ["Kim Jong Un", "North Korea"]',
        "[[digests]]", 'name = "Morning briefing"', 'schedule = "0 7 * * mon-fri"',
        'to = ["reader@example.org", "other@example.org"]',
        "[delivery]", 'method = "smtp"', 'from = "News Digest <digest@example.org>"',
        "[delivery.smtp]", f'host = "{server.host}"', f"port = {server.port}",
        f'security = "{security}"', 'timeout = "5s"',
    ]
    if username:
        lines += [f'username = "{username}"', 'password_env = "DIGEST_TEST_SMTP_PASSWORD"']
    path = root / "digest.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def trust(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> object:
    """Make the test CA trusted the way a user would: the system's trust store variable."""
    def configure(server: SmtpServer) -> None:
        pem = tmp_path / "ca.pem"
        server.ca.cert_pem.write_to_path(str(pem))
        monkeypatch.setenv("SSL_CERT_FILE", str(pem))
        monkeypatch.setenv("DIGEST_TEST_SMTP_PASSWORD", PASSWORD)
    return configure


def once(config: Path) -> int:
    return main(["once", "--config", str(config), "--quiet"])


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_delivers_over_tls_with_auth(tmp_path: Path, trust, security: str,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    with smtp_server(security=security, users={"digest": PASSWORD}) as server:
        trust(server)
        assert once(write_config(tmp_path, server, security=security)) == 0
        [received] = server.handler.received
    assert set(received.recipients) == {"reader@example.org", "other@example.org"}
    assert "Morning briefing" in received.message["Subject"]
    assert PASSWORD not in capsys.readouterr().out


def test_wrong_password_exits_1_and_keeps_the_digest(tmp_path: Path, trust,
                                                     capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    with smtp_server(security="starttls", users={"digest": PASSWORD}) as server:
        trust(server)
        config = write_config(tmp_path, server)
        monkeypatch.setenv("DIGEST_TEST_SMTP_PASSWORD", "wrong")
        assert once(config) == 1
        assert server.handler.received == []
        out = capsys.readouterr()
        assert "NOT delivered" in out.out
        assert "wrong" not in out.out + out.err
        # the user fixes the password: the waiting digest goes out, once
        monkeypatch.setenv("DIGEST_TEST_SMTP_PASSWORD", PASSWORD)
        assert once(config) == 0
        assert once(config) == 0
        assert len(server.handler.received) == 1


def test_server_down_then_up_delivers_exactly_once(tmp_path: Path, trust) -> None:
    server = SmtpServer(security="starttls", users={"digest": PASSWORD})
    trust(server)
    config = write_config(tmp_path, server)
    assert once(config) == 1  # nothing listens yet: the digest waits in the outbox
    server.start()
    try:
        assert once(config) == 0
        assert once(config) == 0
        [received] = server.handler.received
        assert "Morning briefing" in received.message["Subject"]
    finally:
        server.stop()


def test_550_marks_failed_with_reason_and_status_shows_it(
        tmp_path: Path, trust, capsys: pytest.CaptureFixture[str]) -> None:
    with smtp_server(security="starttls", users={"digest": PASSWORD}) as server:
        trust(server)
        config = write_config(tmp_path, server)
        server.handler.data_replies = ["550 5.7.1 Message rejected as spam"]
        assert once(config) == 1
        assert "rejected as spam" in capsys.readouterr().out
        assert once(config) == 0  # a failed message is not retried
        assert server.handler.received == []
        assert main(["status", "--config", str(config)]) == 1
        assert "rejected as spam" in capsys.readouterr().out


def test_partial_recipient_refusal_is_recorded(tmp_path: Path, trust,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    with smtp_server(security="starttls", users={"digest": PASSWORD}) as server:
        trust(server)
        server.handler.refuse = {"other@example.org": "550 5.1.1 No such user"}
        config = write_config(tmp_path, server)
        assert once(config) == 0
        [received] = server.handler.received
        assert received.recipients == ("reader@example.org",)
    out = capsys.readouterr().out
    assert "other@example.org" in out
    with Store.open(state_database(load_config(config))) as store:
        [entry] = store.outbox()
    assert entry.status == "sent"
    assert entry.refused == {"other@example.org": "550 5.1.1 No such user"}


def test_security_none_to_a_remote_host_is_refused(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "digest.toml"
    config.write_text("\n".join([
        "[[watchlists]]", 'name = "K"', 'terms = ["Kim"]',
        "[[digests]]", 'name = "D"', 'schedule = "0 7 * * *"', 'to = ["a@example.org"]',
        "[delivery.smtp]", 'host = "smtp.example.org"', 'security = "none"',
    ]) + "\n")
    assert main(["check", "--config", str(config)]) == 2
    assert "delivery.smtp.security" in capsys.readouterr().err
