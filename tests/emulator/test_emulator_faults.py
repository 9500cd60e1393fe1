"""The emulator's fault knobs and clOrdId look-ups, used by the exactly-once tests."""

from __future__ import annotations

import json

import aiohttp

from signproxy.emulator import EmulatorState, Fault
from tests.conftest import MakeProxy

ORDER = {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "market", "sz": "1"}


async def test_control_route_queues_a_fault(emulator: EmulatorState, emulator_url: str) -> None:
    """POST /-/emulator/faults queues a fault; a bad one is refused; DELETE clears them."""
    async with aiohttp.ClientSession() as session:
        spec = {"path": "/api/v5/trade/order", "action": "error500", "count": 2}
        async with session.post(emulator_url + "/-/emulator/faults", json=spec) as answer:
            assert answer.status == 200
        bad = {"path": "/api/v5/trade/order", "action": "explode"}
        async with session.post(emulator_url + "/-/emulator/faults", json=bad) as answer:
            assert answer.status == 400
        assert [(f.action, f.count) for f in emulator.faults] == [("error500", 2)]
        async with session.delete(emulator_url + "/-/emulator/faults") as answer:
            assert answer.status == 200
    assert emulator.faults == []


async def test_error500_places_the_order_and_answers_500(
    make_proxy: MakeProxy, emulator: EmulatorState
) -> None:
    """error500: OKX's 50001 with HTTP 500, yet the order is in the book."""
    emulator.faults.append(Fault("/api/v5/trade/order", "error500"))
    proxy = await make_proxy(SIGNPROXY_RESOLVE_TIMEOUT="0")
    reply = await proxy.post("/api/v5/trade/order", json.dumps({**ORDER, "clOrdId": "f1"}))
    assert (reply.status, reply.json()["code"]) == (500, "50001")
    assert [order["clOrdId"] for order in emulator.all_orders()] == ["f1"]


async def test_cancelled_orders_are_found_by_clordid(make_proxy: MakeProxy) -> None:
    """A look-up by clOrdId finds the order after it was cancelled, with its state."""
    proxy = await make_proxy()
    placed = await proxy.post("/api/v5/trade/order", json.dumps({**ORDER, "clOrdId": "c9"}))
    await proxy.post(
        "/api/v5/trade/cancel-order", json.dumps({"instId": "BTC-USDT", "clOrdId": "c9"})
    )
    found = await proxy.get("/api/v5/trade/order?instId=BTC-USDT&clOrdId=c9")
    (order,) = found.json()["data"]
    assert (order["ordId"], order["state"]) == (placed.json()["data"][0]["ordId"], "canceled")
    missing = await proxy.get("/api/v5/trade/order?instId=BTC-USDT&clOrdId=nothere")
    assert missing.json()["code"] == "51603"
