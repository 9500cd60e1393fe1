"""Connections kept warm: the proxy opens its upstream connection at start and re-opens it.

The upstream here is a real aiohttp server that closes connections left idle for a moment (as
OKX's edge does after its own idle timeout) and records which connection carried each request.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import pytest
from aiohttp import web

from signproxy.proxy.app import WARMER, create_app
from signproxy.settings.config import Settings
from signproxy.upstream.okx_clock import SAMPLES
from tests.support.keys import LIVE_KEY, env_for

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

ORDER = '{"instId":"BTC-USDT","tdMode":"cash","side":"buy","ordType":"limit","px":"1","sz":"1"}'
SERVER_IDLE_S = 0.3  # the upstream closes a connection idle this long


class Upstream:
    """What the upstream saw: (path, connection number) per request, connections opened."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, int]] = []
        self._numbers: dict[int, int] = {}

    def number(self, request: web.Request) -> int:
        """A small number per connection, in the order they were first seen."""
        key = id(request.transport)
        return self._numbers.setdefault(key, len(self._numbers) + 1)

    @property
    def connections(self) -> int:
        """How many connections carried a request."""
        return len(self._numbers)


@pytest.fixture
async def upstream() -> AsyncIterator[tuple[Upstream, str]]:
    """An upstream that answers the clock and order paths and closes idle connections."""
    seen = Upstream()

    async def answer(request: web.Request) -> web.Response:
        await request.read()
        seen.requests.append((request.path, seen.number(request)))
        if request.path == "/api/v5/public/time":
            return web.json_response({"code": "0", "msg": "", "data": [{"ts": "1"}]})
        return web.json_response({"code": "0", "msg": "", "data": [{"sCode": "0"}]})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    runner = web.AppRunner(app, keepalive_timeout=SERVER_IDLE_S, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield seen, f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


async def wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """Wait until ``condition()`` holds; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("the condition did not come true in time")
        await asyncio.sleep(0.05)


async def test_a_connection_opens_at_start_and_reopens_when_the_server_closes_it(
    upstream, serve_proxy, log_output
):
    """With no client at all, the proxy connects at start, and again after the server's close."""
    seen, url = upstream
    # A long idle timeout: only the server's close can make the proxy open the second one.
    env = env_for(
        LIVE_KEY, url, SIGNPROXY_UPSTREAM_KEEP_WARM="1", SIGNPROXY_UPSTREAM_IDLE_TIMEOUT="600"
    )
    server = await serve_proxy(create_app(Settings.from_env(env)))

    await wait_for(lambda: seen.connections >= 1)
    assert seen.requests[0] == ("/api/v5/public/time", 1)
    await wait_for(lambda: seen.connections >= 2)  # the server closed #1 after 0.3 s idle
    assert [path for path, _ in seen.requests] == ["/api/v5/public/time"] * len(seen.requests)
    assert "keep_warm" not in log_output.getvalue()  # nothing failed
    assert server.app[WARMER].touches >= 2


async def test_an_order_after_a_quiet_spell_uses_a_connection_already_open(upstream, make_proxy):
    """After the server closed the first connection, an order goes out on one opened before it."""
    seen, url = upstream
    harness = await make_proxy(
        upstream=url, SIGNPROXY_UPSTREAM_KEEP_WARM="1", SIGNPROXY_UPSTREAM_IDLE_TIMEOUT="600"
    )
    await wait_for(lambda: seen.connections >= 2)
    opened_before_the_order = seen.connections

    reply = await harness.post("/api/v5/trade/order", ORDER)

    assert reply.status == 200
    path, connection = seen.requests[-1]
    assert path == "/api/v5/trade/order"
    assert connection <= opened_before_the_order


async def test_the_clocks_first_measurement_counts_as_the_first_keep_alive(upstream, make_proxy):
    """With clock sync on, start-up sends the clock's time requests and none of its own."""
    seen, url = upstream
    await make_proxy(
        upstream=url,
        SIGNPROXY_UPSTREAM_KEEP_WARM="1",
        SIGNPROXY_CLOCK_SYNC_INTERVAL="60",
        SIGNPROXY_UPSTREAM_IDLE_TIMEOUT="600",
    )
    await asyncio.sleep(1.5)  # three of the warmer's rounds
    assert [path for path, _ in seen.requests] == ["/api/v5/public/time"] * SAMPLES


async def test_keep_warm_off_sends_nothing_of_its_own(upstream, make_proxy):
    """SIGNPROXY_UPSTREAM_KEEP_WARM=0: the upstream sees no request until a client sends one."""
    seen, url = upstream
    harness = await make_proxy(upstream=url, SIGNPROXY_UPSTREAM_KEEP_WARM="0")
    assert WARMER not in harness.proxy.app
    await asyncio.sleep(1.0)  # several of the warmer's rounds, were it running
    assert seen.requests == []
    await harness.post("/api/v5/trade/order", ORDER)
    assert [path for path, _ in seen.requests] == ["/api/v5/trade/order"]


def test_keep_warm_settings_and_the_rate_warning():
    """On by default; a warning when keep-alive requests would not fit the workers' time slots."""
    base = {"OKX_API_KEY": "k" * 8, "OKX_API_SECRET": "s" * 8, "OKX_API_PASSPHRASE": "p" * 8}
    assert Settings.from_env(base).upstream_keep_warm is True
    assert (
        Settings.from_env({**base, "SIGNPROXY_UPSTREAM_KEEP_WARM": "0"}).upstream_keep_warm is False
    )
    quiet = Settings.from_env({**base, "SIGNPROXY_WORKERS": "3"})
    assert not [w for w in quiet.warnings if "KEEP_WARM" in w]
    busy = Settings.from_env(
        {**base, "SIGNPROXY_WORKERS": "8", "SIGNPROXY_UPSTREAM_IDLE_TIMEOUT": "4"}
    )
    assert [w for w in busy.warnings if w.startswith("SIGNPROXY_UPSTREAM_KEEP_WARM")]
    off = Settings.from_env(
        {
            **base,
            "SIGNPROXY_WORKERS": "8",
            "SIGNPROXY_UPSTREAM_IDLE_TIMEOUT": "4",
            "SIGNPROXY_UPSTREAM_KEEP_WARM": "0",
        }
    )
    assert not [w for w in off.warnings if "KEEP_WARM" in w]
