"""curl through the proxy: the smallest client there is, with no signing code at all."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.support.clients import assert_all_signed_by_proxy, run_program
from tests.support.keys import DEMO_KEY, LIVE_KEY

pytestmark = pytest.mark.clients

CURL = shutil.which("curl")


async def curl(*args: str) -> dict:
    assert CURL is not None
    return json.loads(await run_program(CURL, "-sS", "--max-time", "30", *args))


@pytest.mark.skipif(CURL is None, reason="curl is not installed")
@pytest.mark.parametrize("key", [LIVE_KEY, DEMO_KEY], ids=["live", "demo"])
async def test_curl_round_trip(make_proxy, key):
    """Unsigned curl calls get balance, place, list and cancel an order, live or demo."""
    harness = await make_proxy(key)
    base = harness.base
    json_body = ("-H", "Content-Type: application/json", "-d")

    balance = await curl(f"{base}/api/v5/account/balance?ccy=USDT")
    placed = await curl(
        f"{base}/api/v5/trade/order",
        *json_body,
        '{"instId":"BTC-USDT","tdMode":"cash","side":"buy","ordType":"limit",'
        '"px":"30000","sz":"0.01","clOrdId":"curl1"}',
    )
    pending = await curl(f"{base}/api/v5/trade/orders-pending?instType=SPOT&instId=BTC-USDT")
    canceled = await curl(
        f"{base}/api/v5/trade/cancel-order",
        *json_body,
        '{"instId":"BTC-USDT","clOrdId":"curl1"}',
    )

    assert balance["data"][0]["totalEq"] == "10000"
    assert placed["data"][0]["sCode"] == "0"
    assert [order["clOrdId"] for order in pending["data"]] == ["curl1"]
    assert canceled["data"][0]["sCode"] == "0"
    assert_all_signed_by_proxy(harness.emulator, key)
