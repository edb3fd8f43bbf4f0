"""All watchlists compiled into one matcher: candidates from one Aho-Corasick pass over the
normalized text, confirmed by per-term rules, then the boolean expressions evaluated."""

from __future__ import annotations

from collections.abc import Sequence

from digest.config import Watchlist
from digest.models import Article, Match


class Matcher:
    """Built once per configuration (and on reload); ``match`` is cheap and thread-safe."""

    def __init__(self, watchlists: Sequence[Watchlist]) -> None:
        raise NotImplementedError

    def match(self, article: Article) -> list[Match]:
        """One Match per watchlist the article satisfies (exclude applied)."""
        raise NotImplementedError


def validate_watchlist(watchlist: Watchlist) -> None:
    """Raise QueryError for the first malformed term/query/exclude (config loading calls it)."""
    raise NotImplementedError
