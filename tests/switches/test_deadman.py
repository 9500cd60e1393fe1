"""The dead-man switch through real processes: a real ``signproxy serve`` in front of the emulator.

The emulator's cancel-all-after countdown runs twice as fast as the clock (``countdown_scale``),
so ``SIGNPROXY_DEADMAN_S=10`` runs out 5 s after the proxy's last refresh.
"""

from __future__ import annotations

import asyncio
import json

import aiohttp

from signproxy.emulator import EmulatorState
from signproxy.emulator.endpoints import Book
from tests.support.keys import LIVE_KEY, env_for

ORDER = {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "limit", "px": "1"}


def live(book: Book) -> int:
    return sum(1 for order in book.orders.values() if order["state"] == "live")


async def place(session: aiohttp.ClientSession, url: str, count: int) -> None:
    for index in range(count):
        body = {**ORDER, "sz": "1", "clOrdId": f"dm{index}"}
        async with session.post(url + "/api/v5/trade/order", json=body) as resp:
            assert (await resp.json())["code"] == "0"


async def wait_empty(book: Book) -> None:
    async with asyncio.timeout(40):
        while live(book):  # noqa: ASYNC110 - the emulator's countdown empties it
            await asyncio.sleep(0.1)


def timeouts(emulator: EmulatorState) -> list[int]:
    return [
        int(json.loads(r.body)["timeOut"])
        for r in emulator.received
        if r.target == "/api/v5/trade/cancel-all-after"
    ]


def deadman_env(emulator_url: str, **extra: str) -> dict[str, str]:
    ws = emulator_url.replace("http://", "ws://")
    return env_for(
        LIVE_KEY,
        emulator_url,
        **{"SIGNPROXY_DEADMAN_S": "10", "SIGNPROXY_WS_UPSTREAM": ws, **extra},
    )


async def test_a_bot_that_stops_sending_has_its_orders_cancelled(
    emulator: EmulatorState, emulator_url: str, processes
) -> None:
    """A bot places orders then goes quiet: the proxy stops refreshing and OKX empties the book."""
    emulator.countdown_scale = 2.0
    served = await processes.serve(deadman_env(emulator_url))
    book = emulator.book_for(LIVE_KEY.api_key)
    async with aiohttp.ClientSession() as session:
        await place(session, served.url, 3)
    assert live(book) == 3
    armed = await served.wait_event("signproxy.deadman_armed")
    assert armed["account"] == "default"
    assert armed["seconds"] == 10
    await wait_empty(book)
    assert book.countdown_fired == 1
    released = await served.wait_event("signproxy.deadman_released")
    assert released["account"] == "default"
    expired = await served.wait_event("signproxy.deadman_expired")
    assert expired["account"] == "default"
    assert set(timeouts(emulator)) == {10}  # N=10: never more, never under OKX's 10


async def test_a_heartbeating_bot_keeps_its_orders(
    emulator: EmulatorState, emulator_url: str, processes
) -> None:
    """GET /-/heartbeat keeps the countdown pushed back: the orders outlive several countdowns."""
    emulator.countdown_scale = 2.0
    served = await processes.serve(deadman_env(emulator_url))
    book = emulator.book_for(LIVE_KEY.api_key)
    async with aiohttp.ClientSession() as session:
        await place(session, served.url, 2)
        for _ in range(27):  # about 8 s: more than one and a half 5 s countdowns
            async with session.get(served.url + "/-/heartbeat") as resp:
                answer = await resp.json()
                assert answer["account"] == "default"
            await asyncio.sleep(0.3)
        assert answer["deadman"]["armed"] is True
    assert live(book) == 2
    assert book.countdown_fired == 0
    refreshes = [r for r in emulator.received if r.target == "/api/v5/trade/cancel-all-after"]
    assert len(refreshes) >= 3
    assert all(r.code == "0" for r in refreshes)  # never over OKX's 1 request/s (50011)


async def test_websocket_frames_keep_the_orders(
    emulator: EmulatorState, emulator_url: str, processes
) -> None:
    """A bot that only sends WebSocket keepalive pings is seen: its orders are not cancelled."""
    emulator.countdown_scale = 2.0
    served = await processes.serve(deadman_env(emulator_url))
    book = emulator.book_for(LIVE_KEY.api_key)
    async with aiohttp.ClientSession() as session:
        await place(session, served.url, 2)
        async with session.ws_connect(served.url + "/ws/v5/public") as ws:
            for _ in range(27):
                await ws.send_str("ping")
                assert (await ws.receive_str()) == "pong"
                await asyncio.sleep(0.3)
    assert live(book) == 2
    assert book.countdown_fired == 0


async def test_a_killed_proxy_leaves_okx_to_cancel(
    emulator: EmulatorState, emulator_url: str, processes
) -> None:
    """SIGKILL the proxy while a bot trades: nobody refreshes, and OKX cancels the orders."""
    emulator.countdown_scale = 2.0
    served = await processes.serve(deadman_env(emulator_url))
    book = emulator.book_for(LIVE_KEY.api_key)
    async with aiohttp.ClientSession() as session:
        await place(session, served.url, 4)
    await served.wait_event("signproxy.deadman_armed")
    await processes.stop(served, kill=True)
    await wait_empty(book)
    assert book.countdown_fired == 1


async def test_disarm_on_a_clean_stop(
    emulator: EmulatorState, emulator_url: str, processes
) -> None:
    """With SIGNPROXY_DEADMAN_ON_STOP=disarm a clean stop sends timeOut 0: the orders stay."""
    served = await processes.serve(deadman_env(emulator_url, SIGNPROXY_DEADMAN_ON_STOP="disarm"))
    book = emulator.book_for(LIVE_KEY.api_key)
    async with aiohttp.ClientSession() as session:
        await place(session, served.url, 1)
    await served.wait_event("signproxy.deadman_armed")
    # At once: the disarm waits for OKX's one request per second after the refresh itself.
    assert await processes.stop(served) == 0
    bodies = [
        json.loads(r.body)
        for r in emulator.received
        if r.target == "/api/v5/trade/cancel-all-after"
    ]
    assert bodies[0] == {"timeOut": "10"}
    assert bodies[-1] == {"timeOut": "0"}
    assert all(r.code == "0" for r in emulator.received)  # no 50011 (1 request/s)
    assert book.countdown is None
    assert served.events("signproxy.deadman_disarmed")
    assert live(book) == 1


async def test_the_switch_stays_armed_on_a_clean_stop_by_default(
    emulator: EmulatorState, emulator_url: str, processes
) -> None:
    """By default a clean stop leaves the countdown running (orders go unless a proxy returns)."""
    served = await processes.serve(deadman_env(emulator_url))
    async with aiohttp.ClientSession() as session:
        await place(session, served.url, 1)
    await served.wait_event("signproxy.deadman_armed")
    assert await processes.stop(served) == 0
    book = emulator.book_for(LIVE_KEY.api_key)
    assert book.countdown is not None
    targets = [r.body for r in emulator.received if r.target == "/api/v5/trade/cancel-all-after"]
    assert b'"0"' not in b"".join(targets)


async def test_ready_and_metrics_show_the_switch(
    emulator: EmulatorState, emulator_url: str, processes
) -> None:
    """/-/ready says the switch is armed and /-/metrics has armed, last refresh and trigger time."""
    served = await processes.serve(deadman_env(emulator_url))
    async with aiohttp.ClientSession() as session:
        async with session.get(served.url + "/-/heartbeat") as resp:
            assert resp.status == 200
        await served.wait_event("signproxy.deadman_armed")
        async with session.get(served.url + "/-/ready") as resp:
            ready = await resp.json()
        async with session.get(served.url + "/-/metrics") as resp:
            metrics = await resp.text()
    assert ready["checks"]["deadman"]["ok"] is True
    assert ready["checks"]["deadman"]["detail"].startswith("default: armed, OKX cancels in")
    assert 'signproxy_deadman_armed{account="default"} 1.0' in metrics
    trigger = emulator.book_for(LIVE_KEY.api_key).countdown_trigger_ms
    gauge = 'signproxy_deadman_trigger_timestamp_seconds{account="default"} '
    shown = next(line for line in metrics.splitlines() if line.startswith(gauge))
    assert float(shown.removeprefix(gauge)) == trigger / 1000
    assert "signproxy_deadman_last_refresh_timestamp_seconds" in metrics


async def test_a_quiet_bot_is_not_protected_for_longer_than_n_seconds(
    emulator: EmulatorState, emulator_url: str, processes
) -> None:
    """Seen once with N=30, the refreshes keep the countdown's end where it was (timeOut shrinks from 30) instead of pushing it back."""
    served = await processes.serve(deadman_env(emulator_url, SIGNPROXY_DEADMAN_S="30"))
    async with aiohttp.ClientSession() as session, session.get(served.url + "/-/heartbeat"):
        pass
    async with asyncio.timeout(30):
        while len(timeouts(emulator)) < 5:  # noqa: ASYNC110 - refreshes every 2 s
            await asyncio.sleep(0.1)
    sent = timeouts(emulator)
    assert sent[0] == 30
    assert sent == sorted(sent, reverse=True)
    assert sent[-1] < 30
