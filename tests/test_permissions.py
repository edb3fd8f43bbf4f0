"""Files and permissions as `digest once` leaves them, and what it says when it cannot write.

State directory 0700; database (and its WAL files), lock and Maildir messages 0600. A state
directory that cannot be created, is read-only (a read-only bind mount) or is full (a tiny
tmpfs) ends the run with one clear line and exit status 1, never a traceback. Two runs at
the same time: the second stops at once with a clear message; nothing is sent twice.
The mount-based cases need root and `mount`; they are skipped elsewhere.
"""

from __future__ import annotations

import asyncio
import email
import mailbox
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from email import policy
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.feed_server import FeedServer, Route

ARTICLE = "Kim Jong Un visits Moscow\n\nKim Jong Un arrived on Monday, officials said.\n"


def write_config(tmp_path: Path, *, feed_url: str | None = None) -> Path:
    news = tmp_path / "news"
    news.mkdir(exist_ok=True)
    (news / "a.txt").write_text(ARTICLE)
    feed = f'[[sources.feeds]]\nname = "Slow"\nurl = "{feed_url}"\n\n' if feed_url else ""
    path = tmp_path / "digest.toml"
    path.write_text(f"""\
timezone = "UTC"

[[sources.folders]]
name = "news"
path = "news"

{feed}[[watchlists]]
name = "Korea"
terms = ["Kim Jong Un"]

[[digests]]
name = "Morning"
schedule = "0 7 * * mon-fri"
to = ["you@example.com"]
""")
    return path


def cli(*args: str, state: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "DIGEST_STATE_DIR": str(state)}
    return subprocess.run([sys.executable, "-m", "digest", *args], env=env,
                          capture_output=True, text=True, timeout=60)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_state_and_mail_are_private_whatever_the_umask(tmp_path: Path,
                                                       isolated_env: Path) -> None:
    config = write_config(tmp_path)
    old = os.umask(0o022)
    try:
        done = cli("once", "--config", str(config), "--quiet", state=isolated_env)
    finally:
        os.umask(old)
    assert done.returncode == 0, done.stderr
    assert mode(isolated_env) == 0o700
    files = sorted(p.name for p in isolated_env.iterdir() if p.is_file())
    assert {"digest.sqlite", "lock"} <= set(files)
    for name in files:  # the database, its -wal/-shm, the lock
        assert mode(isolated_env / name) == 0o600, name
    maildir = isolated_env / "mail"
    for folder in (maildir, maildir / "new", maildir / "cur", maildir / "tmp"):
        assert mode(folder) == 0o700
    [message] = list((maildir / "new").iterdir())
    assert mode(message) == 0o600


def test_state_directory_that_cannot_be_created_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    done = cli("once", "--config", str(write_config(tmp_path)), "--quiet",
               state=blocker / "state")
    assert done.returncode == 1
    assert done.stderr.startswith("digest: error: cannot create the state directory")
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1


@pytest.fixture
def mount_point(tmp_path: Path) -> Iterator[Path]:
    """An empty directory to mount on; unmounted afterwards. Skips without root/mount."""
    if os.geteuid() != 0:
        pytest.skip("mounting needs root")
    point = tmp_path / "mnt"
    point.mkdir()
    yield point
    subprocess.run(["umount", "-l", str(point)], capture_output=True, check=False)


def mount(*args: str) -> None:
    done = subprocess.run(["mount", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"mount is not possible here: {done.stderr.strip()}")


def test_read_only_state_directory_is_a_clear_error(tmp_path: Path,
                                                    mount_point: Path) -> None:
    source = tmp_path / "ro-source"
    source.mkdir(mode=0o700)
    mount("--bind", "-o", "ro", str(source), str(mount_point))
    if os.access(mount_point, os.W_OK) and _writable(mount_point):
        pytest.skip("the bind mount did not become read-only")
    done = cli("once", "--config", str(write_config(tmp_path)), "--quiet", state=mount_point)
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("digest: error: ")
    assert "Read-only file system" in done.stderr or "readonly" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1


def _writable(path: Path) -> bool:
    try:
        (path / ".probe").write_text("x")
    except OSError:
        return False
    (path / ".probe").unlink()
    return True


def test_full_state_directory_is_a_clear_error_and_the_next_run_recovers(
        tmp_path: Path, mount_point: Path) -> None:
    mount("-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", str(mount_point))
    config = write_config(tmp_path)
    filler = mount_point / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)
    done = cli("once", "--config", str(config), "--quiet", state=mount_point)
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("digest: error: ")
    assert "full" in done.stderr or "No space" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1

    filler.unlink()  # the user frees space: the article is still news, delivered once
    done = cli("once", "--config", str(config), "--quiet", state=mount_point)
    assert done.returncode == 0, done.stderr
    assert len(list((mount_point / "mail" / "new").iterdir())) == 1
    cli("once", "--config", str(config), "--quiet", state=mount_point)
    assert len(list((mount_point / "mail" / "new").iterdir())) == 1


async def test_two_runs_at_once_the_second_stops_and_nothing_is_sent_twice(
        tmp_path: Path, isolated_env: Path) -> None:
    rss = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
           b"<item><title>Kim Jong Un meets Putin</title><guid>g1</guid>"
           b"<description>Kim Jong Un met Putin.</description></item></channel></rss>")
    async with FeedServer({"/slow.xml": Route.feed(rss, delay=2.0)}) as server:
        config = write_config(tmp_path, feed_url=server.url("/slow.xml"))
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        args = [sys.executable, "-m", "digest", "once", "--config", str(config), "--quiet"]
        first = await asyncio.create_subprocess_exec(
            *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            while not server.requests:  # the first run holds the lock and waits on the feed
                assert first.returncode is None
                await asyncio.sleep(0.02)
            second = await asyncio.create_subprocess_exec(
                *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            _, err2 = await second.communicate()
            _, err1 = await first.communicate()
        finally:
            if first.returncode is None:
                first.kill()
                await first.wait()
    assert second.returncode == 1
    assert err2.decode().strip() == (f"digest: error: another digest is running on "
                                     f"{isolated_env} (pid {first.pid})")
    assert first.returncode == 0, err1.decode()
    box = mailbox.Maildir(isolated_env / "mail", create=False)
    [key] = box.keys()
    message = email.message_from_bytes(box.get_bytes(key), policy=policy.default)
    assert "2 stories" in str(message["Subject"])
