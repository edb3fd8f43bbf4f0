"""Hostile feeds and files: what a malicious or broken source can do to the user's mailbox or
machine — nothing. Feeds are served by a real aiohttp server on 127.0.0.1, polled by the
real pipeline into a real Maildir, and the resulting email is read as a mail client would.
Property tests (hypothesis) cover the folder reader, the HTML-to-text conversion and the
renderer on arbitrary input.
"""

from __future__ import annotations

import email
import gzip
import mailbox
import re
import string
from datetime import datetime, timezone
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import cast
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digest.config import load_config
from digest.delivery import transport_for
from digest.errors import SourceError
from digest.htmltext import html_to_text
from digest.models import Article, Digest, Hit, Match, Section, Segment, Story
from digest.pipeline import OnceReport, Runtime, run_once
from digest.render import Renderer
from digest.sources.folder import read_article_file
from digest.store import Store
from tests.feed_server import FeedServer, Route

EXPECTED_HEADERS = {"from", "to", "subject", "date", "message-id", "list-id", "auto-submitted",
                    "x-digest-kind", "mime-version", "content-type"}
BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


def rss(*items: str, declarations: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?>{declarations}<rss version="2.0"><channel>'
            f"<title>Feed</title><link>https://news.example/</link><description>d</description>"
            f"{''.join(items)}</channel></rss>").encode()


def item(title: str, *, guid: str, link: str | None = None,
         description: str | None = None,
         raw: bool = False) -> str:
    """An RSS item; ``raw`` puts title and description in unescaped (already markup)."""
    if description is None:
        words = " ".join(f"{guid}w{n}" for n in range(15))  # no two items look alike
        description = f"Kim Jong Un was there. {words}."
    title_xml = title if raw else escape(title)
    desc_xml = description if raw else escape(description)
    link = f"https://news.example/{guid}" if link is None else link
    return (f"<item><title>{title_xml}</title><guid>{guid}</guid>"
            f"<link>{escape(link)}</link><description>{desc_xml}</description></item>")


def config_for(tmp_path: Path, feeds: dict[str, str]) -> Path:
    blocks = "".join(f'[[sources.feeds]]\nname = "{name}"\nurl = "{url}"\n\n'
                     for name, url in feeds.items())
    path = tmp_path / "digest.toml"
    path.write_text(f"""\
timezone = "UTC"

{blocks}
[[watchlists]]
name = "Korea"
terms = ["Kim Jong Un"]

[[digests]]
name = "Morning"
schedule = "0 7 * * mon-fri"
to = ["you@example.com"]
max_stories = 1000

[delivery]
method = "maildir"
maildir = "mail"
""")
    return path


async def run_digest(config_path: Path, state: Path) -> tuple[OnceReport, list[EmailMessage]]:
    config = load_config(config_path)
    with Store.open(state / "digest.sqlite") as store:
        rt = Runtime.create(config, store, transport_for(config))
        report = await run_once(rt, digests=list(config.digests))
    box = mailbox.Maildir(config_path.parent / "mail", create=True)
    messages = [cast(EmailMessage, email.message_from_bytes(box.get_bytes(key),
                                                            policy=policy.default))
                for key in box.iterkeys()]
    return report, messages


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    return cast(str, text.get_content()), cast(str, html.get_content())


def assert_safe(message: EmailMessage) -> None:
    """Only our headers; one-line subject without bidi controls; nothing active in the HTML."""
    names = [name.lower() for name, _ in message.items()]
    assert sorted(names) == sorted(EXPECTED_HEADERS)
    subject = str(message["Subject"])
    assert "\n" not in subject and "\r" not in subject and not BIDI.search(subject)
    text, html = parts(message)
    lowered = html.lower()
    for forbidden in ("<script", "<form", "<iframe", "javascript:", "data:text", "<input",
                      "<object", "<embed"):
        assert forbidden not in lowered, forbidden
    assert not re.search(r"<[^>]*\son[a-z]+\s*=", html, re.IGNORECASE)  # no event handler
    hrefs = re.findall(r'href\s*=\s*["\']?([^"\' >]*)', html, re.IGNORECASE)
    assert hrefs and all(h.startswith(("http://", "https://", "#")) for h in hrefs), hrefs
    assert "\x00" not in text and "\x00" not in html


async def test_entity_expansion_and_external_entities_read_nothing_and_fetch_nothing(
        tmp_path: Path, isolated_env: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-7f3a9")
    laughs = "".join(
        f'<!ENTITY lol{n} "{("&lol" + str(n - 1) + ";") * 10}">' for n in range(1, 10))
    async with FeedServer() as server:
        watched = server.url("/xxe-probe")
        external = (f'<!DOCTYPE rss [<!ENTITY file SYSTEM "file://{secret}">'
                    f'<!ENTITY web SYSTEM "{watched}">'
                    f'<!ENTITY % remote SYSTEM "{watched}-dtd"> %remote;]>')
        server.routes["/laughs.xml"] = Route.feed(rss(
            item("Kim Jong Un &lol9; laughs", guid="l1", raw=True),
            item("Kim Jong Un plain news", guid="l2"),
            declarations=f'<!DOCTYPE rss [<!ENTITY lol0 "lol">{laughs}]>'))
        server.routes["/xxe.xml"] = Route.feed(rss(
            item("Kim Jong Un &file; &web;", guid="x1", description="read &file; &web;",
                 raw=True),
            declarations=external))
        config = config_for(tmp_path, {"Laughs": server.url("/laughs.xml"),
                                       "XXE": server.url("/xxe.xml")})
        _, messages = await run_digest(config, isolated_env)
        asked = [seen.path for seen in server.requests]
    assert not any(path.startswith("/xxe-probe") for path in asked), asked
    [message] = messages
    assert_safe(message)
    text, html = parts(message)
    assert "TOPSECRET" not in text + html
    assert "Kim Jong Un plain news" in text
    assert "lollollol" not in text + html  # never expanded
    assert len(message.as_bytes()) < 200_000


async def test_feed_of_a_million_items_is_stopped_by_the_size_cap(
        tmp_path: Path, isolated_env: Path) -> None:
    one = item("Kim Jong Un flood", guid="{n}", description="x").replace("{n}", "g")
    huge = rss(*[one.replace("<guid>g<", f"<guid>{n}<") for n in range(1_000_000)])
    assert len(huge) > 10_000_000
    async with FeedServer() as server:
        server.routes["/huge.xml"] = Route.feed(gzip.compress(huge, 1), gzip=True,
                                                precompressed=True)
        server.routes["/fine.xml"] = Route.feed(rss(item("Kim Jong Un visits Moscow",
                                                         guid="f1")))
        config = config_for(tmp_path, {"Huge": server.url("/huge.xml"),
                                       "Fine": server.url("/fine.xml")})
        report, messages = await run_digest(config, isolated_env)
    [failed] = report.poll.failed
    assert failed.name == "Huge" and failed.error is not None
    assert "body too large" in failed.error
    [message] = messages
    text, _ = parts(message)
    assert "Kim Jong Un visits Moscow" in text and "flood" not in text
    assert "Huge" in text  # the "sources with problems" footer names it


async def test_hostile_items_reach_the_email_only_as_safe_text(
        tmp_path: Path, isolated_env: Path) -> None:
    nested = "<div>" * 20_000 + "Kim Jong Un deep inside" + "</div>" * 20_000
    active = ('<p>Kim Jong Un<script>alert(1)</script><img src="x" onerror="alert(2)">'
              '<form action="https://evil.example/"><input name="pw">Log in</form>'
              '<a href="javascript:alert(3)">click</a> <a href="data:text/html,hi">data</a>'
              '<iframe src="https://evil.example/"></iframe> onload=alert(4) said.</p>')
    feed = rss(
        item("Kim Jong Un " + "long " * 200_000 + "end", guid="h1"),
        item("Kim Jong Un nested", guid="h2", description=nested),
        item("Kim Jong Un \u202egnp.exe\u202c rtl", guid="h3"),
        item("Kim Jong Un active content", guid="h4", description=active),
        item("Kim Jong Un js link", guid="h5", link="javascript:alert(5)"),
        item("Kim Jong Un data link", guid="h6", link="data:text/html;base64,PHNjcmlwdD4="),
        item("Kim Jong Un&#13;&#10;Bcc: evil@example.net", guid="h7", raw=True),
        item("=?UTF-8?Q?Kim_Jong_Un=0D=0ABcc:_evil@example.net?=", guid="h8"),
        item("Kim Jong Un\r\nX-Injected: yes", guid="h9"),
    )
    assert len(feed) > 1_000_000
    bad_utf8 = rss(item("Kim Jong Un bad bytes", guid="u1")).replace(
        b"bad bytes", b"bad \xff\xfe\xc3 bytes")
    nul = rss(item("Kim Jong Un nul byte", guid="n1")).replace(b"nul byte", b"nul\x00byte")
    async with FeedServer() as server:
        server.routes["/hostile.xml"] = Route.feed(feed)
        server.routes["/utf8.xml"] = Route.feed(bad_utf8)
        server.routes["/nul.xml"] = Route.feed(nul)
        config = config_for(tmp_path, {"Hostile": server.url("/hostile.xml"),
                                       "UTF8": server.url("/utf8.xml"),
                                       "NUL": server.url("/nul.xml")})
        report, messages = await run_digest(config, isolated_env)
    [message] = messages
    assert_safe(message)
    text, html = parts(message)
    assert len(html) < 500_000  # a 1 MB headline is cut, not mailed
    assert "deep inside" in text  # the text under 20,000 nested elements is read
    assert not BIDI.search(text) and not BIDI.search(html)
    assert "gnp.exe" in text  # the characters stay, in logical order, without the override
    assert "evil@example.net" not in str(message["Subject"])
    assert message["Bcc"] is None and message["X-Injected"] is None
    for gone in ("Log in", "alert(1)", "alert(2)", "alert(3)"):
        assert gone not in html, (gone, html[max(0, html.find(gone) - 300):html.find(gone) + 50])
    assert "click" in text  # link text survives as plain text
    assert "bad" in text  # invalid UTF-8 is decoded as well as it can be, not dropped
    assert report.poll.failed == () or all(s.name == "NUL" for s in report.poll.failed)


# --- property tests ---------------------------------------------------------------------------

_TEXT = st.text(st.characters(codec="utf-8"), max_size=300)
_MARKUP = st.lists(st.sampled_from([
    "<", ">", "&", "&amp;", "&#0;", "&#x110000;", "<script>", "</script>", "<div>", "</p>",
    "<a href='javascript:x'>", "<!--", "-->", "<![CDATA[", "]]>", "<!DOCTYPE x>", "\x00",
    "\u202e", "\r\n", "<style>", "<img onerror=x>", "&lt;script&gt;", "<br/>", "<form>",
]) | _TEXT, max_size=30).map("".join)


@settings(max_examples=300, deadline=None)
@given(_MARKUP)
def test_html_to_text_never_raises_and_returns_no_markup_controls(html: str) -> None:
    text = html_to_text(html)
    assert isinstance(text, str)
    assert "\x00" not in text and "\r" not in text


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=2000) | _MARKUP.map(lambda s: s.encode("utf-8", "surrogatepass")))
def test_folder_reader_never_raises_anything_but_source_error(tmp_path: Path,
                                                               data: bytes) -> None:
    path = tmp_path / "article.txt"
    path.write_bytes(data)
    try:
        article = read_article_file(path)
    except SourceError:
        return
    assert article.title.strip() and "\n" not in article.title
    assert "\x00" not in article.title + article.body


def _story(title: str, body: str, url: str | None) -> Story:
    article = Article(source="src <b>", id="a1", title=title, body=body, url=url,
                      published=datetime(2024, 3, 1, 6, tzinfo=timezone.utc))
    match = Match(article=article, watchlist="Korea", score=1.0,
                  hits=(Hit(term="<i>term</i>", field="title", start=0, end=0, text=""),))
    return Story(lead=match, title=(Segment(title),), snippet=(Segment(body, marked=True),),
                 summary=(body,))


_RENDERER = Renderer(templates_dir=None, timezone=ZoneInfo("UTC"))
_HOSTILE = st.text(st.sampled_from(string.printable + "<>&\"'\u202e\u2028\x00é“”"), min_size=1,
                   max_size=80)


@settings(max_examples=150, deadline=None)
@given(title=_HOSTILE, body=_HOSTILE, url=st.one_of(st.none(), _HOSTILE, st.sampled_from([
    "javascript:alert(1)", "data:text/html,x", "https://ok.example/a?b=<c>", " JavaScript:x",
    "http://x/\"onmouseover=\"alert(1)"])))
def test_renderer_escapes_whatever_the_article_says(title: str, body: str,
                                                    url: str | None) -> None:
    digest = Digest(name="Morning", period_start=datetime(2024, 3, 1, tzinfo=timezone.utc),
                    period_end=datetime(2024, 3, 1, 7, tzinfo=timezone.utc),
                    recipients=("you@example.com",),
                    sections=(Section(watchlist="Korea", stories=(_story(title, body, url),)),))
    rendered = _RENDERER.render_digest(digest)
    assert "\n" not in rendered.subject and "\r" not in rendered.subject
    html = rendered.html
    for tag in re.findall(r"<\s*([a-zA-Z][a-zA-Z0-9]*)", html):
        assert tag.lower() not in {"script", "form", "iframe", "object", "embed", "input"}
    assert not re.search(r"\son[a-z]+\s*=", html, re.IGNORECASE)
    for href in re.findall(r'href="([^"]*)"', html):
        assert href.startswith(("http://", "https://", "#")), href
    assert "<b>" not in html and "<i>term</i>" not in html  # source names and terms escaped

