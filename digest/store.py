"""All state in one SQLite file; the only module that contains SQL.

Tables (created by ordered, named migrations recorded in `migrations`, each in one transaction):
  articles      key (the Article id) PK, source, url, canonical_url (unique when set), title,
                body, description, author, published, first_seen, hash
  matches       (article_key, watchlist) PK, score, hits (JSON), score_parts (JSON), first_seen,
                alerted_at
  digests       name PK, watermark (articles first seen before it were considered), last_run,
                last_message_id
  digest_items  (digest, article_key) PK, message_id: what went into which digest
  outbox        message_id PK, kind, name, sender, recipients (JSON), subject, raw, created,
                status ('pending' | 'sent' | 'failed'), attempts, next_try, last_error,
                refused (JSON {address: reply}), sent_at
  feeds         name PK, url, etag, last_modified, body_hash, failures, last_error, last_success,
                next_try, disabled, items_seen, last_error_at
Times are stored as ISO 8601 UTC strings with microseconds, so text order is time order.
WAL mode, synchronous=FULL: a commit survives a crash (and a power cut).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, cast

from digest.errors import LockedError, StateError
from digest.models import Article, Hit, Match, Outgoing

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    message: Outgoing
    status: str  # pending | sent | failed
    attempts: int
    next_try: datetime | None
    last_error: str | None
    refused: dict[str, str]
    sent_at: datetime | None


@dataclass(frozen=True, slots=True)
class FeedState:
    name: str
    url: str  # current URL (after permanent redirects)
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    failures: int = 0
    last_error: str | None = None
    last_error_at: datetime | None = None
    last_success: datetime | None = None
    next_try: datetime | None = None
    disabled: bool = False
    items_seen: int = 0


@dataclass(frozen=True, slots=True)
class DigestState:
    """What `digest status` shows about one digest."""

    name: str
    watermark: datetime | None
    last_run: datetime | None
    last_message_id: str | None


# time ---------------------------------------------------------------------------------
def _ts(moment: datetime | None) -> str | None:
    """ISO 8601 UTC with a fixed width, so that comparing strings compares times."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def _dt(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


# migrations ---------------------------------------------------------------------------
def _m001_initial(db: sqlite3.Connection) -> None:
    db.execute("""CREATE TABLE articles (
        key TEXT PRIMARY KEY, source TEXT NOT NULL, url TEXT, canonical_url TEXT UNIQUE,
        title TEXT NOT NULL, body TEXT NOT NULL, description TEXT, author TEXT,
        published TEXT, first_seen TEXT NOT NULL, hash TEXT NOT NULL)""")
    db.execute("CREATE INDEX articles_first_seen ON articles (first_seen)")
    db.execute("""CREATE TABLE matches (
        article_key TEXT NOT NULL REFERENCES articles (key), watchlist TEXT NOT NULL,
        score REAL NOT NULL, hits TEXT NOT NULL, score_parts TEXT NOT NULL,
        first_seen TEXT NOT NULL, alerted_at TEXT, PRIMARY KEY (article_key, watchlist))""")
    db.execute("CREATE INDEX matches_first_seen ON matches (first_seen)")
    db.execute("""CREATE TABLE digests (
        name TEXT PRIMARY KEY, watermark TEXT NOT NULL, last_run TEXT NOT NULL,
        last_message_id TEXT)""")
    db.execute("""CREATE TABLE digest_items (
        digest TEXT NOT NULL, article_key TEXT NOT NULL, message_id TEXT,
        PRIMARY KEY (digest, article_key))""")
    db.execute("""CREATE TABLE outbox (
        message_id TEXT PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL,
        sender TEXT NOT NULL, recipients TEXT NOT NULL, subject TEXT NOT NULL,
        raw BLOB NOT NULL, created TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0, next_try TEXT, last_error TEXT,
        refused TEXT NOT NULL DEFAULT '{}', sent_at TEXT)""")
    db.execute("CREATE INDEX outbox_due ON outbox (status, next_try)")
    db.execute("""CREATE TABLE feeds (
        name TEXT PRIMARY KEY, url TEXT NOT NULL, etag TEXT, last_modified TEXT,
        body_hash TEXT, failures INTEGER NOT NULL DEFAULT 0, last_error TEXT,
        last_error_at TEXT, last_success TEXT, next_try TEXT,
        disabled INTEGER NOT NULL DEFAULT 0, items_seen INTEGER NOT NULL DEFAULT 0)""")


def _m002_daemon(db: sqlite3.Connection) -> None:
    """The daemon's bookkeeping: digest slots sent, alerts queued and sent, job results."""
    db.execute("""CREATE TABLE digest_slots (
        digest TEXT NOT NULL, slot TEXT NOT NULL, fire_time TEXT NOT NULL, done TEXT NOT NULL,
        message_id TEXT, PRIMARY KEY (digest, slot))""")
    db.execute("CREATE TABLE scheduled_digests (digest TEXT PRIMARY KEY, since TEXT NOT NULL)")
    db.execute("""CREATE TABLE alert_queue (
        article_key TEXT NOT NULL, watchlist TEXT NOT NULL, queued TEXT NOT NULL,
        sent TEXT, message_id TEXT, PRIMARY KEY (article_key, watchlist))""")
    db.execute("""CREATE TABLE alert_mails (
        message_id TEXT PRIMARY KEY, created TEXT NOT NULL, matches INTEGER NOT NULL)""")
    db.execute("""CREATE TABLE job_results (
        job TEXT PRIMARY KEY, finished TEXT NOT NULL, ok INTEGER NOT NULL,
        summary TEXT NOT NULL)""")


@dataclass(frozen=True, slots=True)
class JobResult:
    """The last run of one daemon job, for `digest status`."""

    job: str
    finished: datetime
    ok: bool
    summary: str


MIGRATIONS: tuple[tuple[str, Callable[[sqlite3.Connection], None]], ...] = (
    ("001_initial", _m001_initial),
    ("002_daemon", _m002_daemon),
)


# the process lock ---------------------------------------------------------------------
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


# the store ----------------------------------------------------------------------------
class Store:
    """An open state database. Use ``with Store.open(path) as store:``."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self._db = db
        self.path = path
        self._depth = 0

    @classmethod
    def open(cls, path: Path) -> Store:
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

    def __enter__(self) -> Store:
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
    def transaction(self) -> Iterator[None]:
        """Everything inside commits together or not at all (nested use is allowed)."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
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

    def _exec(self, sql: str, params: Sequence[object] = ()) -> sqlite3.Cursor:
        with self._translate("write"):
            return self._db.execute(sql, params)

    def _rows(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        with self._translate("read"):
            return self._db.execute(sql, params).fetchall()

    # articles and matches -------------------------------------------------------------
    def add_articles(self, articles: Iterable[Article], now: datetime) -> list[Article]:
        """Record articles; return only the new ones (by id, canonical url), first_seen set."""
        articles = list(articles)
        new: list[Article] = []
        with self.transaction():
            # one look-up per 500 articles and one executemany, not three queries a row
            ids, urls = self._known_keys(articles)
            for article in articles:
                if article.id in ids or (article.canonical_url and article.canonical_url in urls):
                    continue
                ids.add(article.id)  # a later duplicate in the same batch is not new either
                if article.canonical_url:
                    urls.add(article.canonical_url)
                new.append(replace(article, first_seen=now))
            with self._translate("write"):
                self._db.executemany(
                    "INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [(article.id, article.source, article.url, article.canonical_url,
                      article.title, article.body, article.description, article.author,
                      _ts(article.published), _ts(now), article.hash) for article in new])
        return new

    def unseen(self, articles: Iterable[Article]) -> list[Article]:
        """The articles not recorded yet (by id, canonical url); writes nothing."""
        articles = list(articles)
        ids, urls = self._known_keys(articles)
        return [article for article in articles if article.id not in ids
                and not (article.canonical_url and article.canonical_url in urls)]

    def record_articles(self, articles: Iterable[Article], matches: Iterable[Match],
                        now: datetime) -> list[Article]:
        """Record new articles and their matches in one transaction (a crash leaves both or
        neither, so no article is ever seen without being matched); return the new ones.
        Matches of articles that turned out not to be new are dropped."""
        with self.transaction():
            new = self.add_articles(articles, now)
            ids = {article.id for article in new}
            self.add_matches(match for match in matches if match.article.id in ids)
        return new

    def _known_keys(self, articles: Sequence[Article]) -> tuple[set[str], set[str]]:
        """Which of the articles' ids and canonical urls are already recorded."""
        ids = list({article.id for article in articles})
        urls = list({article.canonical_url for article in articles if article.canonical_url})
        return (self._existing("key", ids), self._existing("canonical_url", urls))

    def _existing(self, column: str, values: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for offset in range(0, len(values), 500):
            chunk = values[offset:offset + 500]
            found.update(row[0] for row in self._rows(
                f"SELECT {column} FROM articles WHERE {column} IN "
                f"({', '.join('?' * len(chunk))})", chunk))
        return found

    def add_matches(self, matches: Iterable[Match]) -> None:
        """Record matches; matching the same article again updates hits and score only."""
        with self.transaction():
            for match in matches:
                first_seen = match.article.first_seen or self._first_seen(match.article.id)
                self._exec(
                    """INSERT INTO matches VALUES (?, ?, ?, ?, ?, ?, NULL)
                       ON CONFLICT (article_key, watchlist) DO UPDATE SET
                       score = excluded.score, hits = excluded.hits,
                       score_parts = excluded.score_parts""",
                    (match.article.id, match.watchlist, match.score, _hits_json(match.hits),
                     json.dumps(dict(match.score_parts)), _ts(first_seen)))

    def _first_seen(self, key: str) -> datetime:
        rows = self._rows("SELECT first_seen FROM articles WHERE key = ?", (key,))
        if not rows:
            raise StateError(f"a match refers to an article that was never recorded: {key}")
        return cast(datetime, _dt(rows[0][0]))

    def matches_between(self, watchlists: Sequence[str], start: datetime,
                        end: datetime) -> list[Match]:
        """Matches of articles first seen in [start, end), for the given watchlists."""
        if not watchlists:
            return []
        marks = ", ".join("?" * len(watchlists))
        rows = self._rows(
            f"""SELECT {_ARTICLE_COLUMNS}, m.watchlist, m.score, m.hits, m.score_parts
                FROM matches m JOIN articles a ON a.key = m.article_key
                WHERE m.watchlist IN ({marks}) AND a.first_seen >= ? AND a.first_seen < ?
                ORDER BY a.first_seen, a.key, m.watchlist""",
            (*watchlists, _ts(start), _ts(end)))
        return [Match(article=_article(row[:10]), watchlist=row[10], score=row[11],
                      hits=_hits_from_json(row[12]), score_parts=json.loads(row[13]))
                for row in rows]

    def articles_since(self, since: datetime) -> list[Article]:
        rows = self._rows(
            f"SELECT {_ARTICLE_COLUMNS} FROM articles a WHERE a.first_seen >= ? "
            "ORDER BY a.first_seen, a.key", (_ts(since),))
        return [_article(row) for row in rows]

    def prune(self, before: datetime) -> int:
        """Drop article text first seen before ``before`` (ids stay, so nothing is new again)."""
        with self.transaction():
            cursor = self._exec(
                """UPDATE articles SET body = '', description = NULL
                   WHERE first_seen < ? AND (body != '' OR description IS NOT NULL)""",
                (_ts(before),))
        return cursor.rowcount

    # digests and the outbox ------------------------------------------------------------
    def watermark(self, digest: str) -> datetime | None:
        rows = self._rows("SELECT watermark FROM digests WHERE name = ?", (digest,))
        return _dt(rows[0][0]) if rows else None

    def digests(self) -> list[DigestState]:
        rows = self._rows("SELECT name, watermark, last_run, last_message_id FROM digests "
                          "ORDER BY name")
        return [DigestState(row[0], _dt(row[1]), _dt(row[2]), row[3]) for row in rows]

    def digest_items_sent(self, digest: str, article_keys: Iterable[str]) -> set[str]:
        """Which of ``article_keys`` already went into an earlier run of ``digest``."""
        keys = list(dict.fromkeys(article_keys))
        found: set[str] = set()
        for offset in range(0, len(keys), 500):
            chunk = keys[offset:offset + 500]
            found.update(row[0] for row in self._rows(
                f"SELECT article_key FROM digest_items WHERE digest = ? "
                f"AND article_key IN ({', '.join('?' * len(chunk))})", (digest, *chunk)))
        return found

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

    def due_messages(self, now: datetime) -> list[Outgoing]:
        """Pending messages whose next try has come, oldest first."""
        return [entry.message for entry in self.due_entries(now)]

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

    def outbox(self) -> list[OutboxEntry]:
        rows = self._rows(f"SELECT {_OUTBOX_COLUMNS} FROM outbox ORDER BY created, rowid")
        return [_outbox_entry(row) for row in rows]

    # feeds --------------------------------------------------------------------------
    def feed_state(self, name: str, url: str) -> FeedState:
        """The stored state of feed ``name``, or a fresh one for ``url`` when unknown."""
        rows = self._rows(f"SELECT {_FEED_COLUMNS} FROM feeds WHERE name = ?", (name,))
        return _feed(rows[0]) if rows else FeedState(name=name, url=url)

    def save_feed_state(self, state: FeedState) -> None:
        with self.transaction():
            self._exec(
                f"INSERT OR REPLACE INTO feeds ({_FEED_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (state.name, state.url, state.etag, state.last_modified, state.body_hash,
                 state.failures, state.last_error, _ts(state.last_error_at),
                 _ts(state.last_success), _ts(state.next_try), int(state.disabled),
                 state.items_seen))

    def feed_states(self) -> list[FeedState]:
        return [_feed(row) for row in
                self._rows(f"SELECT {_FEED_COLUMNS} FROM feeds ORDER BY name")]


    # daemon: digest slots and alerts ----------------------------------------------------
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
            f"""SELECT {_ARTICLE_COLUMNS}, m.watchlist, m.score, m.hits, m.score_parts
                FROM alert_queue q JOIN matches m
                  ON m.article_key = q.article_key AND m.watchlist = q.watchlist
                JOIN articles a ON a.key = q.article_key
                WHERE q.sent IS NULL ORDER BY q.queued, a.key, m.watchlist""")
        return [Match(article=_article(row[:10]), watchlist=row[10], score=row[11],
                      hits=_hits_from_json(row[12]), score_parts=json.loads(row[13]))
                for row in rows]

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
        keys = list(dict.fromkeys(article_keys))
        found: set[str] = set()
        for offset in range(0, len(keys), 500):
            chunk = keys[offset:offset + 500]
            found.update(row[0] for row in self._rows(
                f"SELECT DISTINCT article_key FROM matches WHERE alerted_at IS NOT NULL "
                f"AND article_key IN ({', '.join('?' * len(chunk))})", chunk))
        return found

    def record_job_result(self, job: str, finished: datetime, ok: bool, summary: str) -> None:
        with self.transaction():
            self._exec("INSERT OR REPLACE INTO job_results VALUES (?, ?, ?, ?)",
                       (job, _ts(finished), int(ok), summary))

    def job_results(self) -> list[JobResult]:
        return [JobResult(row[0], cast(datetime, _dt(row[1])), bool(row[2]), row[3])
                for row in self._rows("SELECT job, finished, ok, summary FROM job_results "
                                      "ORDER BY job")]


# rows <-> values ----------------------------------------------------------------------
_ARTICLE_COLUMNS = ("a.key, a.source, a.url, a.canonical_url, a.title, a.body, a.description, "
                    "a.author, a.published, a.first_seen")
_OUTBOX_COLUMNS = ("message_id, kind, name, sender, recipients, subject, raw, created, "
                   "status, attempts, next_try, last_error, refused, sent_at")
_FEED_COLUMNS = ("name, url, etag, last_modified, body_hash, failures, last_error, "
                 "last_error_at, last_success, next_try, disabled, items_seen")


def _article(row: Sequence[Any]) -> Article:
    return Article(id=row[0], source=row[1], url=row[2], canonical_url=row[3], title=row[4],
                   body=row[5], description=row[6], author=row[7], published=_dt(row[8]),
                   first_seen=_dt(row[9]))


def _hits_json(hits: Iterable[Hit]) -> str:
    return json.dumps([[h.term, h.field, h.start, h.end, h.text] for h in hits],
                      ensure_ascii=False)


def _hits_from_json(text: str) -> tuple[Hit, ...]:
    return tuple(Hit(term=t, field=f, start=s, end=e, text=x) for t, f, s, e, x in json.loads(text))


def _outbox_entry(row: Sequence[Any]) -> OutboxEntry:
    message = Outgoing(message_id=row[0], kind=row[1], name=row[2], sender=row[3],
                       recipients=tuple(json.loads(row[4])), subject=row[5], raw=bytes(row[6]),
                       created=cast(datetime, _dt(row[7])))
    return OutboxEntry(message=message, status=row[8], attempts=row[9], next_try=_dt(row[10]),
                       last_error=row[11], refused=json.loads(row[12]), sent_at=_dt(row[13]))


def _feed(row: Sequence[Any]) -> FeedState:
    return FeedState(name=row[0], url=row[1], etag=row[2], last_modified=row[3],
                     body_hash=row[4], failures=row[5], last_error=row[6],
                     last_error_at=_dt(row[7]), last_success=_dt(row[8]), next_try=_dt(row[9]),
                     disabled=bool(row[10]), items_seen=row[11])
