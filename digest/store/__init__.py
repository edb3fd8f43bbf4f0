"""All state in one SQLite file; the only package that contains SQL.

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
  digest_slots  (digest, slot) PK, fire_time, done, message_id: each scheduled run sent once
  scheduled_digests  digest PK, since: when the daemon first scheduled it (no catch-up before)
  alert_queue   (article_key, watchlist) PK, queued, sent, message_id: alerts waiting or sent
  alert_mails   message_id PK, created, matches: for min_interval
  job_results   job PK, finished, ok, summary: what `digest status` shows of the daemon
Times are stored as ISO 8601 UTC strings with microseconds, so text order is time order.
WAL mode, synchronous=FULL: a commit survives a crash (and a power cut); a poll's
articles use ``transaction(durable=False)``, which a power cut can only make us fetch again.

Modules: ``schema`` (the migrations), ``rows`` (values and row <-> value conversion), ``lock``
(the process lock), ``base`` (connection, transactions, error translation) and one mixin per
group of tables: ``articles``, ``outbox``, ``feeds``, ``daemon``; `Store` combines them.
"""

from __future__ import annotations

from digest.store.articles import ArticleTables
from digest.store.daemon import DaemonTables
from digest.store.feeds import FeedTables
from digest.store.lock import acquire_lock
from digest.store.outbox import OutboxTables
from digest.store.rows import DigestState, FeedState, JobResult, OutboxEntry
from digest.store.schema import MIGRATIONS

__all__ = [
    "MIGRATIONS",
    "DigestState",
    "FeedState",
    "JobResult",
    "OutboxEntry",
    "Store",
    "acquire_lock",
]


class Store(ArticleTables, FeedTables, DaemonTables, OutboxTables):
    """An open state database. Use ``with Store.open(path) as store:``."""
