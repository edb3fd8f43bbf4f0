"""The folder source: one article per file, headline on the first non-empty line.

Files are untrusted: anything odd (empty, binary, huge, hidden, still being written) is
skipped with a reason, never a crash. The article id is a hash of the content, so a copy
under another name is not news again.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from digest.config import FolderSource
from digest.errors import SourceError
from digest.models import Article, content_hash

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 2_000_000
PARTIAL_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".swp", "~")
# A line that ends like this closes a sentence (or a heading): the next line is not joined.
_SENTENCE_END = re.compile(r"""[.!?:;…"'”’)\]»]\s*$""")
# Control characters, and bidi overrides/isolates that would show a headline reversed.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True, slots=True)
class FolderResult:
    source: FolderSource
    articles: tuple[Article, ...]
    skipped: tuple[tuple[Path, str], ...]  # (file, why)
    error: str | None = None  # the whole folder could not be read


def read_folder(source: FolderSource) -> FolderResult:
    """Read every matching file of ``source``; problems are returned, not raised."""
    if not source.path.is_dir():  # checked when the config loaded, but it may have gone
        return FolderResult(source, (), (), f"{source.path} is not a folder (any more)")
    try:
        paths = sorted(p for p in source.path.glob(source.pattern) if p.is_file())
    except OSError as exc:
        return FolderResult(source, (), (), f"cannot list {source.path}: {exc.strerror or exc}")
    articles: list[Article] = []
    skipped: list[tuple[Path, str]] = []
    for path in paths:
        try:
            articles.append(read_article_file(path, source=source.name))
        except SourceError as exc:
            log.warning("skipping %s: %s", path, exc)
            skipped.append((path, str(exc)))
    return FolderResult(source, tuple(articles), tuple(skipped))


def read_article_file(path: Path, *, source: str | None = None) -> Article:
    """Read one article file; raise SourceError saying why it was not usable."""
    reason = _unwanted_name(path)
    if reason:
        raise SourceError(reason)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SourceError(f"too large ({size} bytes; the limit is {MAX_FILE_BYTES})")
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror or exc}") from exc
    title, body = parse_article_text(decode_text(data))
    return Article(
        source=source or path.parent.name,
        id=content_hash(title, body),
        title=title,
        body=body,
    )


def _unwanted_name(path: Path) -> str | None:
    if path.name.startswith("."):
        return "hidden file"
    if path.name.lower().endswith(PARTIAL_SUFFIXES):
        return "partial write (temporary file name)"
    return None


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM); else Windows-1252, the usual culprit; else Latin-1."""
    if not data.strip():
        raise SourceError("empty file")
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SourceError("binary file (NUL bytes)")
    for encoding in ("utf-8-sig", "utf-16", "cp1252", "latin-1"):
        if encoding == "utf-16" and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
            continue
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SourceError("undecodable text")  # unreachable: latin-1 decodes anything


def parse_article_text(text: str) -> tuple[str, str]:
    """Split decoded text into (headline, body), joining lines hard-wrapped mid-sentence."""
    text = _CONTROL.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [line.strip() for line in text.split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    if not lines:
        raise SourceError("empty file")
    title = lines[0]
    body = "\n".join(join_hard_wraps(lines[1:])).strip()
    return title, body


def join_hard_wraps(lines: list[str]) -> list[str]:
    """Join a line to the previous one when the previous stops mid-sentence and this one
    continues it in lower case ("…will go to Pyongyang subsequent" / "month.")."""
    joined: list[str] = []
    for line in lines:
        if (joined and joined[-1] and line and line[0].islower()
                and not _SENTENCE_END.search(joined[-1])):
            joined[-1] = f"{joined[-1]} {line}"
        else:
            joined.append(line)
    return joined
