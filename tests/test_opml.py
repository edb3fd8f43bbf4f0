"""OPML feed lists as a feed reader exports them."""

from __future__ import annotations

from pathlib import Path

import pytest

from digest.config import FeedSource
from digest.errors import ConfigError
from digest.sources.opml import read_opml

EXPORT = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>Subscriptions from a feed reader</title>
        <dateCreated>Mon, 05 Jan 2026 07:00:00 GMT</dateCreated></head>
  <body>
    <outline text="News" title="News">
      <outline type="rss" text="BBC News - World" title="BBC News - World"
               xmlUrl="https://feeds.bbci.co.uk/news/world/rss.xml" htmlUrl="https://www.bbc.co.uk/news/world"/>
      <outline text="Asia">
        <outline type="rss" text="The Japan Times" xmlUrl="https://www.japantimes.co.jp/feed/"/>
        <outline type="rss" text="NK News &amp; Analysis" title="NK News &amp; Analysis"
                 xmlUrl="https://www.nknews.org/feed/"/>
      </outline>
    </outline>
    <outline text="Tech">
      <outline type="rss" text="Ars" xmlUrl="https://feeds.arstechnica.com/arstechnica/index"/>
      <outline type="rss" text="BBC News - World" xmlUrl="https://feeds.bbci.co.uk/news/world/rss.xml"/>
      <outline type="rss" text="Ars" xmlUrl="http://arstechnica.com/feed/"/>
      <outline type="rss" xmlUrl="https://example.org/untitled.xml"/>
    </outline>
  </body>
</opml>
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "subscriptions.opml"
    path.write_text(text, encoding="utf-8")
    return path


def test_nested_outlines_become_unique_named_feeds_without_duplicates(tmp_path: Path) -> None:
    feeds = read_opml(write(tmp_path, EXPORT))
    assert feeds == [
        FeedSource("BBC News - World", "https://feeds.bbci.co.uk/news/world/rss.xml"),
        FeedSource("The Japan Times", "https://www.japantimes.co.jp/feed/"),
        FeedSource("NK News & Analysis", "https://www.nknews.org/feed/"),
        FeedSource("Ars", "https://feeds.arstechnica.com/arstechnica/index"),
        FeedSource("Ars (2)", "http://arstechnica.com/feed/"),
        FeedSource("https://example.org/untitled.xml", "https://example.org/untitled.xml"),
    ]


def test_entity_declarations_are_refused_with_the_line(tmp_path: Path) -> None:
    bomb = ('<?xml version="1.0"?>\n<!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa">'
            '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>\n<opml><body>'
            '<outline text="&b;" xmlUrl="https://example.org/f"/></body></opml>')
    path = write(tmp_path, bomb)
    with pytest.raises(ConfigError, match=r"subscriptions\.opml: line 2: DOCTYPE"):
        read_opml(path)


def test_malformed_opml_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, '<opml version="2.0">\n<body>\n'
                           '<outline text="x" xmlUrl="https://e.org/f">\n</body></opml>')
    with pytest.raises(ConfigError, match=r"opml: line 4, column \d+: not well-formed"):
        read_opml(path)


def test_non_web_feed_urls_and_non_opml_files_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="only http and https"):
        read_opml(write(tmp_path, '<opml><body><outline xmlUrl="file:///etc/passwd"/></body></opml>'))
    with pytest.raises(ConfigError, match="not an OPML file"):
        read_opml(write(tmp_path, "<rss><channel/></rss>"))
    with pytest.raises(ConfigError, match="cannot read"):
        read_opml(tmp_path / "missing.opml")
