"""Hostile configuration: huge or deeply nested files, 100,000 watchlist terms, regexes that
backtrack, templates outside the config directory, and secrets that must never be printed.

Template paths: ``templates_dir`` may point anywhere, because the user wrote it explicitly
(relative paths are relative to the file); nothing else is looked up outside it and the
bundled templates — a template cannot ``include`` a file outside ``templates_dir``.
"""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from digest.cli import main
from digest.config import load_config
from digest.matcher import Matcher
from digest.models import Article
from tests.conftest import REPO
from tests.smtp_server import SMTP_WARNINGS, SmtpServer, smtp_server

PASSWORD = "pw-Zq8!kX3#vR7"
BASE = """\
timezone = "UTC"

[[sources.folders]]
name = "news"
path = "news"

[[digests]]
name = "Morning"
schedule = "0 7 * * mon-fri"
to = ["you@example.com"]
"""
WATCHLIST = '[[watchlists]]\nname = "Korea"\nterms = ["Kim Jong Un"]\n'


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "news").mkdir(exist_ok=True)
    (tmp_path / "news" / "a.txt").write_text(
        "Kim Jong Un visits Moscow\n\nKim Jong Un arrived on Monday, officials said.\n")
    path = tmp_path / "digest.toml"
    path.write_text(text)
    return path


def check(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = main(["check", "--config", str(path)])
    out, err = capsys.readouterr()
    return status, out + err


def test_a_huge_file_is_refused_before_parsing(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, BASE + WATCHLIST + "# " + "x" * 11_000_000 + "\n")
    status, said = check(path, capsys)
    assert status == 2
    assert "larger than 10 MB" in said and "Traceback" not in said


@pytest.mark.parametrize("nesting", [
    "deep = " + "[" * 50_000 + "]" * 50_000 + "\n",
    "deep = " + "{ a = " * 5_000 + "1" + " }" * 5_000 + "\n",
    "[" + ".".join(["t"] * 5_000) + "]\n",
    ".".join(["k"] * 5_000) + " = 1\n",
])
def test_deep_nesting_is_a_one_line_error(tmp_path: Path, nesting: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, nesting + BASE + WATCHLIST)
    status, said = check(path, capsys)
    assert status == 2, said
    assert said.startswith("digest: error:") and len(said.splitlines()) == 1


@pytest.mark.slow
def test_a_watchlist_of_100000_terms_loads_and_matches(tmp_path: Path) -> None:
    terms = [f"term{n:06d} topic" for n in range(100_000)]
    listed = ",\n".join(f'  "{t}"' for t in terms)
    path = write(tmp_path, BASE + f'[[watchlists]]\nname = "Huge"\nterms = [\n{listed}\n]\n')
    config = load_config(path)
    matcher = Matcher(config.watchlists)
    hit = Article(source="s", id="1", title="Report on term054321 topics",
                  body="Nothing about term1 or topic99.")
    miss = Article(source="s", id="2", title="Weather", body="term054321topic is not a word")
    [match] = matcher.match(hit)
    assert match.watchlist == "Huge"
    assert {h.term for h in match.hits} == {"term054321 topic"}
    assert matcher.match(miss) == []


@pytest.mark.parametrize("query", ["/(a+)+$/", "/(\\w+\\s?)*$/", "/(a|aa)*b/", "/(x+x+)+y/"])
def test_a_regex_that_backtracks_exponentially_is_rejected(
        tmp_path: Path, query: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, BASE + f"[[watchlists]]\nname = \"Bad\"\nquery = '{query}'\n")
    status, said = check(path, capsys)
    assert status == 2
    assert "watchlists[1].query" in said and "exponential time" in said


@pytest.mark.slow
def test_a_regex_that_backtracks_polynomially_is_rejected_or_time_bounded(
        tmp_path: Path) -> None:
    article = tmp_path / "digits.txt"
    article.write_text("Digits\n\n" + "1" * 5_000 + "\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "digest", "match",
                             "/\\d*\\d*\\d*\\d*\\d*x/", str(article)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _, err = proc.communicate(timeout=8)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise AssertionError("matching one article did not finish") from None
    assert proc.returncode in (0, 1, 2)
    assert "Traceback" not in err  # a clean answer or a clean error, never a crash


def test_templates_dir_outside_the_config_directory_is_used_when_explicit(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    elsewhere = tmp_path / "elsewhere" / "templates"
    elsewhere.mkdir(parents=True)
    (elsewhere / "digest.subject.txt").write_text("Custom: {{ digest.name }}\n")
    conf = tmp_path / "conf"
    conf.mkdir()
    path = write(conf, f'templates_dir = "../elsewhere/templates"\n{BASE}{WATCHLIST}'
                       '[delivery]\nmethod = "stdout"\n')
    assert main(["once", "--config", str(path), "--quiet"]) == 0
    assert "Subject: Custom: Morning" in capsys.readouterr().out


def test_a_template_cannot_include_files_outside_templates_dir(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "secret.txt").write_text("SECRET-FILE-CONTENT")
    templates = tmp_path / "conf" / "templates"
    templates.mkdir(parents=True)
    (templates / "digest.txt").write_text('{% include "../../secret.txt" %}\n')
    path = write(tmp_path / "conf", f'templates_dir = "templates"\n{BASE}{WATCHLIST}'
                                    '[delivery]\nmethod = "stdout"\n')
    status = main(["once", "--config", str(path), "--quiet"])
    out, err = capsys.readouterr()
    assert status == 2
    assert "SECRET-FILE-CONTENT" not in out + err
    assert err.startswith("digest: error: templates_dir: template digest.txt: no template "
                          "'../../secret.txt'")


# --- secrets ----------------------------------------------------------------------------------

def secret_forms() -> list[str]:
    """The password as it could leak: plain, and inside AUTH PLAIN / LOGIN base64."""
    user = "digest@example.com"
    return [PASSWORD,
            base64.b64encode(PASSWORD.encode()).decode(),
            base64.b64encode(f"\0{user}\0{PASSWORD}".encode()).decode(),
            base64.b64encode(f"{user}\0{user}\0{PASSWORD}".encode()).decode()]


def smtp_config(tmp_path: Path, server: SmtpServer) -> Path:
    return write(tmp_path, f"""{BASE}{WATCHLIST}
[delivery]
method = "smtp"

[delivery.smtp]
host = "127.0.0.1"
port = {server.port}
security = "none"
username = "digest@example.com"
password_env = "DIGEST_SMTP_PASSWORD"
timeout = "2s"
""")


def run_cli(*args: str, password: str = PASSWORD) -> str:
    env = {**os.environ, "PYTHONPATH": str(REPO), "DIGEST_SMTP_PASSWORD": password}
    done = subprocess.run([sys.executable, "-m", "digest", *args], env=env,
                          capture_output=True, text=True, timeout=60)
    return done.stdout + done.stderr


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")
def test_the_smtp_password_is_never_printed(tmp_path: Path) -> None:
    outputs: list[str] = []
    with smtp_server(security="none", users={"digest@example.com": "other"}) as server:
        config = str(smtp_config(tmp_path, server))
        for debug in ([], ["--debug"]):
            outputs.append(run_cli(*debug, "check", "--config", config))
            outputs.append(run_cli(*debug, "check", "--config", config, "--smtp"))  # 535
            outputs.append(run_cli(*debug, "once", "--config", config, "--quiet"))  # 535
            outputs.append(run_cli(*debug, "status", "--config", config))
        server.handler.data_replies.append("554 5.7.1 rejected")
        outputs.append(run_cli("--debug", "once", "--config", config, "--quiet",
                               password="other"))
    # the server is gone now: a new digest meets "connection refused"
    (tmp_path / "news" / "b.txt").write_text("Kim Jong Un returns\n\nKim Jong Un is back.\n")
    outputs.append(run_cli("--debug", "once", "--config", config, "--quiet"))
    outputs.append(run_cli("--debug", "status", "--config", config))
    outputs.append(run_daemon(config, tmp_path))
    everything = "\n".join(outputs)
    assert "535" in everything and "connection refused" in everything  # failures happened
    for form in secret_forms():
        assert form not in everything


def run_daemon(config: str, tmp_path: Path) -> str:
    """`digest --debug run` until it polled once (against a dead SMTP server), then SIGTERM."""
    log = tmp_path / "run.log"
    env = {**os.environ, "PYTHONPATH": str(REPO), "DIGEST_SMTP_PASSWORD": PASSWORD}
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "digest", "--debug", "run", "--config",
                                 config], env=env, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 20
        while "executed successfully" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)
        assert "executed successfully" in log.read_text()  # it ran, so its output counts
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return log.read_text()


pytestmark = SMTP_WARNINGS
