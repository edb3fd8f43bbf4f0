"""The store's connection: open, configure and migrate once, transactions, errors."""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from digest.errors import StateError
from digest.store.lock import _make_dir
from digest.store.rows import _ts
from digest.store.schema import MIGRATIONS

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000

_S = TypeVar("_S", bound="StoreBase")


class StoreBase:
    """The connection: opening, migrating, transactions and error translation."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self._db = db
        self.path = path
        self._depth = 0

    @classmethod
    def open(cls: type[_S], path: Path) -> _S:
        """Open (creating and migrating as needed) the database at ``path``."""
        _make_dir(path.parent)
        try:
            os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
            db = sqlite3.connect(path, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise StateError(f"cannot open the state database {path}: {exc}") from exc
        store = cls(db, path)
        try:
            store._configure()
            store._migrate()
        except BaseException:
            db.close()
            raise
        return store

    def _configure(self) -> None:
        with self._translate("open"):
            mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode != "wal":
                log.warning("%s: journal mode is %s, not wal", self.path, mode)
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied TEXT)")

    def _migrate(self) -> None:
        done = {row[0] for row in self._rows("SELECT name FROM migrations")}
        for name, migration in MIGRATIONS:
            if name in done:
                continue
            with self.transaction():
                migration(self._db)
                self._db.execute("INSERT INTO migrations VALUES (?, ?)",
                                 (name, _ts(datetime.now(timezone.utc))))
            log.info("%s: applied migration %s", self.path, name)

    def close(self) -> None:
        self._db.close()

    def __enter__(self: _S) -> _S:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _translate(self, doing: str) -> Iterator[None]:
        """sqlite3 errors become StateError naming the file and what to check."""
        try:
            yield
        except sqlite3.Error as exc:
            text = str(exc)
            hint = ""
            if "not a database" in text:
                hint = " (move the file away to start afresh)"
            elif "readonly" in text or "unable to open" in text:
                hint = " (check the permissions of the state directory)"
            elif "disk is full" in text or "disk I/O" in text:
                hint = " (check the free space of the state directory)"
            raise StateError(f"state database {self.path}: {doing}: {text}{hint}") from exc

    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[None]:
        """Everything inside commits together or not at all (nested use is allowed).

        ``durable=False`` commits without waiting for the disk (``synchronous=NORMAL``; WAL
        keeps the database consistent either way): for a poll's articles, which a power cut
        could only make us fetch again. Whatever decides delivery (outbox, watermarks)
        commits durably, and that commit also makes every earlier one durable.
        """
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        if not durable:
            self._db.execute("PRAGMA synchronous=NORMAL")
        with self._translate("begin"):
            self._db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
            with self._translate("commit"):
                self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise
        finally:
            self._depth = 0
            if not durable:
                self._db.execute("PRAGMA synchronous=FULL")

    def _exec(self, sql: str, params: Sequence[object] = ()) -> sqlite3.Cursor:
        with self._translate("write"):
            return self._db.execute(sql, params)

    def _write_many(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        with self._translate("write"):
            self._db.executemany(sql, rows)

    def _rows(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        with self._translate("read"):
            return self._db.execute(sql, params).fetchall()

    def _first_column_in(self, sql: str, values: Sequence[str]) -> set[str]:
        """The first column of ``sql``'s rows, where ``sql`` ends in ``IN ({})``: run for
        ``values`` 500 at a time (SQLite limits the number of parameters)."""
        values = list(dict.fromkeys(values))
        found: set[str] = set()
        for offset in range(0, len(values), 500):
            chunk = values[offset:offset + 500]
            found.update(row[0] for row in self._rows(sql.format(", ".join("?" * len(chunk))),
                                                      chunk))
        return found
