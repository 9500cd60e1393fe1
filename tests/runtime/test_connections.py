"""Hostile connections against a real ``signproxy serve`` under a 1,024 file-descriptor limit."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest

from tests.support.serve import Serve, start_serve

FLOOD = 2000
BALANCE = "/api/v5/account/balance?ccy=BTC"


@pytest.fixture
async def serving(tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[Serve]]]:
    """Start proxies in subprocesses; every one is killed at the end, whatever happened."""
    started: list[Serve] = []

    async def start(upstream: str, **kwargs: object) -> Serve:
        serve = await start_serve(upstream, tmp_path, **kwargs)  # type: ignore[arg-type]
        started.append(serve)
        return serve

    yield start
    for serve in started:
        await serve.stop()


async def _open_hostile(port: int, count: int) -> list[socket.socket]:
    """``count`` sockets: half send nothing, half send half a request head and stop."""
    loop = asyncio.get_running_loop()
    socks: list[socket.socket] = []
    for index in range(count):
        sock = socket.socket()
        sock.setblocking(False)  # noqa: FBT003 - the socket API
        socks.append(sock)
        with contextlib.suppress(OSError):  # a full backlog or a reset: still hostile enough
            async with asyncio.timeout(2):
                await loop.sock_connect(sock, ("127.0.0.1", port))
            if index % 2:
                await loop.sock_sendall(sock, b"GET /api/v5/account/balance HTTP/1.1\r\nHost: 1")
    return socks


async def _wait_until(condition: Callable[[], bool], within: float) -> None:
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 - the state is another process's
            await asyncio.sleep(0.1)


async def test_hostile_sockets_do_not_stop_a_bots_requests(serving, emulator_url) -> None:
    """Under a 1,024-fd limit, 2,000 idle or half-open sockets leave a bot's requests answered."""
    proxy = await serving(emulator_url, nofile=(1024, 1024), SIGNPROXY_HEAD_TIMEOUT="2")
    # The bot's keep-alive connection is open before the flood (one connection, reused).
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) as bot:
        async with bot.get(proxy.url + "/-/health") as reply:
            assert reply.status == 200
        hostile = await _open_hostile(proxy.port, FLOOD)
        try:
            # The proxy has taken all it will take (its cap, or every descriptor it has).
            await _wait_until(lambda: proxy.open_fds() >= 600, 30)
            async with bot.get(proxy.url + BALANCE) as reply:
                assert reply.status == 200, await reply.text()
            # A new connection is answered too, once the head deadline has cleared the flood.
            fresh = aiohttp.TCPConnector(force_close=True)
            async with aiohttp.ClientSession(connector=fresh) as newcomer:
                async with asyncio.timeout(30):
                    while True:
                        with contextlib.suppress(aiohttp.ClientError):
                            async with newcomer.get(proxy.url + BALANCE) as reply:
                                if reply.status == 200:
                                    break
                        await asyncio.sleep(0.2)
        finally:
            for sock in hostile:
                sock.close()
    reasons = {line["reason"] for line in proxy.events("signproxy.connection_dropped")}
    assert {"max_client_connections", "head_timeout"} <= reasons
    assert proxy.events("signproxy.log_suppressed")  # 2,000 drops, a few lines


async def test_idle_keepalive_connection_is_closed(serving, emulator_url) -> None:
    """A keep-alive connection left idle is closed after SIGNPROXY_KEEPALIVE_TIMEOUT."""
    proxy = await serving(emulator_url, SIGNPROXY_KEEPALIVE_TIMEOUT="1")
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
    try:
        writer.write(b"GET /-/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200")
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        await reader.readexactly(length)
        async with asyncio.timeout(20):  # aiohttp's own default would keep it an hour
            assert await reader.read() == b""
    finally:
        writer.close()


async def test_soft_fd_limit_is_raised_to_the_hard_one(serving, emulator_url) -> None:
    """A soft RLIMIT_NOFILE below the hard limit is raised at start, and the cap fits under it."""
    proxy = await serving(emulator_url, nofile=(512, 4096))
    listening = proxy.events("signproxy.listening")[0]
    assert listening["fd_limit"] == 4096
    limits = Path(f"/proc/{proxy.process.pid}/limits").read_text()  # noqa: ASYNC240 - /proc
    assert "Max open files            4096                 4096" in limits
    assert listening["max_client_connections"] == 1000


async def test_connection_cap_follows_a_low_fd_limit(serving, emulator_url) -> None:
    """With only 1,024 descriptors the cap is lowered to leave room for OKX connections."""
    proxy = await serving(emulator_url, nofile=(1024, 1024))
    assert proxy.events("signproxy.listening")[0]["max_client_connections"] < 700
