"""Node.js clients through the proxy: okx-api and ccxt from npm, and plain built-in fetch.

Each runs as a real ``node`` process (scripts in tests/clients/node/) against the proxy in front of
the emulator, and prints one JSON line that the test checks along with what reached OKX.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.clients import assert_all_signed_by_proxy, calls, run_program
from tests.support.keys import DEMO_KEY, LIVE_KEY

pytestmark = pytest.mark.clients


async def run_node(node_clients: Path, script: str, *args: str) -> dict:
    output = await run_program("node", script, *args, cwd=node_clients)
    return json.loads(output.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("key", "mode"), [(LIVE_KEY, "live"), (DEMO_KEY, "demo")], ids=["live", "demo"]
)
async def test_okx_api_round_trip(make_proxy, node_clients, key, mode):
    """okx-api with baseUrl on the proxy: dummy keys replaced, demoTrading against a demo key."""
    harness = await make_proxy(key)
    result = await run_node(node_clients, "okx_api_roundtrip.mjs", harness.base, mode)

    assert result["totalEq"] == "10000"
    assert result["placed"]["sCode"] == "0"
    assert result["pending"] == ["okxapi1"]
    assert result["canceled"] == {**result["canceled"], "sCode": "0", "clOrdId": "okxapi1"}
    assert result["instruments"] == ["BTC-USDT", "ETH-USDT"]
    assert_all_signed_by_proxy(harness.emulator, key)
    assert calls(harness.emulator) == [
        ("GET", "/api/v5/account/balance"),
        ("POST", "/api/v5/trade/order"),
        ("GET", "/api/v5/trade/orders-pending"),
        ("POST", "/api/v5/trade/cancel-order"),
        ("GET", "/api/v5/public/instruments"),
    ]


async def test_ccxt_javascript_round_trip(make_proxy, node_clients):
    """The JavaScript ccxt with dummy keys: markets, balance, create, open orders, cancel."""
    harness = await make_proxy(LIVE_KEY)
    result = await run_node(node_clients, "ccxt_roundtrip.mjs", harness.base)

    assert result["symbols"] == [
        "BTC/USD:BTC-270326",
        "BTC/USD:BTC-270326-100000-C",
        "BTC/USDT",
        "BTC/USDT:USDT",
        "ETH/USDT",
    ]
    assert result["usdt"] == {"free": 10000, "used": 0, "total": 10000}
    assert result["open"] == [[result["orderId"], "BTC/USDT", "open", 30000, 0.01]]
    assert result["canceled"] == result["orderId"]
    assert result["openAfter"] == 0
    assert_all_signed_by_proxy(harness.emulator, LIVE_KEY)
    assert ("GET", "/api/v5/asset/currencies") in calls(harness.emulator)


async def test_plain_fetch_round_trip(make_proxy, node_clients):
    """A plain HTTP client (Node's fetch, no SDK, no signing code) places and cancels an order."""
    harness = await make_proxy(LIVE_KEY)
    result = await run_node(node_clients, "fetch_roundtrip.mjs", harness.base)

    assert result["totalEq"] == "10000"
    assert result["placed"]["sCode"] == "0"
    assert result["state"] == "live"
    assert result["canceled"]["sCode"] == "0"
    assert_all_signed_by_proxy(harness.emulator, LIVE_KEY)
    assert harness.emulator.received[1].body == (
        b'{"instId":"BTC-USDT","tdMode":"cash","side":"buy","ordType":"limit",'
        b'"px":"30000","sz":"0.01","clOrdId":"fetch1"}'
    )
