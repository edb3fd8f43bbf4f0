"""Matches in, a Digest out: per watchlist, near-duplicates folded into stories, ranked,
capped, and only the stories that go in summarized and highlighted.

The summarizer and the clusterer are seams (keyword parameters): the defaults are
``digest.summarize.summarize`` and ``digest.cluster.cluster_matches``; while either is not
built yet, lead sentences and one-article stories stand in for them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Protocol

from digest.config import DigestSpec
from digest.models import Digest, Match, Section, SourceProblem, Story
from digest.snippets import snippet_segments, title_segments

log = logging.getLogger(__name__)

ALERT_NAME = "Alert"
_OLDEST = datetime.min.replace(tzinfo=timezone.utc)
_SENTENCE = re.compile(r"[^.!?]+(?:[.!?]+[”\"’)]*|$)")


class Summarizer(Protocol):
    def __call__(self, text: str, *, sentences: int = 3, terms: Sequence[str] = (),
                 description: str | None = None) -> tuple[str, ...]: ...


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
                since: datetime | None = None, name: str = ALERT_NAME,
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
    start = since if since is not None else min(times, default=at)
    return Digest(name=name, period_start=min(start, at), period_end=at,
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
    if clusterer is None:
        try:
            from digest.cluster import cluster_matches
        except ImportError:
            log.debug("digest.cluster is not available: every article is its own story")
            return [[match] for match in matches]
        clusterer = cluster_matches
    try:
        groups = clusterer(matches)
    except NotImplementedError:
        log.debug("clustering is not implemented yet: every article is its own story")
        return [[match] for match in matches]
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
        summary=_summarize(article.body, sentences=sentences, terms=terms,
                           description=article.description, summarizer=summarizer),
        title=title,
        snippet=snippet,
        alerted=article.id in alerted or any(m.article.id in alerted for m in story.others),
    )


def _summarize(text: str, *, sentences: int, terms: Sequence[str], description: str | None,
               summarizer: Summarizer | None) -> tuple[str, ...]:
    if summarizer is None:
        try:
            from digest.summarize import summarize
        except ImportError:
            return lead_sentences(text, sentences, description)
        summarizer = summarize
    try:
        return summarizer(text, sentences=sentences, terms=terms, description=description)
    except NotImplementedError:
        return lead_sentences(text, sentences, description)


def lead_sentences(text: str, count: int, description: str | None = None) -> tuple[str, ...]:
    """The stand-in summary: the first ``count`` sentences (or the feed's description)."""
    found = []
    for line in text.splitlines():
        for sentence in _SENTENCE.findall(line):
            if sentence.strip():
                found.append(sentence.strip())
            if len(found) >= count:
                return tuple(found)
    if not found and description:
        return (description.strip(),)
    return tuple(found)
