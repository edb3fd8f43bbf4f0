"""Polling feeds end to end: a real aiohttp server on 127.0.0.1, the real store, the corpus."""

from __future__ import annotations

import csv
import gzip
import re
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from digest.config import FeedSource
from digest.sources.feeds import FeedPoller, FeedResult, backoff
from digest.store import Store
from tests.conftest import CORPUS
from tests.feed_server import FeedServer, Route

REAL = CORPUS / "feeds" / "real"
ROBUSTNESS = CORPUS / "feeds" / "robustness"
NOW = datetime(2026, 1, 5, 8, 0, tzinfo=timezone.utc)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "s.sqlite") as opened:
        yield opened


def rss(*items: tuple[str, str], title: str = "Test feed") -> bytes:
    """A small RSS 2.0 document; items are (guid, title)."""
    entries = "".join(
        f"<item><guid>{guid}</guid><title>{text}</title>"
        f"<link>https://example.org/{guid}</link><description>About {text}.</description>"
        f"<pubDate>Mon, 05 Jan 2026 07:00:00 GMT</pubDate></item>"
        for guid, text in items
    )
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>{title}</title><link>https://example.org/</link>{entries}"
            f"</channel></rss>").encode()


def manifest() -> dict[str, dict[str, str]]:
    with (CORPUS / "meta" / "feeds-real-manifest.tsv").open(encoding="utf-8") as handle:
        return {row["file"]: row for row in csv.DictReader(handle, delimiter="\t")}


async def test_every_corpus_file_polls_without_crash_or_hang(store: Store) -> None:
    files = sorted(REAL.glob("*.xml")) + sorted(p for p in ROBUSTNESS.rglob("*") if p.is_file())
    routes = {f"/{index}": Route.feed(path.read_bytes()) for index, path in enumerate(files)}
    async with FeedServer(routes) as server, FeedPoller(timeout=20) as poller:
        feeds = [FeedSource(str(path.relative_to(CORPUS)), server.url(f"/{index}"))
                 for index, path in enumerate(files)]
        results = await poller.poll(feeds, store, NOW)
        assert [result.feed for result in results] == feeds
        by_name = {result.feed.name: result for result in results}
        items = manifest()
        for name, row in items.items():
            result = by_name[f"feeds/real/{name}"]
            if int(row["items"]) > 0:
                assert result.status == "new", (name, result.error)
                assert result.articles, name
        # the truncated Reuters capture is reported, not raised
        assert by_name["feeds/real/reuters-2.xml"].status == "error"
        new = store.add_articles([a for r in results for a in r.articles], NOW)
        assert len(new) > 3000
        for article in new:
            assert article.url is None or article.url.startswith(("http://", "https://"))
            assert "\0" not in article.title and "<script" not in article.body
        again = await poller.poll(feeds, store, NOW + timedelta(minutes=15))
        assert {r.status for r in again} <= {"not-modified", "error"}


SAMPLES = {
    # file: (title of one item, its link, its published time in UTC)
    "bbc-2.xml": ("Firm in data scandal 'made election boasts'",
                  "https://www.bbc.co.uk/news/uk-politics-43532916?at_medium=RSS&at_campaign=KARANGA",
                  datetime(2018, 3, 25, 11, 52, 46, tzinfo=timezone.utc)),
    "guardian-2.xml": ("French police officer and partner murdered in 'odious terrorist attack'",
                       "https://www.theguardian.com/world/2016/jun/14/"
                       "french-police-officer-wife-murdered-larossi-abballa-isis",
                       datetime(2016, 6, 14, 11, 45, 52, tzinfo=timezone.utc)),
    "npr-1.xml": ("Oscar Pistorius, Paralympian convicted of murder, to be released on parole",
                  "https://www.npr.org/2023/11/24/1215084865/oscar-pistorius-parole",
                  datetime(2023, 11, 24, 15, 14, 50, tzinfo=timezone.utc)),
    "japantimes-2.xml": ("Syphilis cases hit record high for third straight year in Japan",
                         "https://www.japantimes.co.jp/news/2023/11/24/japan/"
                         "syphilis-cases-record-high/",
                         datetime(2023, 11, 24, 12, 37, tzinfo=timezone.utc)),
    "aljazeera-1.xml": ("Search efforts in Colombia enter ‘final phase’ as quake toll reaches 265",
                        "https://www.aljazeera.com/news/2026/8/13/search-efforts-in-colombia-"
                        "enter-final-phase-as-quake-toll-reaches-265?traffic_source=rss",
                        datetime(2026, 8, 13, 4, 26, 46, tzinfo=timezone.utc)),
}


async def test_named_real_feeds_give_their_items_titles_links_and_dates(store: Store) -> None:
    routes = {f"/{name}": Route.feed((REAL / name).read_bytes()) for name in SAMPLES}
    async with FeedServer(routes) as server, FeedPoller() as poller:
        feeds = [FeedSource(name, server.url(f"/{name}")) for name in SAMPLES]
        results = await poller.poll(feeds, store, NOW)
    items = manifest()
    for result in results:
        title, link, published = SAMPLES[result.feed.name]
        assert result.status == "new"
        assert len(result.articles) == int(items[result.feed.name]["items"])
        article = next(a for a in result.articles if a.title == title)
        assert article.url == link
        assert article.published == published
        assert article.source == result.feed.name
        assert article.body  # description or content, as text
        assert "<" not in article.body or "<p>" not in article.body
        assert not re.search(r"</?[A-Za-z][^>]*>", article.body)  # no tag of any kind


async def test_conditional_get_parses_nothing_on_304_and_new_items_are_new_once(
        store: Store) -> None:
    first = rss(("a1", "Alpha"), ("a2", "Beta"))
    async with FeedServer({"/f": Route.feed(first)}) as server, FeedPoller() as poller:
        feed = FeedSource("F", server.url("/f"))
        one = (await poller.poll([feed], store, NOW))[0]
        assert one.status == "new" and len(store.add_articles(one.articles, NOW)) == 2

        two = (await poller.poll([feed], store, NOW + timedelta(minutes=15)))[0]
        assert two.status == "not-modified" and two.articles == ()
        assert server.requests[-1].headers["If-None-Match"] == Route.feed(first).etag

        server.routes["/f"] = Route.feed(rss(("a1", "Alpha"), ("a2", "Beta"), ("a3", "Gamma")))
        three = (await poller.poll([feed], store, NOW + timedelta(minutes=30)))[0]
        assert three.status == "new" and len(three.articles) == 3
        fresh = store.add_articles(three.articles, NOW + timedelta(minutes=30))
        assert [a.title for a in fresh] == ["Gamma"]

        four = (await poller.poll([feed], store, NOW + timedelta(minutes=45), force=True))[0]
        assert four.status == "not-modified"
        state = store.feed_state("F", feed.url)
        assert state.failures == 0 and state.items_seen == 3
        assert state.last_success == NOW + timedelta(minutes=45)


async def test_last_modified_is_sent_back_and_identical_body_without_validators_is_not_parsed(
        store: Store) -> None:
    stamp = "Mon, 05 Jan 2026 07:00:00 GMT"
    routes = {"/lm": Route(rss(("x", "X")), last_modified=stamp), "/plain": Route(rss(("y", "Y")))}
    async with FeedServer(routes) as server, FeedPoller() as poller:
        feeds = [FeedSource("LM", server.url("/lm")), FeedSource("Plain", server.url("/plain"))]
        await poller.poll(feeds, store, NOW)
        again = await poller.poll(feeds, store, NOW + timedelta(hours=1))
        assert [r.status for r in again] == ["not-modified", "unchanged"]
        assert server.hits("/lm")[-1].headers["If-Modified-Since"] == stamp


async def test_each_fault_is_that_feeds_error_and_the_good_feed_still_arrives(
        store: Store) -> None:
    bomb = gzip.compress(b"\0" * 30_000_000)
    html = b"<!DOCTYPE html><html><head><title>Home</title></head><body><p>Hi</p></body></html>"
    routes = {
        "/good": Route.feed(rss(("g1", "Sanctions on North Korea"))),
        "/404": Route(b"nope", status=404),
        "/500": Route(b"oops", status=500),
        "/429": Route(b"slow down", status=429, headers={"Retry-After": "120"}),
        "/410": Route(b"gone", status=410),
        "/loop": Route(status=302, redirect="/loop"),
        "/hang": Route(hang=True),
        "/trickle": Route(rss(("t", "T")), trickle=0.2),
        "/big": Route(b"<rss>" + b" " * 2_000_000 + b"</rss>"),
        "/bomb": Route(bomb, gzip=True, precompressed=True),
        "/html": Route(html, content_type="text/html; charset=utf-8"),
        "/broken": Route(b"<?xml version='1.0'?><rss><channel><title>x</tit"),
    }
    async with FeedServer(routes) as server, FeedPoller(timeout=1.5, max_bytes=1_000_000) as poller:
        feeds = [FeedSource(path.strip("/"), server.url(path)) for path in routes]
        results = {r.feed.name: r for r in await poller.poll(feeds, store, NOW)}

    assert results["good"].status == "new"
    assert results["good"].articles[0].title == "Sanctions on North Korea"
    errors = {name: r.error for name, r in results.items() if name != "good"}
    assert all(r.status == "error" for name, r in results.items() if name != "good")
    assert errors["404"] == "HTTP 404 Not Found"
    assert errors["500"] == "HTTP 500 Internal Server Error"
    assert "410" in (errors["410"] or "") and "remove it from the config" in (errors["410"] or "")
    assert "too many redirects" in (errors["loop"] or "")
    assert "timed out" in (errors["hang"] or "")
    assert "timed out" in (errors["trickle"] or "")
    assert "too large" in (errors["big"] or "")
    assert "too large" in (errors["bomb"] or "")
    assert "HTML page" in (errors["html"] or "")
    assert "SAXParseException" in (errors["broken"] or "")

    state = store.feed_state("500", "")
    assert state.failures == 1 and state.next_try == NOW + timedelta(minutes=5)
    assert state.last_error == "HTTP 500 Internal Server Error" and state.last_error_at == NOW
    limited = store.feed_state("429", "")
    assert limited.next_try == NOW + timedelta(seconds=120)
    gone = store.feed_state("410", "")
    assert gone.disabled and gone.last_error == "feed is gone (410); remove it from the config"


async def test_force_polls_backing_off_feeds_but_not_retry_after_or_gone(store: Store) -> None:
    routes = {"/500": Route(status=500), "/429": Route(status=429, headers={"Retry-After": "600"}),
              "/410": Route(status=410)}
    async with FeedServer(routes) as server, FeedPoller() as poller:
        feeds = [FeedSource(path.strip("/"), server.url(path)) for path in routes]
        await poller.poll(feeds, store, NOW)
        later = NOW + timedelta(minutes=1)
        scheduled = await poller.poll(feeds, store, later)
        assert [r.status for r in scheduled] == ["skipped"] * 3
        forced = await poller.poll(feeds, store, later, force=True)
        assert [r.status for r in forced] == ["error", "skipped", "skipped"]
        assert "asked" in (forced[1].error or "")
        assert "remove it from the config" in (forced[2].error or "")
        assert len(server.hits("/500")) == 2 and len(server.hits("/429")) == 1
        assert len(server.hits("/410")) == 1
        assert store.feed_state("500", "").failures == 2
        assert store.feed_state("500", "").next_try == later + backoff(2)
        after = await poller.poll(feeds, store, NOW + timedelta(minutes=11))
        assert after[1].status == "error"  # the wait is over: asked again


def test_backoff_doubles_from_five_minutes_up_to_six_hours() -> None:
    assert [backoff(n) for n in (1, 2, 3)] == [timedelta(minutes=m) for m in (5, 10, 20)]
    assert backoff(8) == timedelta(hours=6) and backoff(500) == timedelta(hours=6)


async def test_permanent_redirect_updates_the_stored_url_temporary_does_not(store: Store) -> None:
    body = rss(("m", "Moved"))
    routes = {"/old": Route(status=301, redirect="/new"), "/new": Route.feed(body),
              "/tmp": Route(status=302, redirect="/new")}
    async with FeedServer(routes) as server, FeedPoller() as poller:
        moved, temporary = FeedSource("M", server.url("/old")), FeedSource("T", server.url("/tmp"))
        results = await poller.poll([moved, temporary], store, NOW)
        assert [r.status for r in results] == ["new", "new"]
        assert store.feed_state("M", moved.url).url == server.url("/new")
        assert store.feed_state("T", temporary.url).url == server.url("/tmp")
        await poller.poll([moved], store, NOW + timedelta(hours=1))
        assert len(server.hits("/old")) == 1


async def test_file_urls_are_refused_and_user_agent_is_clear(store: Store) -> None:
    async with FeedServer({"/f": Route.feed(rss(("a", "A")))}) as server, FeedPoller() as poller:
        feeds = [FeedSource("local", "file:///etc/passwd"), FeedSource("web", server.url("/f"))]
        results = await poller.poll(feeds, store, NOW)
    assert results[0].status == "error" and "only http and https" in (results[0].error or "")
    assert results[1].status == "new"
    assert server.requests[0].headers["User-Agent"].startswith("digest/")
    assert "news digest daemon" in server.requests[0].headers["User-Agent"]


async def test_progress_reports_each_feed_and_per_host_limit_holds(store: Store) -> None:
    routes = {f"/{n}": Route.feed(rss((str(n), f"Item {n}")), delay=0.05) for n in range(12)}
    seen: list[FeedResult] = []
    async with FeedServer(routes) as server, FeedPoller(per_host=3) as poller:
        feeds = [FeedSource(f"feed {n}", server.url(f"/{n}")) for n in range(12)]
        results = await poller.poll(feeds, store, NOW, progress=seen.append)
    assert sorted(r.feed.name for r in seen) == sorted(f.name for f in feeds)
    assert all(r.status == "new" for r in results)
    assert server.max_active == 3


async def test_gzip_encoded_feed_is_decoded(store: Store) -> None:
    async with FeedServer({"/z": Route.feed(rss(("z", "Zipped")), gzip=True)}) as server, \
            FeedPoller() as poller:
        result = (await poller.poll([FeedSource("Z", server.url("/z"))], store, NOW))[0]
    assert result.status == "new" and result.articles[0].title == "Zipped"


async def test_parsing_in_worker_processes_gives_the_same_articles(store: Store) -> None:
    body = (REAL / "npr-1.xml").read_bytes()
    async with FeedServer({"/npr": Route.feed(body)}) as server, \
            FeedPoller(parse_workers=1) as pooled, FeedPoller(parse_workers=0) as threaded:
        feed = FeedSource("NPR", server.url("/npr"))
        in_process = (await pooled.poll([feed], store, NOW))[0]
        in_thread = (await threaded.poll([FeedSource("NPR2", feed.url)], store, NOW))[0]
        assert isinstance(pooled._pool, ProcessPoolExecutor) and threaded._pool is None
    assert in_process.status == "new" and len(in_process.articles) == 15
    assert [a.title for a in in_process.articles] == [a.title for a in in_thread.articles]
