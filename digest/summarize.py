"""Extractive summaries: the sentences a reader needs, in article order."""

from __future__ import annotations

from collections.abc import Sequence


def summarize(text: str, *, sentences: int = 3, terms: Sequence[str] = (),
              description: str | None = None) -> tuple[str, ...]:
    """Pick ``sentences`` sentences of ``text`` (each exactly as it appears there).

    ``terms`` are the matched words (sentences holding them get a bonus); ``description``
    (the feed's own summary) is the fallback for texts too short to summarize.
    """
    raise NotImplementedError
