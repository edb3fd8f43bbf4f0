"""Text normalization shared by watchlist terms and article text, with an offset map.

Both sides go through the same steps (DESIGN.md, "Watchlist language"): Unicode NFKC and
case folding; curly quotes and apostrophes become straight ones; hyphens and dashes count
as a space; diacritics are folded; line breaks and runs of whitespace become one space.

Matching happens on the normalized text, but highlights must point into the original, so
``normalize`` also records, for every normalized character, the ``[start, end)`` range of
the original character(s) it came from ("ß" → "ss": both ``s`` map to the one ``ß``).
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d-"
_APOSTROPHES = "\u2018\u2019\u201a\u201b\u02bc\u02b9`\u00b4\u2032\uff07"
_DOUBLE_QUOTES = "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb"
_LETTERS = {"ł": "l", "ø": "o", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe", "ı": "i"}

_TRANSLATE = MappingProxyType(
    {ord(c): " " for c in _DASHES}
    | {ord(c): "'" for c in _APOSTROPHES}
    | {ord(c): '"' for c in _DOUBLE_QUOTES}
    | {ord(c): r for c, r in _LETTERS.items()}
)


def _fold_char(char: str) -> str:
    """The normalized form of one character: may be empty (a combining mark) or longer."""
    text = unicodedata.normalize("NFKC", char).casefold().translate(_TRANSLATE)
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).translate(_TRANSLATE)


# Precomputed for ASCII, where almost all news text lives: an immutable lookup table.
_ASCII = tuple(" " if chr(i).isspace() else _fold_char(chr(i)) for i in range(128))
_ASCII_TABLE = MappingProxyType(dict(enumerate(_ASCII)))  # every ASCII character maps 1:1


@dataclass(frozen=True, slots=True)
class Normalized:
    """Normalized text plus the map from each of its characters back to ``original``.

    The map is piecewise: normalized index ``n`` comes from original index
    ``n + deltas[k]`` where ``breaks[k] <= n`` is the last break before it. Characters
    that expand ("ß" → "ss") or vanish (combining marks) use explicit per-character
    ``starts``/``ends`` instead (rare, so the common case stays cheap).
    """

    original: str
    text: str
    breaks: tuple[int, ...] = (0,)
    deltas: tuple[int, ...] = (0,)
    starts: tuple[int, ...] | None = None
    ends: tuple[int, ...] | None = None

    def start_of(self, index: int) -> int:
        """Original start of normalized character ``index``."""
        if self.starts is not None:
            return self.starts[index]
        return index + self.deltas[bisect_right(self.breaks, index) - 1]

    def end_of(self, index: int) -> int:
        """Original end of normalized character ``index``."""
        if self.ends is not None:
            return self.ends[index]
        return self.start_of(index) + 1

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original range covered by the normalized range ``[start, end)`` (end > start)."""
        return self.start_of(start), self.end_of(end - 1)


def normalize_text(text: str) -> str:
    """Just the normalized string (for terms and comparisons)."""
    return normalize(text).text


def _table(text: str) -> Mapping[int, str] | None:
    """A translate table for ``text``, or None when some character does not map 1:1."""
    if text.isascii():
        return _ASCII_TABLE
    table: dict[int, str] = {}
    for char in set(text):
        code = ord(char)
        if code < 128:
            folded = _ASCII[code]
        elif char.isspace():  # every kind of space becomes " ", one for one
            folded = " "
        else:
            folded = _fold_char(char)
        if len(folded) != 1:
            return None
        table[code] = folded
    return table


def normalize(original: str) -> Normalized:
    """Normalize ``original`` and keep the map back to it."""
    table = _table(original)
    if table is None:
        return _normalize_slow(original)
    spaced = original.translate(table)  # same length: all whitespace is now " "
    breaks = [0]
    deltas = [0]
    parts: list[str] = []
    position = 0  # in spaced
    removed = 0
    for start, end, keep in _space_runs(spaced):
        parts.append(spaced[position:start])
        if keep:
            parts.append(" ")
        position = end
        removed += end - start - keep
        breaks.append(end - removed)
        deltas.append(removed)
    parts.append(spaced[position:])
    return Normalized(original, "".join(parts), tuple(breaks), tuple(deltas))


def _space_runs(spaced: str) -> list[tuple[int, int, int]]:
    """The runs of spaces to shrink, as (start, end, spaces kept): leading and trailing runs
    go, inner runs of two or more become one. Single inner spaces (almost all) are skipped
    by ``str.find`` at C speed."""
    text_start = len(spaced) - len(spaced.lstrip(" "))
    text_end = len(spaced.rstrip(" "))
    runs = [(0, text_start, 0)] if text_start else []
    index = spaced.find("  ", text_start, text_end)
    while index >= 0:
        end = index + 2
        while spaced[end] == " ":  # stops inside the text: text_end is not a space
            end += 1
        runs.append((index, end, 1))
        index = spaced.find("  ", end, text_end)
    if text_end < len(spaced) and text_end > 0:
        runs.append((text_end, len(spaced), 0))
    return runs


def _normalize_slow(original: str) -> Normalized:
    """Character by character, for texts with expanding or vanishing characters.

    Composition across characters is not needed because combining marks are dropped
    anyway. A mark that disappears extends the range of the character before it, so
    "Zu\u0308rich" highlights the whole decomposed "ü".
    """
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    pending_space = -1  # original index of a whitespace run not yet written
    local: dict[str, str] = {}
    for index, char in enumerate(original):
        code = ord(char)
        if code < 128:
            folded = _ASCII[code]
        elif char in local:
            folded = local[char]
        else:
            folded = local[char] = _fold_char(char)
        if not folded:
            if ends and ends[-1] == index:
                ends[-1] = index + 1
            continue
        for piece in folded:
            if piece.isspace():
                if pending_space < 0:
                    pending_space = index
                continue
            if pending_space >= 0:
                if out:
                    out.append(" ")
                    starts.append(pending_space)
                    ends.append(pending_space + 1)
                pending_space = -1
            out.append(piece)
            starts.append(index)
            ends.append(index + 1)
    return Normalized(original, "".join(out), starts=tuple(starts), ends=tuple(ends))
