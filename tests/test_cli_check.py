"""`digest check`: a summary for a good configuration, one line and exit 2 for a bad one,
and never a password in any output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from digest.cli import main
from tests.conftest import REPO
from tests.smtp_server import SMTP_WARNINGS, smtp_server
from tests.test_config import BROKEN, write

pytestmark = SMTP_WARNINGS

SECRET = "pa55-w0rd-never-shown"
FULL = """
timezone = "Europe/London"
[[sources.folders]]
name = "local"
path = "articles"
[[sources.feeds]]
name = "BBC World"
url = "https://feeds.bbci.co.uk/news/world/rss.xml"
[[sources.feeds]]
name = "Reuters"
url = "https://example.com/reuters.xml"
every = "5m"
[[watchlists]]
name = "Korea"
terms = ["Kim Jong Un", "North Korea", "Pyongyang"]
alert = true
[[watchlists]]
name = "Sanctions"
query = 'sanction* AND Russia'
[[digests]]
name = "Evening"
schedule = "30 18 * * sun"
watchlists = ["Sanctions"]
to = ["a@example.com", "b@example.com"]
[alerts]
to = ["a@example.com"]
quiet_hours = "22:00-07:00"
[delivery]
method = "smtp"
from = "Digest <digest@example.com>"
[delivery.smtp]
host = "smtp.example.com"
username = "digest@example.com"
password_env = "DIGEST_SMTP_PASSWORD"
"""


def check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["check", *args])
    out, err = capsys.readouterr()
    return status, out, err


def test_bundled_config_is_valid_and_summarized(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = check(capsys, "--config", str(REPO / "config" / "digest.toml"))
    assert (status, err) == (0, "")
    assert f"folder seeds: {REPO / 'seeds'} (*.txt)" in out
    assert "Korea: 3 terms, alert off" in out
    assert ("Morning briefing: '0 7 * * mon-fri'" in out
            and "to you@localhost; watchlists Korea, Sanctions" in out)
    assert "delivery: maildir, from News Digest <digest@localhost>" in out
    assert f"maildir: {REPO / 'var' / 'mail'}" in out


def test_summary_lists_feeds_watchlists_digests_and_masks_the_password(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGEST_SMTP_PASSWORD", SECRET)
    status, out, err = check(capsys, "--config", str(write(tmp_path, FULL)))
    assert (status, err) == (0, "")
    assert "feeds: 2: BBC World, Reuters" in out
    assert "Korea: 3 terms, alert on" in out
    assert "Sanctions: query 'sanction* AND Russia', alert off" in out
    assert "Evening: '30 18 * * sun' (Europe/London) to a@example.com, b@example.com" in out
    assert "alerts: to a@example.com, at most one per 10m, quiet 22:00-07:00" in out
    assert ("smtp: smtp.example.com:587, security starttls, username digest@example.com, "
            "password ******** ($DIGEST_SMTP_PASSWORD)") in out
    assert SECRET not in out + err


def test_password_file_and_missing_variable_are_reported_not_shown(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    status, out, _ = check(capsys, "--config", str(write(tmp_path, FULL)))
    assert status == 0
    assert "password MISSING (delivery.smtp.password_env: environment variable " \
           "DIGEST_SMTP_PASSWORD is not set)" in out
    (tmp_path / "pw").write_text(SECRET + "\n", encoding="utf-8")
    text = FULL.replace('password_env = "DIGEST_SMTP_PASSWORD"', 'password_file = "pw"')
    status, out, err = check(capsys, "--config", str(write(tmp_path, text)))
    assert status == 0
    assert f"password ******** (file {tmp_path / 'pw'})" in out
    assert SECRET not in out + err


@pytest.mark.parametrize(("text", "expected"),
                         [case[1:] for case in BROKEN if case[0] in {
                             "syntax", "empty-terms", "numeric-dow", "unknown-watchlist",
                             "crlf-address", "bad-timezone", "none-remote", "feed-file-url"}])
def test_broken_config_exits_2_with_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            text: str, expected: str) -> None:
    status, out, err = check(capsys, "--config", str(write(tmp_path, text)))
    assert status == 2
    assert out == ""
    assert err.startswith("digest: error: ") and expected in err
    assert err.count("\n") == 1


def test_config_from_environment_and_missing_config(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    status, _, err = check(capsys)
    assert status == 2
    assert "no configuration found; looked in config/digest.toml" in err
    monkeypatch.setenv("DIGEST_CONFIG", str(REPO / "config" / "digest.toml"))
    status, out, _ = check(capsys)
    assert status == 0 and "Morning briefing" in out


def test_smtp_flag_needs_an_smtp_table(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = check(capsys, "--smtp", "--config", str(REPO / "config" / "digest.toml"))
    assert status == 2
    assert "delivery.smtp: --smtp: there is no [delivery.smtp] table to try" in err


def smtp_config(port: int, password_env: str = "DIGEST_SMTP_PASSWORD") -> str:
    return (f'[delivery.smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
            f'username = "u"\npassword_env = "{password_env}"\ntimeout = "5s"\n')


def test_smtp_flag_logs_in_to_a_real_server(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    with smtp_server(security="none", users={"u": SECRET}) as server:
        path = write(tmp_path, smtp_config(server.port))
        monkeypatch.setenv("DIGEST_SMTP_PASSWORD", SECRET)
        status, out, err = check(capsys, "--smtp", "--config", str(path))
        assert status == 0  # (stderr may carry aiosmtpd's own log lines)
        assert f"smtp: login to 127.0.0.1:{server.port} as u" in out
        monkeypatch.setenv("DIGEST_SMTP_PASSWORD", "wrong-" + SECRET)
        status, out, err = check(capsys, "--smtp", "--config", str(path))
        assert status == 1
        assert "digest: error: " in err and "Traceback" not in err.split("digest: error")[-1]
        assert SECRET not in out + err
    assert server.handler.received == []  # a check sends nothing


def run_digest(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "digest", *args], capture_output=True,
                          text=True, timeout=60, cwd=REPO, env=env, check=False)


def test_subprocess_broken_config_exits_2_without_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, '[[watchlists]]\nname = "K"\nterms = []\n')
    result = run_digest("check", "--config", str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (f"digest: error: {path}: watchlists[1].terms: must be a non-empty "
                             "list of strings, got an empty list\n")


def test_subprocess_never_prints_the_password(tmp_path: Path) -> None:
    import os

    env = {**os.environ, "DIGEST_SMTP_PASSWORD": SECRET, "DIGEST_STATE_DIR": str(tmp_path)}
    result = run_digest("check", "--config", str(write(tmp_path, FULL)), env=env)
    assert result.returncode == 0, result.stderr
    assert "password ********" in result.stdout
    assert SECRET not in result.stdout + result.stderr
