"""Matches in, a Digest out: per watchlist, near-duplicates folded into stories, ranked,
capped, and only the stories that go in summarized and highlighted.

The summarizer and the clusterer are seams (keyword parameters, so tests can pass simple
ones); the defaults are ``digest.summarize.summarize`` and ``digest.cluster.cluster_matches``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Protocol

from digest.cluster import cluster_matches
from digest.config import DigestSpec
from digest.models import Digest, Match, Section, SourceProblem, Story
from digest.snippets import snippet_segments, title_segments
from digest.summarize import summarize

ALERT_NAME = "Alert"
_OLDEST = datetime.min.replace(tzinfo=timezone.utc)


class Summarizer(Protocol):
    def __call__(self, text: str, *, sentences: int = 3, terms: Sequence[str] = (),
                 description: str | None = None,
                 title: str | None = None) -> tuple[str, ...]: ...


class Clusterer(Protocol):
    def __call__(self, matches: Sequence[Match]) -> list[list[Match]]: ...


def build_digest(spec: DigestSpec, matches: Sequence[Match], *, period_start: datetime,
                 period_end: datetime, recipients: tuple[str, ...] | None = None,
                 problems: Sequence[SourceProblem] = (), alerted: frozenset[str] = frozenset(),
                 summarizer: Summarizer | None = None,
                 clusterer: Clusterer | None = None) -> Digest:
    """One section per watchlist of ``spec`` (in its order, empty ones left out).

    ``alerted`` holds the ids of articles already sent as immediate alerts.
    """
    sections = _sections(spec.watchlists, matches, max_stories=spec.max_stories,
                         sentences=spec.sentences, alerted=alerted,
                         summarizer=summarizer, clusterer=clusterer)
    return Digest(
        name=spec.name,
        period_start=period_start,
        period_end=period_end,
        recipients=spec.to if recipients is None else recipients,
        sections=sections,
        problems=tuple(problems),
    )


def build_alert(matches: Sequence[Match], *, at: datetime, recipients: tuple[str, ...],
                watchlists: Sequence[str] | None = None, sentences: int = 3,
                summarizer: Summarizer | None = None,
                clusterer: Clusterer | None = None) -> Digest:
    """An immediate alert: a Digest named "Alert" holding every story of ``matches``.

    Sections follow ``watchlists`` when given, else the order the watchlists first appear.
    """
    order = tuple(watchlists) if watchlists is not None else tuple(
        dict.fromkeys(match.watchlist for match in matches))
    sections = _sections(order, matches, max_stories=None, sentences=sentences,
                         alerted=frozenset(), summarizer=summarizer, clusterer=clusterer)
    times = [match.article.time for match in matches if match.article.time is not None]
    return Digest(name=ALERT_NAME, period_start=min(times, default=at), period_end=at,
                  recipients=recipients, sections=sections)


def rank_key(story: Story) -> tuple[float, int, datetime]:
    """Higher sorts first: score, then cluster size, then freshness."""
    return (story.lead.score, 1 + len(story.others), story.lead.article.time or _OLDEST)


def _sections(watchlists: Sequence[str], matches: Sequence[Match], *, max_stories: int | None,
              sentences: int, alerted: frozenset[str], summarizer: Summarizer | None,
              clusterer: Clusterer | None) -> tuple[Section, ...]:
    by_watchlist: dict[str, dict[str, Match]] = {name: {} for name in watchlists}
    for match in matches:
        chosen = by_watchlist.get(match.watchlist)
        if chosen is None:
            continue
        key = match.article.id
        if key not in chosen or match.score > chosen[key].score:  # one match per article
            chosen[key] = match
    sections = []
    for name in watchlists:
        found = list(by_watchlist[name].values())
        if not found:
            continue
        stories = sorted((_story(group) for group in _cluster(found, clusterer)),
                         key=rank_key, reverse=True)
        limit = len(stories) if max_stories is None else max(0, max_stories)
        kept = tuple(
            _finish(story, sentences=sentences, alerted=alerted, summarizer=summarizer)
            for story in stories[:limit]
        )
        sections.append(Section(watchlist=name, stories=kept, more=len(stories) - len(kept)))
    return tuple(sections)


def _cluster(matches: list[Match], clusterer: Clusterer | None) -> list[list[Match]]:
    groups = (clusterer or cluster_matches)(matches)
    # Whatever the clusterer did, every match lands in exactly one story.
    seen: set[int] = set()
    result = []
    for group in groups:
        fresh = [match for match in group if id(match) not in seen]
        seen.update(id(match) for match in fresh)
        if fresh:
            result.append(fresh)
    result.extend([match] for match in matches if id(match) not in seen)
    return result


def _story(group: Sequence[Match]) -> Story:
    """The representative is the best-scored match, the earliest among equals."""
    ordered = sorted(group, key=lambda m: (-m.score, m.article.time or _OLDEST, m.article.id))
    lead, rest = ordered[0], ordered[1:]
    others = tuple(sorted(rest, key=lambda m: (m.article.time or _OLDEST, m.article.source)))
    return Story(lead=lead, others=others)


def _finish(story: Story, *, sentences: int, alerted: frozenset[str],
            summarizer: Summarizer | None) -> Story:
    """Summary, highlighted title and snippet: only for stories that go into the mail."""
    article = story.lead.article
    hits = story.lead.hits
    terms = tuple(dict.fromkeys(hit.text for hit in hits))
    title = title_segments(article.title, hits)
    snippet = snippet_segments(article.body, hits) or title
    return Story(
        lead=story.lead,
        others=story.others,
        summary=(summarizer or summarize)(article.body, sentences=sentences, terms=terms,
                                          description=article.description, title=article.title),
        title=title,
        snippet=snippet,
        alerted=article.id in alerted or any(m.article.id in alerted for m in story.others),
    )
