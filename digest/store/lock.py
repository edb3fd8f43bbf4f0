"""The process lock, and the private state directory it lives in."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from digest.errors import LockedError, StateError


@contextmanager
def acquire_lock(state_dir: Path) -> Iterator[None]:
    """Hold ``state_dir/lock`` for the duration; a second `digest` gets LockedError at once.

    flock is released by the kernel when the process dies, so a crash never leaves a stale lock.
    The file itself stays: deleting it would let two processes lock two different files.
    """
    _make_dir(state_dir)
    path = state_dir / "lock"
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise StateError(f"cannot create the lock file {path}: {exc.strerror}") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            raise LockedError(
                f"another digest is running on {state_dir} (pid {holder})") from exc
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        except OSError as exc:  # a full disk must be one clear line, not a traceback
            raise StateError(f"cannot write the lock file {path}: {exc.strerror} (check the "
                             "free space of the state directory)") from exc
        yield
    finally:
        os.close(fd)  # closing releases the flock


def _make_dir(path: Path) -> None:
    """Create ``path`` (and parents) private to the user: 0700, whatever the umask."""
    if path.is_dir():
        return
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.chmod(0o700)
    except OSError as exc:
        raise StateError(f"cannot create the state directory {path}: {exc.strerror}") from exc
