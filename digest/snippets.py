"""Highlighting: the headline with its matched words marked, and the matched words in context.

Hits carry offsets into the *original* field text (curly quotes and all), so marking is
slicing: a marked segment's text is exactly ``text[hit.start:hit.end]``. Hits whose offsets
do not fit the text (a stale match, an edited article) are ignored rather than trusted.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from digest.models import Field, Hit, Segment
from digest.sentences import iter_sentences

log = logging.getLogger(__name__)

ELLIPSIS = "…"
SNIPPET_WIDTH = 220  # characters of context, before cutting at word boundaries
_SPACES = re.compile(r"\s+")


def spans(text: str, hits: Sequence[Hit], field: Field) -> list[tuple[int, int]]:
    """The valid hit spans of ``field`` in ``text``, sorted, overlapping ones merged."""
    found = []
    for hit in hits:
        if hit.field != field:
            continue
        if not 0 <= hit.start < hit.end <= len(text) or text[hit.start:hit.end] != hit.text:
            log.debug("ignoring hit %r: offsets %d:%d do not fit the text",
                      hit.text, hit.start, hit.end)
            continue
        found.append((hit.start, hit.end))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(found):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def mark(text: str, marks: Sequence[tuple[int, int]], *, start: int = 0,
         end: int | None = None) -> tuple[Segment, ...]:
    """``text[start:end]`` as segments, the parts inside ``marks`` marked."""
    end = len(text) if end is None else end
    segments: list[Segment] = []
    position = start
    for mark_start, mark_end in marks:
        mark_start, mark_end = max(mark_start, start), min(mark_end, end)
        if mark_start >= mark_end:
            continue
        if mark_start > position:
            segments.append(Segment(text[position:mark_start]))
        segments.append(Segment(text[mark_start:mark_end], marked=True))
        position = mark_end
    if position < end:
        segments.append(Segment(text[position:end]))
    return tuple(segments)


def title_segments(title: str, hits: Sequence[Hit]) -> tuple[Segment, ...]:
    """The headline with its matched words marked."""
    return mark(title, spans(title, hits, "title"))


def snippet_segments(body: str, hits: Sequence[Hit], *,
                     width: int = SNIPPET_WIDTH) -> tuple[Segment, ...]:
    """About ``width`` characters of ``body`` around its best body hits, cut at word
    boundaries with "…", matched words marked; () when the body has no hit."""
    marks = spans(body, hits, "body")
    if not marks:
        return ()
    start, end = _window(body, marks, width)
    segments = list(mark(body, marks, start=start, end=end))
    segments = _tidy_ends(segments)
    if start > 0:
        segments.insert(0, Segment(ELLIPSIS + " "))
    if end < len(body):
        segments.append(Segment(" " + ELLIPSIS))
    return tuple(_collapse_whitespace(segments))


def _window(text: str, marks: Sequence[tuple[int, int]], width: int) -> tuple[int, int]:
    """The ``width`` window holding the most hits (earliest on ties), snapped to words."""
    best_start, best_count = marks[0][0], 0
    for first, (candidate, _) in enumerate(marks):
        count = sum(1 for s, e in marks[first:] if e <= candidate + width)
        if count > best_count:
            best_start, best_count = candidate, count
    covered_end = max((e for s, e in marks if s >= best_start and e <= best_start + width),
                      default=best_start)
    covered_end = max(covered_end, next(e for s, e in marks if s == best_start))
    slack = max(0, width - (covered_end - best_start))
    # A little context before the first hit; start at its sentence when that is close.
    start = max(0, best_start - min(slack // 3, 80))
    sentence = _sentence_start(text, best_start, limit=start - 40)
    start = sentence if sentence is not None else _word_start(text, start)
    end = min(len(text), max(covered_end, start + width))
    end = _word_end(text, end)
    return start, end


def _sentence_start(text: str, position: int, *, limit: int) -> int | None:
    """The start of the sentence containing ``position`` if it begins at or after ``limit``
    (the summarizer's splitter: "Mr. Kim" does not end a sentence)."""
    start = 0
    for sentence in iter_sentences(text):  # starts only grow: stop at the first one past
        if sentence.start > position:
            break
        start = sentence.start
    return start if start >= max(0, limit) else None


def _word_start(text: str, position: int) -> int:
    if position <= 0:
        return 0
    while position < len(text) and not text[position - 1].isspace():
        position += 1
    return position


def _word_end(text: str, position: int) -> int:
    while position < len(text) and not text[position].isspace():
        position += 1
    return position


def _tidy_ends(segments: list[Segment]) -> list[Segment]:
    """Strip whitespace at the snippet's two ends (marked text is never touched)."""
    if segments and not segments[0].marked:
        segments[0] = Segment(segments[0].text.lstrip())
    if segments and not segments[-1].marked:
        segments[-1] = Segment(segments[-1].text.rstrip())
    return [segment for segment in segments if segment.text]


def _collapse_whitespace(segments: list[Segment]) -> list[Segment]:
    """Line breaks and runs of spaces become one space: a snippet is one run of text."""
    return [s if s.marked else Segment(_SPACES.sub(" ", s.text)) for s in segments]
