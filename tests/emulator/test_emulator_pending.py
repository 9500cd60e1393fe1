"""The emulator's pending orders (paged), algo orders and cancel-all-after countdown."""

from __future__ import annotations

import asyncio
import json

from tests.support.keys import LIVE_KEY


async def test_pending_orders_are_paged_newest_first(proxy) -> None:
    """orders-pending pages like OKX: at most 100, newest first, after=<ordId> for older ones."""
    book = proxy.emulator.book_for(LIVE_KEY.api_key)
    order = {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "limit", "sz": "1"}
    ids = [book.place(order, 0)["ordId"] for _ in range(130)]
    first = (await proxy.get("/api/v5/trade/orders-pending")).json()["data"]
    assert [o["ordId"] for o in first] == ids[::-1][:100]
    older = await proxy.get(f"/api/v5/trade/orders-pending?after={first[-1]['ordId']}&limit=50")
    assert [o["ordId"] for o in older.json()["data"]] == ids[::-1][100:]
    newer = await proxy.get(f"/api/v5/trade/orders-pending?before={ids[127]}")
    assert [o["ordId"] for o in newer.json()["data"]] == [ids[129], ids[128]]


async def test_algo_orders_can_be_placed_listed_and_cancelled(proxy) -> None:
    """order-algo, orders-algo-pending (by ordType) and cancel-algos (at most 10) work together."""
    body = '{"instId":"BTC-USDT","tdMode":"cash","side":"sell","ordType":"conditional","sz":"1"}'
    placed = (await proxy.post("/api/v5/trade/order-algo", body)).json()["data"][0]
    listed = (await proxy.get("/api/v5/trade/orders-algo-pending?ordType=conditional")).json()
    assert [a["algoId"] for a in listed["data"]] == [placed["algoId"]]
    assert not (await proxy.get("/api/v5/trade/orders-algo-pending?ordType=oco")).json()["data"]
    eleven = json.dumps([{"algoId": placed["algoId"], "instId": "BTC-USDT"}] * 11)
    assert (await proxy.post("/api/v5/trade/cancel-algos", eleven)).json()["code"] == "51000"
    one = json.dumps([{"algoId": placed["algoId"], "instId": "BTC-USDT"}])
    assert (await proxy.post("/api/v5/trade/cancel-algos", one)).json()["code"] == "0"
    assert not (await proxy.get("/api/v5/trade/orders-algo-pending")).json()["data"]


async def test_cancel_all_after_counts_down_and_cancels(proxy) -> None:
    """cancel-all-after: 0 or 10-120 only, one call per second, and the countdown cancels live orders."""
    proxy.emulator.countdown_scale = 100.0  # 10 s run out in 0.1 s
    book = proxy.emulator.book_for(LIVE_KEY.api_key)
    order = {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "limit", "sz": "1"}
    book.place(order, 0)
    reply = await proxy.post("/api/v5/trade/cancel-all-after", '{"timeOut":"5"}')
    assert reply.json()["code"] == "51000"
    await asyncio.sleep(1.0)
    reply = await proxy.post("/api/v5/trade/cancel-all-after", '{"timeOut":"10"}')
    assert int(reply.json()["data"][0]["triggerTime"]) > 0
    reply = await proxy.post("/api/v5/trade/cancel-all-after", '{"timeOut":"10"}')
    assert (reply.status, reply.json()["code"]) == (429, "50011")
    async with asyncio.timeout(10):
        while book.countdown_fired == 0:  # noqa: ASYNC110 - the emulator's timer
            await asyncio.sleep(0.02)
    assert [o["state"] for o in book.orders.values()] == ["canceled"]
