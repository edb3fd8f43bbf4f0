"""`digest once` with feeds: real HTTP server, the progress bar on a terminal, the quiet path."""

from __future__ import annotations

import asyncio
import fcntl
import os
import pty
import struct
import sys
import termios
from pathlib import Path

from digest.cli import main
from tests.feed_server import FeedServer, Route


def rss(*titles: str) -> bytes:
    items = "".join(
        f"<item><title>{t}</title><link>https://news.example.org/{i}</link>"
        f"<description>{t}. North Korea said more today.</description></item>"
        for i, t in enumerate(titles))
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>F</title>{items}'
            "</channel></rss>").encode()


def write_config(root: Path, server: FeedServer, feeds: int) -> Path:
    lines = ["[[watchlists]]", 'name = "Korea"', 'terms = ["North Korea"]',
             "[[digests]]", 'name = "Briefing"', 'schedule = "0 7 * * *"',
             'to = ["me@localhost"]', "[delivery]", f'maildir = "{root / "mail"}"']
    for n in range(feeds):
        lines += ["[[sources.feeds]]", f'name = "Feed {n}"', f'url = "{server.url(f"/{n}")}"']
    path = root / "digest.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


async def run_on_terminal(*args: str) -> tuple[int, str]:
    """Run `digest` with stderr on a pseudo-terminal, as a user at a shell would."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"} | {"TERM": "xterm"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "digest", *args, stdout=asyncio.subprocess.PIPE,
        stderr=follower, env=env)
    os.close(follower)
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO: the child closed the terminal
                return
            if not chunk:
                return
            chunks.append(chunk)

    reader = asyncio.get_running_loop().run_in_executor(None, drain)
    await asyncio.wait_for(proc.wait(), timeout=120)
    await asyncio.wait_for(reader, timeout=10)
    os.close(leader)
    return proc.returncode or 0, b"".join(chunks).decode(errors="replace")


async def test_progress_bar_on_a_terminal_and_not_with_quiet(tmp_path: Path) -> None:
    routes = {f"/{n}": Route.feed(rss(f"Story {n}")) for n in range(5)}
    async with FeedServer(routes) as server:
        config = str(write_config(tmp_path, server, feeds=5))
        status, terminal = await run_on_terminal("once", "--config", config)
        assert status == 0
        assert "5/5" in terminal and "feed" in terminal  # the bar reached the end
        status, terminal = await run_on_terminal("once", "--config", config, "--quiet")
        assert status == 0
        assert "5/5" not in terminal


async def test_broken_feed_is_reported_and_the_rest_reach_the_digest(
        tmp_path: Path, capsys: object) -> None:
    routes = {"/0": Route.feed(rss("Talks resume")), "/1": Route(status=500),
              "/2": Route(body=b"<html><body>Not a feed</body></html>",
                          content_type="text/html")}
    async with FeedServer(routes) as server:
        config = str(write_config(tmp_path, server, feeds=3))
        status = await asyncio.to_thread(main, ["once", "--config", config, "--quiet"])
    assert status == 0  # failed sources are reported, not fatal
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "2 source(s) failed (Feed 1, Feed 2)" in out
    mail = list((tmp_path / "mail" / "new").iterdir())
    assert len(mail) == 1
    text = mail[0].read_text()
    assert "Talks resume" in text
    assert "Feed 1" in text and "Feed 2" in text  # the sources-with-problems footer
