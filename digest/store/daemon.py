"""The daemon's tables: digest slots, alerts and job results."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import cast

from digest.models import Match, Outgoing
from digest.store.outbox import OutboxTables
from digest.store.rows import _MATCH_COLUMNS, JobResult, _dt, _match, _ts


class DaemonTables(OutboxTables):
    """The daemon's bookkeeping; alert mails are queued through the outbox."""

    def scheduled_since(self, digest: str, now: datetime) -> datetime:
        """When the daemon first scheduled ``digest`` (recorded as ``now`` the first time)."""
        with self.transaction():
            self._exec("INSERT OR IGNORE INTO scheduled_digests VALUES (?, ?)",
                       (digest, _ts(now)))
            rows = self._rows("SELECT since FROM scheduled_digests WHERE digest = ?", (digest,))
        return cast(datetime, _dt(rows[0][0]))

    def claim_digest_slot(self, digest: str, slot: str, fire_time: datetime,
                          now: datetime) -> bool:
        """Record that ``digest`` ran for ``slot`` (its local wall-clock fire time); False
        when that slot was already done. Use inside the transaction that queues the digest."""
        cursor = self._exec(
            "INSERT OR IGNORE INTO digest_slots VALUES (?, ?, ?, ?, NULL)",
            (digest, slot, _ts(fire_time), _ts(now)))
        return cursor.rowcount == 1

    def last_digest_slot(self, digest: str) -> datetime | None:
        """The latest fire time (UTC) ``digest`` was run for."""
        rows = self._rows("SELECT max(fire_time) FROM digest_slots WHERE digest = ?", (digest,))
        return _dt(rows[0][0]) if rows else None

    def queue_alerts(self, matches: Iterable[Match], now: datetime) -> int:
        """Queue matches for the next alert mail; a match already queued is not queued again."""
        added = 0
        with self.transaction():
            for match in matches:
                added += self._exec(
                    "INSERT OR IGNORE INTO alert_queue VALUES (?, ?, ?, NULL, NULL)",
                    (match.article.id, match.watchlist, _ts(now))).rowcount
        return added

    def pending_alerts(self) -> list[Match]:
        """Queued matches not yet in an alert mail, oldest first."""
        rows = self._rows(
            f"""SELECT {_MATCH_COLUMNS}
                FROM alert_queue q JOIN matches m
                  ON m.article_key = q.article_key AND m.watchlist = q.watchlist
                JOIN articles a ON a.key = q.article_key
                WHERE q.sent IS NULL ORDER BY q.queued, a.key, m.watchlist""")
        return [_match(row) for row in rows]

    def has_pending_alerts(self) -> bool:
        """Whether any queued match waits for an alert mail (without loading them)."""
        return bool(self._rows("SELECT EXISTS (SELECT 1 FROM alert_queue WHERE sent IS NULL)")
                    [0][0])

    def last_alert_time(self) -> datetime | None:
        rows = self._rows("SELECT max(created) FROM alert_mails")
        return _dt(rows[0][0]) if rows else None

    def commit_alert(self, message: Outgoing, matches: Sequence[Match], now: datetime) -> None:
        """Queue the alert mail and mark its matches alerted, in one transaction."""
        with self.transaction():
            self.enqueue(message)
            self._exec("INSERT OR IGNORE INTO alert_mails VALUES (?, ?, ?)",
                       (message.message_id, _ts(now), len(matches)))
            for match in matches:
                key = (match.article.id, match.watchlist)
                self._exec("""UPDATE alert_queue SET sent = ?, message_id = ?
                              WHERE article_key = ? AND watchlist = ?""",
                           (_ts(now), message.message_id, *key))
                self._exec("""UPDATE matches SET alerted_at = coalesce(alerted_at, ?)
                              WHERE article_key = ? AND watchlist = ?""", (_ts(now), *key))

    def alerted_keys(self, article_keys: Iterable[str]) -> set[str]:
        """Which of ``article_keys`` were already sent in an alert."""
        return self._first_column_in(
            "SELECT DISTINCT article_key FROM matches WHERE alerted_at IS NOT NULL "
            "AND article_key IN ({})", list(article_keys))

    def record_job_result(self, job: str, finished: datetime, ok: bool, summary: str) -> None:
        with self.transaction():
            self._exec("INSERT OR REPLACE INTO job_results VALUES (?, ?, ?, ?)",
                       (job, _ts(finished), int(ok), summary))

    def job_results(self) -> list[JobResult]:
        return [JobResult(row[0], cast(datetime, _dt(row[1])), bool(row[2]), row[3])
                for row in self._rows("SELECT job, finished, ok, summary FROM job_results "
                                      "ORDER BY job")]
