"""TLS is verified: a feed server whose certificate nobody vouches for is an error."""

from __future__ import annotations

import ssl

import pytest
import trustme
from aiohttp import web

from digest.errors import FetchError
from digest.sources.fetch import Fetcher


async def test_an_untrusted_certificate_is_refused() -> None:
    ca = trustme.CA()  # a CA this machine does not trust
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)

    async def feed(request: web.Request) -> web.Response:
        return web.Response(body=b"<rss version='2.0'><channel><title>t</title></channel></rss>",
                            content_type="application/rss+xml")

    app = web.Application()
    app.router.add_get("/feed.xml", feed)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with Fetcher(timeout=5) as fetcher:
            with pytest.raises(FetchError, match=r"(?i)certificate"):
                await fetcher.fetch(f"https://127.0.0.1:{port}/feed.xml")
    finally:
        await runner.cleanup()
