"""The state database: real SQLite files in a temp dir, reopened as a restarted process would."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from digest.errors import LockedError, StateError
from digest.models import Article, Hit, Match, Outgoing
from digest.store import MIGRATIONS, FeedState, Store, acquire_lock

T0 = datetime(2024, 3, 1, 7, 0, tzinfo=timezone.utc)


def article(key: str, *, url: str | None = None, title: str = "Kim Jong Un visits",
            body: str = "Kim Jong Un went to Moscow.") -> Article:
    return Article(source="seeds", id=key, title=title, body=body, url=url, canonical_url=url,
                   published=T0 - timedelta(hours=1), author="A. Writer",
                   description="A visit.")


def items_sent(store: Store, digest: str) -> set[str]:
    """The article keys recorded as sent in ``digest`` (read beside the store's connection)."""
    with sqlite3.connect(store.path) as db:
        rows = db.execute("SELECT article_key FROM digest_items WHERE digest = ?", (digest,))
        return {row[0] for row in rows}


def outgoing(message_id: str, created: datetime = T0) -> Outgoing:
    return Outgoing(message_id=message_id, kind="digest", name="Morning", sender="d@localhost",
                    recipients=("you@example.com",), subject="Morning: 1 story",
                    raw=b"Subject: x\r\n\r\nbody\r\n", created=created)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "digest.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    with Store.open(db_path) as opened:
        yield opened


def test_open_creates_private_directory_and_file(db_path: Path) -> None:
    with Store.open(db_path):
        pass
    assert stat.S_IMODE(db_path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600
    for sibling in db_path.parent.iterdir():  # -wal/-shm when present follow the db's mode
        assert stat.S_IMODE(sibling.stat().st_mode) & 0o077 == 0


def test_migrations_apply_once_and_reopen_keeps_data(db_path: Path) -> None:
    with Store.open(db_path) as store:
        store.add_articles([article("a")], T0)
    with Store.open(db_path) as store:
        assert [a.id for a in store.articles_since(T0)] == ["a"]
    with sqlite3.connect(db_path) as db:
        names = [row[0] for row in db.execute("SELECT name FROM migrations")]
        mode = db.execute("PRAGMA journal_mode").fetchone()[0]
    assert names == [name for name, _ in MIGRATIONS]
    assert mode == "wal"


def test_not_a_database_is_a_clear_state_error(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"this is a text file, not SQLite\n" * 100)
    with pytest.raises(StateError, match="not a database") as caught:
        Store.open(db_path)
    assert str(db_path) in str(caught.value)
    assert isinstance(caught.value.__cause__, sqlite3.Error)


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_state_directory_is_a_state_error(tmp_path: Path) -> None:
    locked = tmp_path / "ro"
    locked.mkdir(mode=0o500)
    with pytest.raises(StateError, match="state"):
        Store.open(locked / "digest.db")


def test_unusable_state_directory_is_a_state_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("in the way")
    with pytest.raises(StateError, match="cannot create the state directory"):
        Store.open(blocker / "state" / "digest.db")


def test_add_articles_returns_only_new_ones_with_first_seen(store: Store) -> None:
    first = store.add_articles([article("a"), article("b")], T0)
    again = store.add_articles([article("a"), article("c")], T0 + timedelta(minutes=5))
    assert [(a.id, a.first_seen) for a in first] == [("a", T0), ("b", T0)]
    assert [(a.id, a.first_seen) for a in again] == [("c", T0 + timedelta(minutes=5))]


def test_same_canonical_url_from_another_feed_is_not_new(store: Store) -> None:
    url = "https://news.example/story"
    assert len(store.add_articles([article("feed-a-guid", url=url)], T0)) == 1
    assert store.add_articles([article("feed-b-guid", url=url)], T0) == []
    # and within one batch too
    both = store.add_articles([article("x", url="https://n/2"), article("y", url="https://n/2")],
                              T0)
    assert [a.id for a in both] == ["x"]


def test_matches_round_trip_with_article_text(store: Store) -> None:
    [new] = store.add_articles([article("a", url="https://n/a")], T0)
    hit = Hit(term="Kim Jong Un", field="title", start=0, end=11, text="Kim Jong Un")
    store.add_matches([Match(article=new, watchlist="Korea", hits=(hit,), score=3.5,
                             score_parts={"title": 3.0, "body": 0.5})])
    [match] = store.matches_between(["Korea"], T0, T0 + timedelta(seconds=1))
    assert match.article == new
    assert match.hits == (hit,)
    assert match.score == 3.5 and dict(match.score_parts) == {"title": 3.0, "body": 0.5}
    assert store.matches_between(["Other"], T0, T0 + timedelta(1)) == []
    assert store.matches_between(["Korea"], T0 + timedelta(seconds=1), T0 + timedelta(1)) == []


def test_prune_keeps_ids_so_old_articles_are_not_new_again(store: Store) -> None:
    store.add_articles([article("old")], T0)
    store.add_articles([article("fresh")], T0 + timedelta(days=40))
    assert store.prune(T0 + timedelta(days=30)) == 1
    texts = {a.id: a.body for a in store.articles_since(T0)}
    assert texts == {"old": "", "fresh": "Kim Jong Un went to Moscow."}
    assert store.add_articles([article("old")], T0 + timedelta(days=41)) == []


def test_commit_digest_advances_watermark_and_queues_message(store: Store) -> None:
    store.add_articles([article("a")], T0)
    store.commit_digest("Morning", T0 + timedelta(hours=1), outgoing("<m1@localhost>"), ["a"])
    assert store.watermark("Morning") == T0 + timedelta(hours=1)
    assert items_sent(store, "Morning") == {"a"}
    [entry] = store.outbox()
    assert (entry.status, entry.attempts, entry.message.message_id) == ("pending", 0,
                                                                        "<m1@localhost>")
    assert [due.message for due in store.due_entries(T0)] == [entry.message]


def test_commit_digest_is_all_or_nothing(store: Store) -> None:
    store.commit_digest("Morning", T0, outgoing("<m1@localhost>"), ["a"])
    with pytest.raises(RuntimeError), store.transaction():
        store.commit_digest("Morning", T0 + timedelta(hours=1), outgoing("<m2@localhost>"),
                            ["b"])
        raise RuntimeError("crash between the watermark and the outbox")
    assert store.watermark("Morning") == T0
    assert [e.message.message_id for e in store.outbox()] == ["<m1@localhost>"]
    assert "b" not in items_sent(store, "Morning")


def test_rebuilt_message_with_same_id_is_queued_once(store: Store) -> None:
    store.commit_digest("Morning", T0, outgoing("<m1@localhost>"), ["a"])
    store.commit_digest("Morning", T0, outgoing("<m1@localhost>"), ["a"])
    assert len(store.outbox()) == 1


def test_empty_digest_moves_watermark_without_message(store: Store) -> None:
    store.commit_digest("Morning", T0, None, [])
    assert store.watermark("Morning") == T0
    assert store.outbox() == []
    assert [d.name for d in store.digests()] == ["Morning"]


def test_outbox_lifecycle(store: Store) -> None:
    store.commit_digest("Morning", T0, outgoing("<old@localhost>", T0), [])
    store.commit_digest("Evening", T0, outgoing("<new@localhost>", T0 + timedelta(1)), [])
    assert [e.message.message_id for e in store.due_entries(T0 + timedelta(2))] == [
        "<old@localhost>", "<new@localhost>"]  # oldest first

    store.mark_retry("<old@localhost>", "connection refused", T0 + timedelta(minutes=5))
    assert store.due_entries(T0 + timedelta(minutes=1)) == []
    [due] = store.due_entries(T0 + timedelta(minutes=5))
    assert (due.attempts, due.last_error) == (1, "connection refused")

    store.mark_sent("<old@localhost>", T0 + timedelta(minutes=6),
                    {"gone@example.com": "550 5.1.1 no such user"})
    store.mark_failed("<new@localhost>", "554 5.7.1 rejected")
    entries = {e.message.message_id: e for e in store.outbox()}
    sent, failed = entries["<old@localhost>"], entries["<new@localhost>"]
    assert (sent.status, sent.sent_at, sent.attempts) == ("sent", T0 + timedelta(minutes=6), 2)
    assert sent.refused == {"gone@example.com": "550 5.1.1 no such user"}
    assert sent.message.raw == b"Subject: x\r\n\r\nbody\r\n"
    assert (failed.status, failed.last_error) == ("failed", "554 5.7.1 rejected")
    assert store.outbox("failed") == [failed] and store.outbox("pending") == []
    assert store.due_entries(T0 + timedelta(days=9)) == []


def test_feed_state_defaults_then_round_trips(store: Store) -> None:
    assert store.feed_state("BBC", "https://bbc.example/rss") == FeedState(
        name="BBC", url="https://bbc.example/rss")
    saved = FeedState(name="BBC", url="https://bbc.example/new", etag='"abc"',
                      last_modified="Wed, 21 Oct 2015 07:28:00 GMT", body_hash="h", failures=2,
                      last_error="timeout", last_error_at=T0, last_success=T0 - timedelta(1),
                      next_try=T0 + timedelta(minutes=30), disabled=True, items_seen=7)
    store.save_feed_state(saved)
    assert store.feed_state("BBC", "https://bbc.example/rss") == saved
    assert store.feed_states() == [saved]


def test_nested_transactions_join_the_outer_one(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.add_articles([article("a")], T0)  # its own transaction() nests
        raise RuntimeError
    assert store.articles_since(T0) == []


def test_lock_refuses_a_second_process(tmp_path: Path) -> None:
    state = tmp_path / "state"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, pathlib; from digest.store import acquire_lock\n"
         "with acquire_lock(pathlib.Path(sys.argv[1])):\n"
         "    print('locked', flush=True); sys.stdin.read()",
         str(state)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        with pytest.raises(LockedError, match=f"another digest is running on {state} "
                                              rf"\(pid {holder.pid}\)"), acquire_lock(state):
            pass
    finally:
        holder.communicate("")
    with acquire_lock(state):  # released when the holder exits
        pass
    assert stat.S_IMODE(state.stat().st_mode) == 0o700


def test_only_non_durable_transactions_skip_waiting_for_the_disk(store: Store) -> None:
    def synchronous() -> int:
        return int(store._db.execute("PRAGMA synchronous").fetchone()[0])

    assert synchronous() == 2  # FULL: the outbox and watermarks wait for the disk
    with store.transaction(durable=False):
        assert synchronous() == 1  # NORMAL: a poll's articles
        with store.transaction():  # nested: joins the outer transaction
            assert synchronous() == 1
    assert synchronous() == 2  # back to FULL for whatever commits next
    with pytest.raises(RuntimeError), store.transaction(durable=False):
        raise RuntimeError("a failed poll")
    assert synchronous() == 2
