"""Metrics labels stay bounded whatever OKX codes, statuses and client paths go through the proxy."""

from __future__ import annotations

import asyncio
import random

from aiohttp import web

from tests.conftest import start_raw_server


async def test_random_codes_and_paths_make_few_series(make_proxy, aiohttp_server) -> None:
    """2,000 answers with random codes and statuses to random paths add only a few series."""
    rng = random.Random(13)  # noqa: S311 - test data, not secrets

    async def random_answer(_request: web.Request) -> web.Response:
        code = str(rng.randrange(0, 100_000_000))
        status = rng.choice((200, 200, 404, 418, 499, 503))
        return web.json_response({"code": code, "msg": "", "data": []}, status=status)

    upstream = await start_raw_server(random_answer, aiohttp_server)
    proxy = await make_proxy(upstream=upstream)

    async def one(index: int) -> None:
        reply = await proxy.get(f"/api/v5/public/made-up-{index}?instId=X{index}")
        assert reply.status in (200, 404, 418, 499, 503)

    for start in range(0, 2000, 50):
        await asyncio.gather(*(one(index) for index in range(start, start + 50)))
    text = (await proxy.get("/-/metrics")).body.decode()
    series = [line for line in text.splitlines() if line.startswith("signproxy_requests_total{")]
    # Unbounded, each random code and path is a series of its own: about 2,000.
    assert len(series) < 200, len(series)
    assert "made-up" not in text
    assert 'status="4xx"' in text
