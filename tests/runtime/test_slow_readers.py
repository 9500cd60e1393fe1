"""Clients that never read big answers: memory held by a real ``signproxy serve`` stays bounded."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from tests.support.serve import Serve, start_serve

MIB = 1024 * 1024
ANSWER_MB = 6
CLIENTS = 12


@pytest.fixture
async def big_upstream(aiohttp_server) -> str:
    """An upstream answering every request with a 6 MB OKX-shaped envelope."""
    item = b'{"instId":"BTC-USDT","instType":"SPOT","tickSz":"0.1"},'
    body = b'{"code":"0","msg":"","data":[' + item * (ANSWER_MB * MIB // len(item)) + b"{}]}"

    async def answer(_request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    server = await aiohttp_server(app)
    return str(server.make_url("")).rstrip("/")


@pytest.fixture
async def proxy(big_upstream: str, tmp_path: Path) -> AsyncIterator[Serve]:
    """The proxy in front of it, with a small held-bytes budget and a short write timeout."""
    serve = await start_serve(
        big_upstream,
        tmp_path,
        SIGNPROXY_MAX_RESPONSE_BYTES=str(8 * MIB),
        SIGNPROXY_MAX_HELD_BYTES=str(16 * MIB),
        SIGNPROXY_WRITE_TIMEOUT="2",
    )
    yield serve
    await serve.stop()


def _slow_client(port: int) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(b"GET /api/v5/public/instruments HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    return sock


async def test_slow_readers_hold_bounded_memory_and_give_it_back(proxy: Serve) -> None:
    """12 clients that never read 6 MB answers: growth stays far under 72 MB and goes away."""
    await asyncio.sleep(0.5)
    baseline = proxy.rss_kib()
    clients = [_slow_client(proxy.port) for _ in range(CLIENTS)]
    peak = baseline
    try:
        async with asyncio.timeout(30):
            while not proxy.events("signproxy.connection_dropped"):
                peak = max(peak, proxy.rss_kib())
                await asyncio.sleep(0.05)
        for _ in range(20):
            peak = max(peak, proxy.rss_kib())
            await asyncio.sleep(0.05)
    finally:
        for client in clients:
            client.close()
    # Unbounded, every client's 6 MB answer would sit in the proxy: 72 MB and more.
    assert peak - baseline < 40 * 1024, (baseline, peak)
    assert {line["reason"] for line in proxy.events("signproxy.connection_dropped")} == {
        "write_timeout"
    }
    refused = [line for line in proxy.events("signproxy.request") if line.get("error")]
    assert refused
    assert {line["error"] for line in refused} == {"SPX304"}
    async with asyncio.timeout(15):  # freed memory is given back to the system
        while proxy.rss_kib() > baseline + 15 * 1024:  # noqa: ASYNC110 - another process
            await asyncio.sleep(0.1)
