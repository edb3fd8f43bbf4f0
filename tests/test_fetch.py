"""The HTTP fetcher against a real server on 127.0.0.1."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from digest.errors import FetchError
from digest.sources.fetch import Fetcher, parse_retry_after
from tests.feed_server import FeedServer, Route


async def test_five_redirects_are_followed_six_are_not() -> None:
    routes = {f"/r{n}": Route(status=307, redirect=f"/r{n + 1}") for n in range(6)}
    routes["/r5"] = Route(b"<rss/>")
    routes["/r6"] = Route(b"<rss/>")
    async with FeedServer(routes) as server, Fetcher() as fetcher:
        response = await fetcher.fetch(server.url("/r0"))
        assert response.status == 200 and response.url == server.url("/r5")
        assert response.moved_to is None
        server.routes["/r5"] = Route(status=307, redirect="/r6")
        with pytest.raises(FetchError, match="too many redirects"):
            await fetcher.fetch(server.url("/r0"))


async def test_redirect_to_another_scheme_is_refused() -> None:
    routes = {"/f": Route(status=302, redirect="file:///etc/passwd")}
    async with FeedServer(routes) as server, Fetcher() as fetcher:
        with pytest.raises(FetchError, match="refusing redirect to 'file:///etc/passwd'"):
            await fetcher.fetch(server.url("/f"))


async def test_conditional_headers_and_304() -> None:
    async with FeedServer({"/f": Route(b"<rss/>", etag='"v1"')}) as server, \
            Fetcher() as fetcher:
        first = await fetcher.fetch(server.url("/f"))
        assert first.status == 200 and first.etag == '"v1"' and first.body == b"<rss/>"
        second = await fetcher.fetch(server.url("/f"), etag='"v1"',
                                     last_modified="Mon, 05 Jan 2026 07:00:00 GMT")
        assert second.not_modified and second.body == b""
        assert server.requests[-1].headers["If-Modified-Since"] == "Mon, 05 Jan 2026 07:00:00 GMT"


async def test_429_and_503_carry_retry_after() -> None:
    routes = {"/a": Route(status=429, headers={"Retry-After": "30"}),
              "/b": Route(status=503, headers={"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"})}
    async with FeedServer(routes) as server, Fetcher() as fetcher:
        with pytest.raises(FetchError) as limited:
            await fetcher.fetch(server.url("/a"))
        assert limited.value.status == 429 and limited.value.retry_after == 30
        with pytest.raises(FetchError) as busy:
            await fetcher.fetch(server.url("/b"))
        assert busy.value.status == 503 and busy.value.retry_after == 24 * 3600  # capped


def test_retry_after_forms() -> None:
    now = datetime(2026, 1, 5, 7, 0, tzinfo=timezone.utc)
    assert parse_retry_after("120", now) == 120
    assert parse_retry_after("Mon, 05 Jan 2026 07:02:00 GMT", now) == 120
    assert parse_retry_after("Mon, 05 Jan 2026 06:00:00 GMT", now) == 0
    assert parse_retry_after("soon", now) is None and parse_retry_after(None, now) is None


async def test_declared_oversize_body_is_refused_before_reading() -> None:
    async with FeedServer({"/big": Route(b"x" * 5000)}) as server, \
            Fetcher(max_bytes=1000) as fetcher:
        with pytest.raises(FetchError, match="body too large"):
            await fetcher.fetch(server.url("/big"))


async def test_connection_refused_is_a_fetch_error() -> None:
    async with FeedServer() as server:
        url = server.url("/gone")
    async with Fetcher(timeout=2) as fetcher:
        with pytest.raises(FetchError, match="cannot connect"):
            await fetcher.fetch(url)


async def test_stalled_body_hits_the_read_timeout() -> None:
    async with FeedServer({"/slow": Route(b"<rss>" + b" " * 10, trickle=1.0)}) as server, \
            Fetcher(timeout=10, read_timeout=0.3) as fetcher:
        with pytest.raises(FetchError, match="timed out"):
            await fetcher.fetch(server.url("/slow"))
