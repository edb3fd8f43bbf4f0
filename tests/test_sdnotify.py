"""The notify protocol against a real AF_UNIX datagram socket set as NOTIFY_SOCKET, and the
daemon's messages in order: READY, WATCHDOG pings, RELOADING/READY, STOPPING."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from digest import sdnotify
from tests.conftest import REPO


@pytest.fixture
def notify_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    path = tmp_path / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(5)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    yield sock
    sock.close()


def test_notify_sends_one_datagram(notify_socket: socket.socket) -> None:
    assert sdnotify.notify("READY=1", "STATUS=running")
    assert notify_socket.recv(4096) == b"READY=1\nSTATUS=running\n"


def test_abstract_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"digest-test-{os.getpid()}-{time.monotonic_ns()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(5)
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
        assert sdnotify.notify("STOPPING=1")
        assert sock.recv(4096) == b"STOPPING=1\n"


def test_without_systemd_it_is_a_no_op() -> None:
    assert "NOTIFY_SOCKET" not in os.environ
    assert not sdnotify.notify("READY=1")
    assert sdnotify.watchdog_interval() is None


def test_a_vanished_socket_is_not_fatal(tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch,
                                        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "gone"))
    assert not sdnotify.notify("READY=1")
    assert "could not notify systemd" in caplog.text


def test_reloading_carries_the_monotonic_clock(notify_socket: socket.socket) -> None:
    before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    sdnotify.reloading()
    lines = notify_socket.recv(4096).decode().splitlines()
    assert lines[0] == "RELOADING=1"
    key, value = lines[1].split("=")
    assert key == "MONOTONIC_USEC" and before <= int(value) <= before + 5_000_000


def test_watchdog_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "3000000")
    assert sdnotify.watchdog_interval() == 1.5
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    assert sdnotify.watchdog_interval() == 1.5
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid() + 1))  # meant for another process
    assert sdnotify.watchdog_interval() is None


async def test_watchdog_pings_until_cancelled(notify_socket: socket.socket) -> None:
    task = asyncio.create_task(sdnotify.watchdog(0.05))
    await asyncio.sleep(0.22)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    notify_socket.setblocking(False)
    pings = []
    while True:
        try:
            pings.append(notify_socket.recv(4096))
        except BlockingIOError:
            break
    assert 3 <= len(pings) <= 6
    assert set(pings) == {b"WATCHDOG=1\n"}


# the daemon's messages -------------------------------------------------------------------
CONFIG = """\
timezone = "Europe/London"

[sources]
every = "1h"

[[sources.folders]]
name = "seeds"
path = "seeds"

[[watchlists]]
name = "Korea"
terms = ["{term}"]

[[digests]]
name = "Morning"
schedule = "0 7 * * mon-fri"
to = ["you@example.com"]

[delivery]
method = "maildir"
from = "News Digest <digest@localhost>"
maildir = "mail"
"""


def receive(sock: socket.socket, until: str, deadline: float) -> list[str]:
    """Messages (one string per datagram) up to and including the one containing ``until``."""
    got: list[str] = []
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            got.append(sock.recv(4096).decode())
        except TimeoutError:
            break
        if until in got[-1]:
            return got
    raise AssertionError(f"no {until} within the time; got {got}")


def test_daemon_notifies_in_order(tmp_path: Path, notify_socket: socket.socket) -> None:
    (tmp_path / "seeds").mkdir()
    config = tmp_path / "digest.toml"
    config.write_text(CONFIG.format(term="Kim Jong Un"))
    env = {**os.environ, "WATCHDOG_USEC": "600000", "PYTHONPATH": str(REPO)}
    log_path = tmp_path / "daemon.log"
    with log_path.open("w") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "digest", "run", "--config", str(config)],
            env=env, stderr=log_file)
    try:
        deadline = time.monotonic() + 30
        start = receive(notify_socket, "READY=1", deadline)
        assert not any("RELOADING" in m or "STOPPING" in m for m in start)
        pings = receive(notify_socket, "WATCHDOG=1", deadline)
        pings += receive(notify_socket, "WATCHDOG=1", deadline)
        assert sum("WATCHDOG=1" in m for m in pings) >= 2
        config.write_text(CONFIG.format(term="Pyongyang"))
        proc.send_signal(signal.SIGHUP)
        reload = receive(notify_socket, "READY=1", deadline)
        flow = [m for m in reload if "WATCHDOG" not in m]
        assert flow[0].startswith("RELOADING=1\nMONOTONIC_USEC=")
        assert "READY=1" in flow[-1] and "STATUS=reloaded" in flow[-1]
        proc.send_signal(signal.SIGTERM)
        stopping = receive(notify_socket, "STOPPING=1", deadline)
        assert all("READY" not in m for m in stopping)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    log = log_path.read_text()
    assert "reloaded" in log, log


def test_sighup_while_starting_reloads_after_ready_instead_of_killing(
        tmp_path: Path, notify_socket: socket.socket) -> None:
    (tmp_path / "seeds").mkdir()
    config = tmp_path / "digest.toml"
    many = '", "'.join(f"term{n} word{n}" for n in range(20_000))  # a slow start
    config.write_text(CONFIG.format(term=many))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "digest", "run", "--config", str(config)],
                            env=env, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        for line in proc.stderr:  # the handlers are in place once this line is logged
            if "starting with" in line:
                break
        proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 60
        receive(notify_socket, "READY=1", deadline)
        after = receive(notify_socket, "STATUS=reloaded", deadline)
        assert proc.poll() is None and any("RELOADING=1" in m for m in after)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
