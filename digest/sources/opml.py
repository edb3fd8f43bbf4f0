"""Feed lists exported from feed readers (OPML) as FeedSources.

Every ``<outline>`` with an ``xmlUrl`` is a feed, however deeply nested in folders; its
``title`` (else ``text``, else the URL) becomes the source name. A URL listed twice is kept
once; two feeds with the same name get " (2)", " (3)" … so every source name is unique.
Only http/https feeds are accepted. The file is untrusted: a DOCTYPE or entity declaration
is refused before parsing (no entity expansion, no external entities).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from digest.config import FeedSource
from digest.errors import ConfigError
from digest.htmltext import one_line
from digest.urls import is_web_url

_DECLARATION = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
MAX_NAME = 200


def read_opml(path: Path) -> list[FeedSource]:
    """The feeds listed in the OPML file ``path``; ConfigError naming the file (and line)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read OPML file: {exc.strerror or exc}", path=str(path)) from exc
    found = _DECLARATION.search(data)
    if found:
        line = data.count(b"\n", 0, found.start()) + 1
        raise ConfigError(f"line {line}: DOCTYPE and ENTITY declarations are not allowed in OPML",
                          path=str(path))
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        line, column = exc.position
        raise ConfigError(f"line {line}, column {column + 1}: not well-formed XML",
                          path=str(path)) from exc
    if root.tag.lower() != "opml":
        raise ConfigError(f"not an OPML file (the root element is <{root.tag}>)", path=str(path))
    feeds: list[FeedSource] = []
    urls: set[str] = set()
    names: set[str] = set()
    for outline in root.iter():
        if not isinstance(outline.tag, str) or outline.tag.lower() != "outline":
            continue
        attrs = {key.lower(): value for key, value in outline.attrib.items()}
        url = (attrs.get("xmlurl") or "").strip()
        if not url:
            continue  # a folder
        if not is_web_url(url):
            raise ConfigError(f"feed {url!r}: only http and https feed URLs are supported",
                              path=str(path))
        if url in urls:
            continue
        urls.add(url)
        name = one_line(attrs.get("title") or attrs.get("text") or "")[:MAX_NAME] or url
        unique, number = name, 2
        while unique.casefold() in names:
            unique, number = f"{name} ({number})", number + 1
        names.add(unique.casefold())
        feeds.append(FeedSource(name=unique, url=url))
    return feeds
