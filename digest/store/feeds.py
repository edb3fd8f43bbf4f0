"""The feeds table: each feed's conditional-GET and failure state."""

from __future__ import annotations

from digest.store.base import StoreBase
from digest.store.rows import _FEED_COLUMNS, FeedState, _feed, _ts


class FeedTables(StoreBase):
    """Per-feed state kept between polls."""

    def feed_state(self, name: str, url: str) -> FeedState:
        """The stored state of feed ``name``, or a fresh one for ``url`` when unknown."""
        rows = self._rows(f"SELECT {_FEED_COLUMNS} FROM feeds WHERE name = ?", (name,))
        return _feed(rows[0]) if rows else FeedState(name=name, url=url)

    def save_feed_state(self, state: FeedState) -> None:
        # not durable: a power cut could only make the next poll fetch and parse again
        with self.transaction(durable=False):
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
