"""Exchanges run inline in their handler's task, registered for drain()."""

from __future__ import annotations

import asyncio

import pytest

from signproxy.errors import UpstreamCutOff
from signproxy.proxy.record import Exchange
from signproxy.upstream.client import Upstream
from signproxy.upstream.inflight import InFlight
from tests.support.logs import log_lines
from tests.support.slowupstream import start_slow_upstream

ORDER = b'{"instId":"BTC-USDT","tdMode":"cash","side":"buy","ordType":"market","sz":"1"}'


async def started_upstream(url: str) -> Upstream:
    upstream = Upstream(url, connect_timeout=5, request_timeout=10, max_response_bytes=1 << 20)
    await upstream.start()
    return upstream


async def test_inline_exchange_answers_and_is_forgotten(aiohttp_server, emulator_url: str) -> None:
    """An inline exchange returns OKX's answer and is no longer counted once it has one."""
    slow_url, slow = await start_slow_upstream(emulator_url, 0.05, aiohttp_server)
    upstream = await started_upstream(slow_url)
    inflight = InFlight()
    record = Exchange("inline-1", "GET", "/api/v5/public/time")
    try:
        exchange = asyncio.create_task(
            inflight.send(upstream.send("GET", "/api/v5/public/time", {}, b""), record)
        )
        await slow.wait_arrived(1)
        assert len(inflight) == 1
        answer = await exchange
    finally:
        await upstream.close()
    assert answer.status == 200
    assert len(inflight) == 0


async def test_drain_cuts_off_an_inline_exchange_with_spx310(
    aiohttp_server, emulator_url: str, log_output
) -> None:
    """Past the grace period the handler's own task gets UpstreamCutOff, and the cut is logged."""
    slow_url, slow = await start_slow_upstream(emulator_url, 5, aiohttp_server)
    upstream = await started_upstream(slow_url)
    inflight = InFlight()
    record = Exchange("inline-cut", "POST", "/api/v5/trade/order")
    try:
        exchange = asyncio.create_task(
            inflight.send(upstream.send("POST", "/api/v5/trade/order", {}, ORDER), record)
        )
        await slow.wait_arrived(1)
        assert await inflight.drain(0.05) == 1
        with pytest.raises(UpstreamCutOff) as raised:
            await exchange
    finally:
        await upstream.close()
    assert raised.value.outcome_unknown is True
    assert exchange.cancelling() == 0  # the cut was taken back: the handler goes on to answer
    [line] = log_lines(log_output, "signproxy.cut_off")
    assert (line["request_id"], line["outcome_unknown"]) == ("inline-cut", True)


async def test_other_cancellation_of_an_inline_exchange_is_logged(
    aiohttp_server, emulator_url: str, log_output
) -> None:
    """A cancel that drain() did not make (the server's final stop) propagates and is logged."""
    slow_url, slow = await start_slow_upstream(emulator_url, 5, aiohttp_server)
    upstream = await started_upstream(slow_url)
    inflight = InFlight()
    record = Exchange("inline-stop", "GET", "/api/v5/public/time")
    try:
        exchange = asyncio.create_task(
            inflight.send(upstream.send("GET", "/api/v5/public/time", {}, b""), record)
        )
        await slow.wait_arrived(1)
        exchange.cancel()
        with pytest.raises(asyncio.CancelledError):
            await exchange
    finally:
        await upstream.close()
    assert len(inflight) == 0
    [line] = log_lines(log_output, "signproxy.cut_off")
    assert (line["request_id"], line["outcome_unknown"]) == ("inline-stop", False)
