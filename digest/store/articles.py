"""The articles and matches tables."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import cast

from digest.errors import StateError
from digest.models import Article, Match
from digest.store.base import StoreBase
from digest.store.rows import (
    _ARTICLE_COLUMNS,
    _MATCH_COLUMNS,
    _article,
    _dt,
    _hits_json,
    _match,
    _ts,
)


class ArticleTables(StoreBase):
    """Articles seen (by id and canonical url) and their watchlist matches."""

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
                new.append(article if article.first_seen == now
                           else replace(article, first_seen=now))
            seen = _ts(now)
            self._write_many(
                "INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(article.id, article.source, article.url, article.canonical_url,
                  article.title, article.body, article.description, article.author,
                  _ts(article.published), seen, article.hash) for article in new])
        return new

    def unseen(self, articles: Iterable[Article]) -> list[Article]:
        """The articles not recorded yet (by id, canonical url); writes nothing."""
        articles = list(articles)
        ids, urls = self._known_keys(articles)
        return [article for article in articles if article.id not in ids
                and not (article.canonical_url and article.canonical_url in urls)]

    def record_articles(self, articles: Iterable[Article], matches: Iterable[Match],
                        now: datetime) -> tuple[list[Article], list[Match]]:
        """Record new articles and their matches in one transaction (a crash leaves both or
        neither, so no article is ever seen without being matched); return the new articles
        and their matches. Matches of articles that turned out not to be new are dropped."""
        with self.transaction():
            new = self.add_articles(articles, now)
            ids = {article.id for article in new}
            kept = [match for match in matches if match.article.id in ids]
            self.add_matches(kept)
        return new, kept

    def _known_keys(self, articles: Sequence[Article]) -> tuple[set[str], set[str]]:
        """Which of the articles' ids and canonical urls are already recorded."""
        ids = list({article.id for article in articles})
        urls = list({article.canonical_url for article in articles if article.canonical_url})
        return (self._first_column_in("SELECT key FROM articles WHERE key IN ({})", ids),
                self._first_column_in(
                    "SELECT canonical_url FROM articles WHERE canonical_url IN ({})", urls))

    def add_matches(self, matches: Iterable[Match]) -> None:
        """Record matches; matching the same article again updates hits and score only."""
        with self.transaction():
            rows = [(match.article.id, match.watchlist, match.score, _hits_json(match.hits),
                     json.dumps(dict(match.score_parts)),
                     _ts(match.article.first_seen or self._first_seen(match.article.id)))
                    for match in matches]
            self._write_many(
                """INSERT INTO matches VALUES (?, ?, ?, ?, ?, ?, NULL)
                   ON CONFLICT (article_key, watchlist) DO UPDATE SET
                   score = excluded.score, hits = excluded.hits,
                   score_parts = excluded.score_parts""", rows)

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
            f"""SELECT {_MATCH_COLUMNS}
                FROM matches m JOIN articles a ON a.key = m.article_key
                WHERE m.watchlist IN ({marks}) AND a.first_seen >= ? AND a.first_seen < ?
                ORDER BY a.first_seen, a.key, m.watchlist""",
            (*watchlists, _ts(start), _ts(end)))
        return [_match(row) for row in rows]

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
