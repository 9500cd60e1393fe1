"""Keeping time with OKX against an emulator whose clock is minutes off, and the expTime header."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiohttp import web

from signproxy.emulator import EmulatorState
from signproxy.proxy.app import OKX_CLOCK
from signproxy.upstream import okx_clock as timesync
from signproxy.upstream.okx_clock import OkxClock
from tests.conftest import Harness, MakeProxy, start_raw_server
from tests.support.faultserver import closed_port
from tests.support.logs import log_lines

ORDER = '{"instId":"BTC-USDT","tdMode":"cash","side":"buy","ordType":"market","sz":"1"}'
FIVE_MINUTES = 5 * 60 * 1000


def okx_clock(proxy: Harness) -> OkxClock:
    app = proxy.proxy.app
    assert app is not None
    return app[OKX_CLOCK]


def time_requests(emulator: EmulatorState) -> int:
    return sum(1 for r in emulator.received if r.target == "/api/v5/public/time")


@pytest.mark.parametrize("offset_ms", [FIVE_MINUTES, -FIVE_MINUTES], ids=["ahead", "behind"])
async def test_orders_accepted_when_okx_clock_is_minutes_off(
    make_proxy: MakeProxy, emulator: EmulatorState, log_output, offset_ms: int
) -> None:
    """With OKX 5 minutes ahead or behind, the measured offset makes OKX accept the request."""
    emulator.clock_offset_ms = offset_ms
    proxy = await make_proxy(SIGNPROXY_CLOCK_SYNC_INTERVAL="60")
    clock = okx_clock(proxy)
    assert clock.measured
    assert abs(clock.offset_ms - offset_ms) < 1000
    assert time_requests(emulator) == timesync.SAMPLES
    reply = await proxy.post("/api/v5/trade/order", ORDER)
    assert (reply.status, reply.json()["code"]) == (200, "0")
    assert emulator.received[-1].code == "0"
    large = log_lines(log_output, "signproxy.clock_offset_large")
    assert abs(large[0]["offset_ms"] - offset_ms) < 1000


async def test_without_sync_the_same_request_expires(
    make_proxy: MakeProxy, emulator: EmulatorState
) -> None:
    """Control: with syncing off, OKX 5 minutes ahead answers 50102 (the offset is what helps)."""
    emulator.clock_offset_ms = FIVE_MINUTES
    proxy = await make_proxy(SIGNPROXY_CLOCK_SYNC_INTERVAL="0")
    reply = await proxy.post("/api/v5/trade/order", ORDER)
    assert (reply.status, reply.json()["code"]) == (401, "50102")
    assert time_requests(emulator) == 0
    assert okx_clock(proxy).measured is False


async def test_50102_triggers_a_remeasure(
    make_proxy: MakeProxy, emulator: EmulatorState, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When OKX's clock jumps, the 50102 it answers makes the proxy measure again, then succeed."""
    # Shorter debounce so the test does not wait the production 5 s between measurements.
    monkeypatch.setattr(timesync, "MIN_GAP_S", 0.3)
    proxy = await make_proxy(SIGNPROXY_CLOCK_SYNC_INTERVAL="3600")
    clock = okx_clock(proxy)
    assert abs(clock.offset_ms) < 1000
    emulator.clock_offset_ms = -FIVE_MINUTES
    expired = await proxy.post("/api/v5/trade/order", ORDER)
    assert expired.json()["code"] == "50102"  # relayed as OKX said it, not retried
    deadline = time.monotonic() + 5
    while abs(clock.offset_ms + FIVE_MINUTES) > 1000 and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.02)
    assert time_requests(emulator) == 2 * timesync.SAMPLES
    reply = await proxy.post("/api/v5/trade/order", ORDER)
    assert reply.json()["code"] == "0"


async def test_a_burst_of_50102_measures_once_within_the_rate_limit(
    make_proxy: MakeProxy, emulator: EmulatorState, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Forty 50102 answers at once cause one re-measure: never near 10 requests per 2 s."""
    monkeypatch.setattr(timesync, "MIN_GAP_S", 1.0)
    proxy = await make_proxy(SIGNPROXY_CLOCK_SYNC_INTERVAL="3600")
    emulator.clock_offset_ms = FIVE_MINUTES
    replies = await asyncio.gather(*(proxy.get("/api/v5/account/balance") for _ in range(40)))
    assert {r.json()["code"] for r in replies} == {"50102"}
    async with asyncio.timeout(5):
        while time_requests(emulator) < 2 * timesync.SAMPLES:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    await asyncio.sleep(1.5)  # longer than the debounce: no second re-measure follows
    assert time_requests(emulator) == 2 * timesync.SAMPLES
    assert 2 * timesync.SAMPLES < 10  # the endpoint's limit per 2 s, with the startup burst


async def test_unmeasurable_upstream_falls_back_to_the_local_clock_with_a_warning(
    make_proxy: MakeProxy, log_output
) -> None:
    """If OKX cannot be reached at startup, the proxy still starts, signs with local time, warns."""
    before = time.time() * 1000
    proxy = await make_proxy(
        upstream=f"http://127.0.0.1:{closed_port()}", SIGNPROXY_CLOCK_SYNC_INTERVAL="60"
    )
    clock = okx_clock(proxy)
    assert clock.measured is False
    assert clock.offset_ms == 0
    assert before <= clock.now_ms() <= time.time() * 1000 + 1
    warning = log_lines(log_output, "signproxy.clock_unmeasured")[0]
    assert (warning["level"], warning["using"], warning["reason"]) == (
        "warning",
        "local clock",
        "SPX300",
    )
    reply = await proxy.get("/api/v5/account/balance")
    assert reply.headers["X-Signproxy-Error"] == "SPX300"  # and it keeps serving


@pytest.mark.parametrize(
    ("status", "payload", "reason"),
    [
        (429, {"code": "50011", "msg": "Too Many Requests"}, "ValueError"),
        (200, {"code": "50011", "msg": "Too Many Requests"}, "KeyError"),
        (200, {"code": "0", "data": []}, "IndexError"),
    ],
    ids=["429", "no-data", "empty-data"],
)
async def test_answer_without_a_time_is_no_measurement(
    make_proxy: MakeProxy, aiohttp_server, log_output, status: int, payload: dict, reason: str
) -> None:
    """A time answer that is not OKX's {"data":[{"ts":...}]} leaves the clock unmeasured."""
    calls = []

    async def answer(request: web.Request) -> web.Response:
        calls.append(request.path)
        return web.json_response(payload, status=status)

    url = await start_raw_server(answer, aiohttp_server)
    proxy = await make_proxy(upstream=url, SIGNPROXY_CLOCK_SYNC_INTERVAL="60")
    assert okx_clock(proxy).measured is False
    assert calls == ["/api/v5/public/time"] * timesync.SAMPLES
    assert log_lines(log_output, "signproxy.clock_unmeasured")[0]["reason"] == reason


# --- expTime ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v5/trade/order",
        "/api/v5/trade/batch-orders",
        "/api/v5/trade/amend-order",
        "/api/v5/trade/amend-batch-orders",
    ],
)
async def test_exptime_added_on_order_endpoints_in_okx_time(
    make_proxy: MakeProxy, emulator: EmulatorState, path: str
) -> None:
    """SIGNPROXY_EXPTIME_MS adds expTime = OKX's time + that many ms on place/amend endpoints."""
    emulator.clock_offset_ms = FIVE_MINUTES
    proxy = await make_proxy(SIGNPROXY_CLOCK_SYNC_INTERVAL="60", SIGNPROXY_EXPTIME_MS="3000")
    body = ORDER if "batch" not in path else f"[{ORDER}]"
    before = emulator.now_ms()
    await proxy.post(path, body)
    after = emulator.now_ms()
    seen = emulator.received[-1]
    assert seen.target == path
    assert seen.code == "0"
    exptime = int(seen.headers["expTime"])
    assert before + 3000 - 1000 <= exptime <= after + 3000 + 1000


async def test_client_exptime_passes_untouched(
    make_proxy: MakeProxy, emulator: EmulatorState
) -> None:
    """A client's own expTime is forwarded as sent, never replaced by the default."""
    proxy = await make_proxy(SIGNPROXY_EXPTIME_MS="3000")
    await proxy.post("/api/v5/trade/order", ORDER, headers={"expTime": "1234567890123"})
    assert emulator.received[-1].headers.getall("expTime") == ["1234567890123"]


@pytest.mark.parametrize(
    ("method", "path", "env"),
    [
        ("POST", "/api/v5/trade/cancel-order", {"SIGNPROXY_EXPTIME_MS": "3000"}),
        ("GET", "/api/v5/trade/order?instId=BTC-USDT&ordId=1", {"SIGNPROXY_EXPTIME_MS": "3000"}),
        ("POST", "/api/v5/trade/order", {"SIGNPROXY_EXPTIME_MS": "off"}),
    ],
    ids=["cancel-order", "GET", "off"],
)
async def test_no_exptime_elsewhere_or_when_unset(
    make_proxy: MakeProxy, emulator: EmulatorState, method: str, path: str, env: dict
) -> None:
    """The default expTime goes only on place/amend POSTs, and only when configured."""
    proxy = await make_proxy(**env)
    await proxy.request(method, path, body=ORDER if method == "POST" else None)
    assert "expTime" not in emulator.received[-1].headers
