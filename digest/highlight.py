"""Marking matched spans in text: for `digest match` output and anything else that shows
why an article matched. Spans index the original text; overlapping spans are merged."""

from __future__ import annotations

from collections.abc import Iterable

ELLIPSIS = "\u2026"


def merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, non-overlapping spans covering the same characters."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def mark(text: str, spans: Iterable[tuple[int, int]], before: str = "\u00ab",
         after: str = "\u00bb") -> str:
    """``text`` with every span wrapped in ``before``/``after``."""
    pieces = []
    position = 0
    for start, end in merge(spans):
        pieces += [text[position:start], before, text[start:end], after]
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


def snippets(text: str, spans: Iterable[tuple[int, int]], *, context: int = 50,
             before: str = "\u00ab", after: str = "\u00bb", limit: int = 3) -> list[str]:
    """Up to ``limit`` one-line excerpts around the spans, matched words marked."""
    windows: list[tuple[int, int]] = []
    for start, end in merge(spans):
        window = (max(start - context, 0), min(end + context, len(text)))
        if windows and window[0] <= windows[-1][1]:
            windows[-1] = (windows[-1][0], window[1])
        else:
            windows.append(window)
    merged = merge(spans)
    out = []
    for low, high in windows[:limit]:
        inside = [(max(s, low) - low, min(e, high) - low)
                  for s, e in merged if s < high and e > low]
        excerpt = " ".join(mark(text[low:high], inside, before, after).split())
        out.append((ELLIPSIS if low else "") + excerpt + (ELLIPSIS if high < len(text) else ""))
    return out
