"""`digest status`: feeds, digests with their next run, job results, the outbox; exit 1
while a message has failed."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from digest.cli import main
from digest.config import load_config, resolve_state_dir
from digest.mail import build_message, make_message_id
from digest.models import Outgoing, RenderedMail
from digest.store import FeedState, Store

CONFIG = """\
timezone = "Europe/London"

[[sources.feeds]]
name = "World"
url = "http://127.0.0.1:9/world.xml"

[[sources.feeds]]
name = "Never polled"
url = "http://127.0.0.1:9/new.xml"

[[watchlists]]
name = "Korea"
terms = ["Kim Jong Un"]

[[digests]]
name = "Morning"
schedule = "0 7 * * mon-fri"
to = ["you@example.com"]

[delivery]
method = "maildir"
from = "News Digest <digest@localhost>"
"""
T0 = datetime(2025, 6, 2, 6, 0, tzinfo=timezone.utc)


def message(run: str, subject: str) -> Outgoing:
    sender = "News Digest <digest@localhost>"
    return build_message(RenderedMail(subject=subject, text="x\n", html="<p>x</p>"),
                         kind="digest", name="Morning", sender=sender,
                         recipients=("you@example.com",),
                         message_id=make_message_id("digest", "Morning", run, sender), date=T0)


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "digest.toml"
    path.write_text(CONFIG)
    return path


def open_store(config_path: Path) -> Store:
    return Store.open(resolve_state_dir(load_config(config_path)) / "digest.sqlite")


def test_fresh_state(config_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--config", str(config_path)]) == 0
    out = capsys.readouterr().out
    assert "World: not polled yet" in out
    assert "Morning (0 7 * * mon-fri): last run never" in out
    assert re.search(r"next run \d{4}-\d\d-\d\d 07:00 (BST|GMT)", out)
    assert "outbox: 0 pending, 0 failed" in out


def test_everything_shown_and_failed_mail_exits_1(config_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    with open_store(config_path) as store:
        store.save_feed_state(FeedState(
            name="World", url="http://127.0.0.1:9/world.xml", failures=3,
            last_error="HTTP 503", last_error_at=T0, last_success=T0 - timedelta(hours=2),
            next_try=T0 + timedelta(minutes=30), items_seen=42))
        store.commit_digest("Morning", T0, message("1", "Morning: 2 stories"), ["a", "b"])
        store.commit_digest("Morning", T0 + timedelta(days=1),
                            message("2", "Morning: 1 story"), ["c"], now=T0 + timedelta(days=1))
        store.mark_failed(message("1", "").message_id, "550 5.1.1 no such user")
        store.mark_retry(message("2", "").message_id, "connection refused",
                         T0 + timedelta(days=1, minutes=5))
        store.record_job_result("poll:feed:World", T0, False, "HTTP 503")
        store.record_job_result("digest:Morning", T0, True, "2 stories, queued; sent")
    assert main(["status", "--config", str(config_path)]) == 1
    out = capsys.readouterr().out
    assert ("World: last success 2025-06-02 05:00 BST, 42 item(s) seen; 3 failure(s) in a "
            "row, last error 2025-06-02 07:00 BST: HTTP 503; next try 2025-06-02 07:30 BST"
            ) in out
    assert "Morning (0 7 * * mon-fri): last run 2025-06-03 07:00 BST" in out
    assert "poll:feed:World: 2025-06-02 07:00 BST FAILED: HTTP 503" in out
    assert "outbox: 1 pending, 1 failed" in out
    assert "pending: 'Morning: 1 story' to you@example.com (1 attempt(s)" in out
    assert "connection refused" in out
    assert "FAILED: 'Morning: 2 stories' to you@example.com: 550 5.1.1 no such user" in out


def test_next_run_follows_the_schedule(config_path: Path) -> None:
    from io import StringIO

    from digest.cli.status import show_status

    out = StringIO()
    with open_store(config_path) as store:
        show_status(load_config(config_path), store, out,
                    now=datetime(2025, 6, 6, 7, 0, tzinfo=timezone.utc))  # Friday 08:00 BST
    assert "next run 2025-06-09 07:00 BST" in out.getvalue()  # Monday


def test_bad_config_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "digest.toml"
    path.write_text("timezone = \n")
    assert main(["status", "--config", str(path)]) == 2
    assert "digest.toml" in capsys.readouterr().err
