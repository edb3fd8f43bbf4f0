"""The migrations, applied in order by `StoreBase` when the store is opened."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable


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


MIGRATIONS: tuple[tuple[str, Callable[[sqlite3.Connection], None]], ...] = (
    ("001_initial", _m001_initial),
    ("002_daemon", _m002_daemon),
)
