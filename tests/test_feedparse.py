"""Feed bytes to Articles: ids, links, text, dates, caps, canonical URLs."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from digest.errors import SourceError
from digest.models import Article
from digest.sources.feedparse import MAX_BODY, MAX_TITLE, parse_feed
from digest.urls import canonical_url, safe_url

FEED_URL = "https://news.example/feeds/world.xml"


def rss(items: str) -> bytes:
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>World</title>'
            f"{items}</channel></rss>").encode()


def one(item: str) -> Article:
    articles = parse_feed(rss(f"<item>{item}</item>"), source="World", url=FEED_URL).articles
    assert len(articles) == 1
    return articles[0]


def test_content_encoded_becomes_the_body_and_the_summary_the_description() -> None:
    article = one("<title>Talks &amp; sanctions</title><guid>id-1</guid>"
                  "<link>/2026/01/talks?utm_source=rss#top</link>"
                  "<description>&lt;p&gt;Short &lt;b&gt;summary&lt;/b&gt;&lt;/p&gt;</description>"
                  "<content:encoded><![CDATA[<p>Full</p><script>x()</script><p>story</p>]]>"
                  "</content:encoded><dc:creator>A. Reporter</dc:creator>"
                  "<pubDate>Mon, 05 Jan 2026 07:00:00 GMT</pubDate>")
    assert article.id == "World|id-1" and article.source == "World"
    assert article.title == "Talks & sanctions"
    assert article.body == "Full\n\nstory"
    assert article.description == "Short summary"
    assert article.author == "A. Reporter"
    assert article.url == "https://news.example/2026/01/talks?utm_source=rss#top"
    assert article.canonical_url == "https://news.example/2026/01/talks"
    assert article.published == datetime(2026, 1, 5, 7, tzinfo=timezone.utc)


def test_id_falls_back_to_link_then_content_hash_and_unsafe_links_are_dropped() -> None:
    assert one("<title>A</title><link>https://n.example/a</link>").id == (
        "https://n.example/a")
    hashed = one("<title>B</title><link>javascript:alert(1)</link><description>b</description>")
    assert hashed.url is None and len(hashed.id) == 32
    assert one("<title>C</title><link>data:text/html,x</link>").url is None


@pytest.mark.parametrize(("raw", "expected"), [
    ("Mon, 05 Jan 2026 09:00:00 CEST", datetime(2026, 1, 5, 7, tzinfo=timezone.utc)),
    ("Mon, 05 Jan 2026 09:00:00 +0200", datetime(2026, 1, 5, 7, tzinfo=timezone.utc)),
    ("Mon, 05 Jan 2026 02:00:00 EST", datetime(2026, 1, 5, 7, tzinfo=timezone.utc)),
    ("2026-01-05T07:00:00Z", datetime(2026, 1, 5, 7, tzinfo=timezone.utc)),
    ("Mon, 05 Jan 2026 09:00:00 XYZT", None),  # unknown zone: not silently UTC
    ("Sunday, June 1, 2025 - 12:00", None),
    ("mer, 16 nov 2022", None),
])
def test_dates_are_utc_or_none_when_unsure(raw: str, expected: datetime | None) -> None:
    article = one(f"<title>T</title><guid>g</guid><pubDate>{raw}</pubDate>")
    assert article.published == expected


def test_huge_titles_and_bodies_are_capped_and_control_characters_stripped() -> None:
    article = one(f"<title>{'x' * 1_000_000}</title><guid>g</guid>"
                  f"<description>{'word ' * 100_000}&#1;</description>")
    assert len(article.title) == MAX_TITLE and len(article.body) <= MAX_BODY
    article = one("<title>Bell\x07 and\x0b tab</title><guid>g</guid>")
    assert article.title == "Bell and tab"


def test_html_page_and_garbage_are_not_feeds() -> None:
    page = b"<!DOCTYPE html><html><head><title>Home</title></head><body>Hello</body></html>"
    with pytest.raises(SourceError, match="not a feed: the server sent an HTML page"):
        parse_feed(page, source="x", url=FEED_URL, headers={"Content-Type": "text/html"})
    with pytest.raises(SourceError, match="not a feed"):
        parse_feed(b"\x89PNG\r\n\x1a\n\x00\x00", source="x", url=FEED_URL)


def test_bozo_feed_with_entries_is_used_with_a_warning() -> None:
    body = rss("<item><title>Caf\xe9 &amp; bar</title><guid>g</guid></item>").replace(
        "é".encode(), b"\xe9")
    parsed = parse_feed(body + b"<junk", source="x", url=FEED_URL)
    assert parsed.warning and len(parsed.articles) == 1


def test_atom_relative_links_resolve_against_xml_base_or_the_feed_url() -> None:
    atom = (b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>'
            b'<entry><id>tag:a,1</id><title type="html">&lt;b&gt;Bold&lt;/b&gt; news</title>'
            b'<link rel="alternate" href="story/1"/><updated>2026-01-05T07:00:00+01:00</updated>'
            b'<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Body</p></div>'
            b"</content></entry></feed>")
    article = parse_feed(atom, source="A", url=FEED_URL).articles[0]
    assert article.title == "Bold news" and article.body == "Body"
    assert article.url == "https://news.example/feeds/story/1"
    assert article.published == datetime(2026, 1, 5, 6, tzinfo=timezone.utc)


@pytest.mark.parametrize(("url", "canonical"), [
    ("HTTP://WWW.Example.COM/a/b/?utm_source=x&utm_medium=y&id=3#frag",
     "https://example.com/a/b?id=3"),
    ("https://example.com/a/b", "https://example.com/a/b"),
    ("https://example.com:443/a?fbclid=1&gclid=2&mc_cid=3&mc_eid=4&ref=5",
     "https://example.com/a"),
    ("https://example.com:8443/a?b=1&a=2", "https://example.com:8443/a?b=1&a=2"),
    ("javascript:alert(1)", None),
    ("ftp://example.com/file", None),
    ("/relative", None),
])
def test_canonical_url(url: str, canonical: str | None) -> None:
    assert canonical_url(url) == canonical


def test_safe_url_resolves_relative_and_refuses_hidden_schemes() -> None:
    assert safe_url("../x", "https://a.example/b/c/") == "https://a.example/b/x"
    assert safe_url("java\nscript:alert(1)", "https://a.example/") is None
    assert safe_url("  https://a.example/ok  ") == "https://a.example/ok"
    assert safe_url("https://a.example:99999/") is None
    assert safe_url("https://a.example/\u202egnp.exe") is None  # would show as "exe.png"
    assert safe_url("https://a.example/\u2028x") is None
    assert safe_url("https://a b.example/") is None


def test_bare_guids_are_scoped_by_feed_but_global_ones_are_not() -> None:
    item = "<title>T</title><guid>17</guid><description>Body text.</description>"
    first = parse_feed(rss(f"<item>{item}</item>"), source="A", url=FEED_URL).articles[0]
    second = parse_feed(rss(f"<item>{item}</item>"), source="B", url=FEED_URL).articles[0]
    assert first.id != second.id  # two feeds numbering their items 17 are two articles
    tagged = item.replace("<guid>17</guid>", "<guid>tag:example.org,2026:17</guid>")
    assert parse_feed(rss(f"<item>{tagged}</item>"), source="A",
                      url=FEED_URL).articles[0].id == "tag:example.org,2026:17"
