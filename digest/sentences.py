"""Sentence splitting for news text, and the boilerplate no summary may pick.

Lines are hard boundaries (feeds and article files put headings, captions and "Read more"
links on lines of their own), except a line hard-wrapped in mid-sentence: one that ends
without terminal punctuation and is followed by a line starting in lower case is joined to
it. Within a line, a sentence ends at ``.``, ``!``, ``?`` or an ellipsis (plus closing
quotes or brackets) followed by space and an upper-case letter, a digit or an opening
quote, unless the word before the full stop is an abbreviation ("Mr.", "Dr.", "Jan. 2019")
or an initial ("J. K. Rowling"). Dotted abbreviations such as "U.S." end a sentence only
when a typical sentence opener follows ("in the U.S. The talks…").

Measured against pysbd on the BBC set (``benchmarks/summaries.py --splitter``): the same
boundaries on nearly every article at a small fraction of its cost.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Titles before a name: a full stop after them never ends a sentence.
_TITLES = _set("""
mr mrs ms messrs mme mlle dr prof sr jr st rev hon gen col lt maj capt cmdr sgt cpl adm
gov sen rep pres supt insp det fr br sec amb atty
""")
# Abbreviations that may also end a sentence: split only before a typical opener.
_AMBIGUOUS = _set("""
jan feb mar apr jun jul aug sep sept oct nov dec mon tue tues wed thu thur thurs fri sat sun
no nos vol vols fig figs ed eds inc ltd co corp plc bros llc est approx dept univ assn
av ave blvd rd mt ft vs etc al cf ca op pp para
""")
# Words that typically open a sentence: after "U.S." or "Inc." they signal a boundary.
_OPENERS = _set("""
a an the this that these those there then it its he she we they i you his her their our my
but and or so yet however meanwhile also still in on at for from with after before when
while if as although though since because despite during many most some all both each
no not one two three four five six seven eight nine ten what who why how where which
officials analysts critics experts police mr mrs ms dr prof
""")

_TERMINAL = ".!?\u2026"
_CLOSERS = "\"'\u201d\u2019)]\u00bb"
_OPENERS_PUNCT = "\"'\u201c\u2018([\u00ab"
# Candidate boundary: terminal punctuation, optional closers, whitespace, then the next start.
_BOUNDARY = re.compile(
    r"(?:\.{3}|[.!?\u2026])+[\"'\u201d\u2019)\]\u00bb]*(?P<gap>\s+)"
    r"(?=[\"'\u201c\u2018(\[\u00ab]*[^\W_])"
)
_WORD_BEFORE = re.compile(r"([^\s\"'\u201c\u2018(\[]+)$")
_LINE_END_OK = frozenset(_TERMINAL + _CLOSERS + ":;,")

_BOILERPLATE_START = re.compile(
    r"""^\W*(?:
        read\ (?:more|extra|also|next|the\ full|our)\b | see\ also\b | related\b |
        more\ on\ this\b | more\ from\b | most\ read\b | top\ stories\b | recommended\b |
        watch\b\s*: | listen\b\s*: | watch\ now\b | video\b\s*: | audio\b\s*: |
        image\b\s*(?:caption|source|copyright)\b | media\ caption\b | photo\b\s*(?:credit)?\s*: |
        picture\b\s*: | caption\b\s*: | (?:photograph|illustration)\b\s*: | getty\ images\b |
        copyright\b | \u00a9 | all\ rights\ reserved\b | sign\ up\b | subscribe\b |
        share\ (?:this|on|via)\b | follow\ (?:us|@|me)\b | click\ here\b | advertisement\b |
        (?:additional\ )?reporting\ by\b | editing\ by\b | (?:writing|written|compiled)\ by\b |
        (?:last\ )?updated\b\s*: | published\b\s*: | posted\b\s*(?:on|at|by)?\s*: |
        this\ article\ (?:was|originally|first)\b | (?:email|e-mail)\ (?:us|this)\b |
        download\ the\b | get\ (?:the|our)\ (?:app|newsletter)\b | skip\ to\b | loading\b
    )""",
    re.IGNORECASE | re.VERBOSE,
)
_BYLINE = re.compile(
    r"^By\s+[A-Z][\w'.\-]*(?:\s+(?:[A-Z][\w'.\-]*|and|&|de|van|von|al|bin))*\s*(?:[,|\u2013\u2014-].*)?$"
)
_DOTTED = re.compile(r"(?:[^\W\d_]{1,3}\.)+[^\W\d_]{1,3}")
_MIXED_CASE = re.compile(r"[a-z]+[A-Z]")
_URL_ONLY = re.compile(r"^\W*(?:https?://|www\.)\S+\W*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence: ``text[start:end]`` of the input, with hard-wrap newlines as spaces."""

    text: str
    start: int
    end: int
    boilerplate: bool  # headings, bylines, captions, links: never part of a summary


def split_sentences(text: str) -> list[Sentence]:
    """All sentences of ``text`` in order, boilerplate flagged rather than dropped."""
    return list(iter_sentences(text))


def iter_sentences(text: str) -> Iterator[Sentence]:
    """``split_sentences`` one at a time, so a caller can stop early."""
    for start, end in _lines(text):
        line = text[start:end]
        line_is_boilerplate = is_boilerplate_line(line)
        for s_start, s_end in _split_line(line):
            raw = line[s_start:s_end]
            shown = raw.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
            yield Sentence(
                text=shown, start=start + s_start, end=start + s_end,
                boilerplate=line_is_boilerplate or bool(_BOILERPLATE_START.match(shown)),
            )


def is_boilerplate_line(line: str) -> bool:
    """Headings, bylines, captions, "Read more" links and similar non-prose lines."""
    stripped = " ".join(line.split())
    if not stripped:
        return True
    if _BOILERPLATE_START.match(stripped) or _BYLINE.match(stripped) or _URL_ONLY.match(stripped):
        return True
    # A heading: a short line that does not end like a sentence.
    bare = stripped.rstrip(_CLOSERS) or stripped
    return bare[-1] not in _TERMINAL + ":;," and len(stripped.split()) <= 20


def _lines(text: str) -> Iterator[tuple[int, int]]:
    """Spans of non-empty lines, with mid-sentence hard wraps joined into one span."""
    spans: list[tuple[int, int]] = []
    position = 0
    for raw in text.splitlines(keepends=True):
        content = raw.rstrip("\r\n")
        left = len(content) - len(content.lstrip())
        stripped = content.strip()
        if stripped:
            spans.append((position + left, position + left + len(stripped)))
        else:
            spans.append((position, position))  # blank line: a paragraph break
        position += len(raw)
    current: tuple[int, int] | None = None
    for start, end in spans:
        if start == end:
            if current:
                yield current
            current = None
            continue
        if current and _continues(text[current[0]:current[1]], text[start:end]):
            current = (current[0], end)
            continue
        if current:
            yield current
        current = (start, end)
    if current:
        yield current


def _continues(previous: str, following: str) -> bool:
    """True when ``following`` is the rest of a sentence hard-wrapped after ``previous``."""
    return previous[-1] not in _LINE_END_OK and following[0].islower()


def _split_line(line: str) -> Iterator[tuple[int, int]]:
    start = 0
    for found in _BOUNDARY.finditer(line):
        cut = found.start("gap")
        if _is_boundary(line, found.start(), found.end()):
            yield start, cut
            start = found.end()
    if start < len(line):
        yield start, len(line)


def _is_boundary(line: str, punct: int, next_start: int) -> bool:
    follower = _next_word(line, next_start)
    if follower[:1].islower() and not _MIXED_CASE.match(follower):
        return False  # "e.g. the", "p.m. on": lower case continues ("iPod" does not)
    if line[punct] != ".":
        return True  # "!", "?" and ellipses before a capital end a sentence
    if line.startswith("...", punct):
        return True
    before = _WORD_BEFORE.search(line, 0, punct)
    if not before:
        return True
    word = before.group(1)
    bare = word.lower().rstrip(".")
    if bare in _TITLES:
        return False
    if len(word) == 1 and word.isupper():
        return False  # an initial: "J. K. Rowling", "George W. Bush"
    if _DOTTED.fullmatch(word):  # "U.S", "a.m", "e.g"
        return follower.lower() in _OPENERS
    if bare in _AMBIGUOUS:
        return not follower[:1].isdigit() and follower.lower() in _OPENERS
    return True


def _next_word(line: str, position: int) -> str:
    match = re.match(r"[\"'\u201c\u2018(\[\u00ab]*([\w'\u2019-]+)", line[position:position + 40])
    return match.group(1) if match else ""
