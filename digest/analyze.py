"""What a poll works out about articles besides their text: the watchlists they match and,
for matched ones, the sketch that clustering compares.

For a large feed poll this runs in the parse worker processes, next to feedparser, so the
main process is left with I/O and SQLite: matching there held the GIL that its event loop
and the process pool's feeder thread also need, and kept the workers waiting for bodies.
An ``Analyzer`` is picklable (it travels as the watchlists) and builds its ``Matcher`` once
per process, on first use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from digest.cluster import Sketch, sketch, sketch_text
from digest.config import Watchlist
from digest.matcher import Matcher
from digest.models import Article, Match


@dataclass(frozen=True, slots=True)
class Analysis:
    """The matches of some articles, and the sketches of those that matched (by id)."""

    matches: tuple[Match, ...] = ()
    sketches: dict[str, Sketch | None] = field(default_factory=dict)


class Analyzer:
    """Matches articles against the watchlists and sketches the matched ones."""

    def __init__(self, watchlists: Sequence[Watchlist], matcher: Matcher | None = None) -> None:
        self.watchlists = tuple(watchlists)
        self._matcher = matcher

    @property
    def matcher(self) -> Matcher:
        if self._matcher is None:
            self._matcher = Matcher(self.watchlists)
        return self._matcher

    def matches(self, article: Article) -> list[Match]:
        return self.matcher.match(article)

    def __call__(self, articles: Sequence[Article]) -> Analysis:
        matches = [match for article in articles for match in self.matches(article)]
        sketches = {match.article.id: sketch(sketch_text(match)) for match in matches}
        return Analysis(tuple(matches), sketches)

    def __getstate__(self) -> dict[str, Any]:
        return {"watchlists": self.watchlists}  # the compiled matcher is rebuilt, not pickled

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.watchlists = state["watchlists"]
        self._matcher = None
