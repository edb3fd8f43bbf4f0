"""A real HTTP server on 127.0.0.1 for feed tests: serve given bytes, or misbehave on purpose.

    async with FeedServer({"/a.xml": Route(body, etag='"v1"')}) as server:
        url = server.url("/a.xml")
        ...
        server.routes["/a.xml"] = Route(new_body, etag='"v2"')   # change it between polls
        server.requests                                           # what clients sent

A route answers conditional requests itself: with ``etag``/``last_modified`` set, a matching
``If-None-Match``/``If-Modified-Since`` gets 304. Faults: ``status``, ``headers``,
``delay`` (seconds before answering), ``hang`` (never answer), ``trickle`` (seconds between
single bytes), ``gzip`` (send the body gzip-compressed as it is; pass already-compressed
bytes with ``precompressed=True`` for a bomb), ``redirect`` (a Location, with ``status``
301/302/307/308). Unknown paths are 404.
"""

from __future__ import annotations

import asyncio
import gzip as gzip_module
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType

from aiohttp import web


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str | None = "application/xml"
    etag: str | None = None
    last_modified: str | None = None
    delay: float = 0.0
    hang: bool = False
    trickle: float | None = None
    gzip: bool = False
    precompressed: bool = False
    redirect: str | None = None

    @classmethod
    def feed(cls, body: bytes, **kwargs: object) -> Route:
        """A well-behaved feed with an ETag derived from its bytes."""
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        return cls(body=body, etag=etag, **kwargs)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Seen:
    """One request the server received."""

    path: str
    headers: Mapping[str, str]


class FeedServer:
    """Serves ``routes`` (path → Route) on a free port of 127.0.0.1 while in ``async with``."""

    def __init__(self, routes: Mapping[str, Route] | None = None) -> None:
        self.routes: dict[str, Route] = dict(routes or {})
        self.requests: list[Seen] = []
        self.port = 0
        self.active = 0  # requests being answered right now
        self.max_active = 0  # the most at once
        self._runner: web.AppRunner | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def hits(self, path: str) -> list[Seen]:
        return [seen for seen in self.requests if seen.path == path]

    async def __aenter__(self) -> FeedServer:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(Seen(request.path_qs, dict(request.headers)))
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            return await self._answer(request)
        finally:
            self.active -= 1

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        route = self.routes.get(request.path_qs) or self.routes.get(request.path)
        if route is None:
            return web.Response(status=404, text="not found")
        if route.hang:
            await asyncio.sleep(3600)
        if route.delay:
            await asyncio.sleep(route.delay)
        headers = dict(route.headers)
        if route.etag:
            headers["ETag"] = route.etag
        if route.last_modified:
            headers["Last-Modified"] = route.last_modified
        if route.redirect is not None:
            headers["Location"] = route.redirect
            return web.Response(status=route.status, headers=headers)
        if route.status == 200 and _not_modified(request, route):
            return web.Response(status=304, headers=headers)
        if route.content_type:
            headers["Content-Type"] = route.content_type
        body = route.body
        if route.gzip:
            headers["Content-Encoding"] = "gzip"
            if not route.precompressed:
                body = gzip_module.compress(body)
        if route.trickle is None:
            return web.Response(status=route.status, body=body, headers=headers)
        response = web.StreamResponse(status=route.status, headers=headers)
        await response.prepare(request)
        for index in range(len(body)):
            await response.write(body[index:index + 1])
            await asyncio.sleep(route.trickle)
        await response.write_eof()
        return response


def _not_modified(request: web.Request, route: Route) -> bool:
    if route.etag and request.headers.get("If-None-Match") == route.etag:
        return True
    return bool(route.last_modified
                and request.headers.get("If-Modified-Since") == route.last_modified)
