"""The digests, digest_items and outbox tables."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

from digest.models import Outgoing
from digest.store.base import StoreBase
from digest.store.rows import (
    _OUTBOX_COLUMNS,
    DigestState,
    OutboxEntry,
    _dt,
    _outbox_entry,
    _ts,
)


class OutboxTables(StoreBase):
    """Digest watermarks, what went into which digest, and the mail outbox."""

    def watermark(self, digest: str) -> datetime | None:
        rows = self._rows("SELECT watermark FROM digests WHERE name = ?", (digest,))
        return _dt(rows[0][0]) if rows else None

    def digests(self) -> list[DigestState]:
        rows = self._rows("SELECT name, watermark, last_run, last_message_id FROM digests "
                          "ORDER BY name")
        return [DigestState(row[0], _dt(row[1]), _dt(row[2]), row[3]) for row in rows]

    def commit_digest(self, digest: str, watermark: datetime, message: Outgoing | None,
                      article_keys: Iterable[str], *, now: datetime | None = None) -> None:
        """Advance the watermark and queue the message in one transaction.

        Article keys already recorded for this digest are left alone (never in two digests);
        a message whose Message-ID is already queued is not queued twice.
        """
        message_id = message.message_id if message else None
        last_run = now or (message.created if message else watermark)
        with self.transaction():
            self._exec(
                """INSERT INTO digests VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET
                   watermark = excluded.watermark, last_run = excluded.last_run,
                   last_message_id = coalesce(excluded.last_message_id, last_message_id)""",
                (digest, _ts(watermark), _ts(last_run), message_id))
            for key in article_keys:
                self._exec("INSERT OR IGNORE INTO digest_items VALUES (?, ?, ?)",
                           (digest, key, message_id))
            if message is not None:
                self.enqueue(message)

    def enqueue(self, message: Outgoing) -> bool:
        """Put a message in the outbox, due at once; False when its Message-ID is there."""
        cursor = self._exec(
            """INSERT OR IGNORE INTO outbox (message_id, kind, name, sender, recipients,
               subject, raw, created, next_try) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (message.message_id, message.kind, message.name, message.sender,
             json.dumps(list(message.recipients)), message.subject, message.raw,
             _ts(message.created), _ts(message.created)))
        return cursor.rowcount == 1

    def due_entries(self, now: datetime) -> list[OutboxEntry]:
        """Pending outbox entries whose next try has come, oldest first."""
        rows = self._rows(
            f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE status = 'pending' AND next_try <= ? "
            "ORDER BY created, rowid", (_ts(now),))
        return [_outbox_entry(row) for row in rows]

    def mark_sent(self, message_id: str, now: datetime, refused: dict[str, str]) -> None:
        with self.transaction():
            self._exec(
                """UPDATE outbox SET status = 'sent', sent_at = ?, refused = ?,
                   attempts = attempts + 1, next_try = NULL, last_error = NULL
                   WHERE message_id = ?""",
                (_ts(now), json.dumps(refused), message_id))

    def mark_retry(self, message_id: str, error: str, next_try: datetime) -> None:
        with self.transaction():
            self._exec(
                """UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_try = ?
                   WHERE message_id = ? AND status = 'pending'""",
                (error, _ts(next_try), message_id))

    def mark_failed(self, message_id: str, error: str) -> None:
        with self.transaction():
            self._exec(
                """UPDATE outbox SET status = 'failed', attempts = attempts + 1,
                   last_error = ?, next_try = NULL WHERE message_id = ?""",
                (error, message_id))

    def outbox(self, *statuses: str) -> list[OutboxEntry]:
        """Outbox entries, oldest first: all, or those in ``statuses`` (sent messages stay in
        the outbox, so callers that want the others should not load them)."""
        where = f"WHERE status IN ({', '.join('?' * len(statuses))}) " if statuses else ""
        rows = self._rows(f"SELECT {_OUTBOX_COLUMNS} FROM outbox {where}ORDER BY created, rowid",
                          statuses)
        return [_outbox_entry(row) for row in rows]
