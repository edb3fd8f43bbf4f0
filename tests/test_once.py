"""`digest once` end to end: the bundled config and seeds, real files, a real Maildir."""

from __future__ import annotations

import email
import mailbox
import os
import re
import shutil
import subprocess
import sys
from email import policy
from email.message import EmailMessage
from html import unescape
from pathlib import Path

import pytest

from digest.cli import main
from tests.conftest import REPO


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the repository's config/ and seeds/ in tmp_path, as a fresh clone has them."""
    root = tmp_path / "clone"
    shutil.copytree(REPO / "config", root / "config")
    shutil.copytree(REPO / "seeds", root / "seeds")
    return root


def maildir_messages(path: Path) -> list[EmailMessage]:
    if not path.exists():
        return []
    box = mailbox.Maildir(path, create=False)
    return [
        email.message_from_bytes(box.get_bytes(key), policy=policy.default)  # type: ignore[misc]
        for key in box.iterkeys()
    ]


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    return subprocess.run([sys.executable, "-m", "digest", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_once_on_bundled_config_delivers_one_digest_then_nothing(project: Path) -> None:
    """The quickstart, as a user runs it: cwd is the clone, no --config, default state."""
    first = run_cli("once", cwd=project)
    assert first.returncode == 0, first.stderr
    mail_dir = project / "var" / "mail"
    messages = maildir_messages(mail_dir)
    assert len(messages) == 1
    message = messages[0]
    assert "Morning briefing" in message["Subject"]
    assert message["Auto-Submitted"] == "auto-generated"
    assert "Morning briefing" in message["List-Id"]
    text, html = parts(message)
    headline = "Vladimir Putin ‘gratefully accepts’ Kim Jong Un’s invitation to go to North Korea"
    assert headline in " ".join(text.split())  # the text part wraps at 72 columns
    html_text = " ".join(unescape(re.sub(r"<[^>]+>", "", html)).split())
    assert headline in html_text
    assert re.search(r"<mark[^>]*>\s*Kim Jong Un(’s)?\s*</mark>", html), "highlighted"
    flat = " ".join(text.split())
    assert "Putin has “gratefully accepted” accepted Kim Jong Un’s invitation" in flat  # summary
    assert "Read extra" not in flat
    assert "Morning briefing" in first.stdout and "maildir" in first.stdout

    second = run_cli("once", cwd=project)
    assert second.returncode == 0, second.stderr
    assert len(maildir_messages(mail_dir)) == 1
    assert "nothing to send" in second.stdout


def test_dry_run_prints_the_digest_and_changes_nothing(project: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    config = str(project / "config" / "digest.toml")
    state = Path(os.environ["DIGEST_STATE_DIR"])
    assert main(["once", "--config", config, "--dry-run", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "Kim Jong Un" in out and "Subject:" in out
    assert maildir_messages(project / "var" / "mail") == []
    assert not (state / "digest.sqlite").exists()
    # the real run afterwards still finds the article new
    assert main(["once", "--config", config, "--quiet"]) == 0
    assert len(maildir_messages(project / "var" / "mail")) == 1


def test_since_widens_the_window_to_articles_already_sent(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = str(project / "config" / "digest.toml")
    assert main(["once", "--config", config, "--quiet"]) == 0
    assert main(["once", "--config", config, "--quiet"]) == 0
    assert len(maildir_messages(project / "var" / "mail")) == 1
    assert main(["once", "--config", config, "--quiet", "--since", "7d"]) == 0
    assert len(maildir_messages(project / "var" / "mail")) == 2


def test_to_overrides_recipients_and_digest_selects(project: Path) -> None:
    config = str(project / "config" / "digest.toml")
    assert main(["once", "--config", config, "--quiet", "--to", "other@example.org"]) == 0
    [message] = maildir_messages(project / "var" / "mail")
    assert message["To"] == "other@example.org"


def test_unknown_digest_name_is_a_usage_error(project: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    config = str(project / "config" / "digest.toml")
    assert main(["once", "--config", config, "--digest", "Evening"]) == 2
    assert "Evening" in capsys.readouterr().err


def test_hostile_article_text_is_escaped_and_adds_no_header(project: Path) -> None:
    seeds = project / "seeds"
    (seeds / "evil.txt").write_text(
        "=?UTF-8?Q?Kim_Jong_Un=0D=0ABcc:_evil@example.net?= <script>alert(1)</script>"
        " Kim Jong Un\n\n"
        "North Korea said <script>steal()</script> and <a href=\"javascript:alert(2)\">"
        "click</a> today. Kim Jong Un was there. More text follows here.\n",
        encoding="utf-8")
    config = str(project / "config" / "digest.toml")
    assert main(["once", "--config", config, "--quiet"]) == 0
    [message] = maildir_messages(project / "var" / "mail")
    assert message["Bcc"] is None
    assert "\n" not in message["Subject"]
    _, html = parts(message)
    assert "<script>" not in html
    hrefs = re.findall(r"<a\b[^>]*\bhref=\"([^\"]*)\"", html)
    assert all(h.startswith(("http://", "https://", "#")) for h in hrefs), hrefs
    assert "&lt;script&gt;" in html


@pytest.mark.parametrize("address", ["a@b..c", "you\r\nBcc: x@y.z", "nobody"])
def test_to_is_checked_like_the_config_file(project: Path, address: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    config = str(project / "config" / "digest.toml")
    assert main(["once", "--config", config, "--quiet", "--to", address]) == 2
    assert "--to" in capsys.readouterr().err
    assert maildir_messages(project / "var" / "mail") == []
