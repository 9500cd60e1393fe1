"""A slow OKX: an aiohttp server on 127.0.0.1 that waits, then forwards to the real emulator."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from yarl import URL

# Headers the emulator should see as the proxy sent them; the rest is per-connection.
_DROPPED = frozenset({"host", "content-length", "connection", "transfer-encoding"})


class SlowUpstream:
    """Counts requests as they arrive and as they are answered."""

    def __init__(self, emulator_url: str, delay: float) -> None:
        self.emulator_url = emulator_url
        self.delay = delay
        self.arrived = 0
        self.answered = 0
        self.session: aiohttp.ClientSession | None = None

    async def handle(self, request: web.Request) -> web.Response:
        """Wait ``delay`` seconds, then let the emulator answer."""
        self.arrived += 1
        body = await request.read()
        await asyncio.sleep(self.delay)
        assert self.session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _DROPPED}
        url = URL(self.emulator_url + request.raw_path, encoded=True)
        async with self.session.request(
            request.method, url, headers=headers, data=body or None
        ) as answer:
            payload = await answer.read()
            self.answered += 1
            return web.Response(status=answer.status, body=payload, content_type="application/json")

    async def wait_arrived(self, count: int) -> None:
        """Wait (at most 5 s) until ``count`` requests have arrived."""
        async with asyncio.timeout(5):
            while self.arrived < count:  # noqa: ASYNC110 - a counter of this local server
                await asyncio.sleep(0.005)


async def start_slow_upstream(
    emulator_url: str,
    delay: float,
    aiohttp_server: Callable[..., Awaitable[TestServer]],
) -> tuple[str, SlowUpstream]:
    """Start a slow upstream in front of the emulator; returns its URL and its counters."""
    slow = SlowUpstream(emulator_url, delay)
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", slow.handle)

    async def session_ctx(_app: web.Application):
        slow.session = aiohttp.ClientSession()
        yield
        await slow.session.close()

    app.cleanup_ctx.append(session_ctx)
    server = await aiohttp_server(app)
    return str(server.make_url("")).rstrip("/"), slow
