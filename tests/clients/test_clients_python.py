"""python-okx and ccxt, unchanged, pointed at the proxy in front of the emulator.

Both libraries are synchronous (httpx and requests); they run in a worker thread so the proxy and
the emulator keep serving on the test's event loop.
"""

from __future__ import annotations

import asyncio
from typing import Any

import ccxt
import okx.Account
import okx.PublicData
import okx.Trade
import pytest

from tests.support.clients import assert_all_signed_by_proxy, calls
from tests.support.keys import DEMO_KEY, LIVE_KEY

pytestmark = [
    pytest.mark.clients,
    # python-okx's own deprecated calls, not ours: it posts with httpx's `data=` and stamps its
    # (here unused) timestamps with datetime.utcnow() (deprecated on Python 3.12+).
    pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:datetime.datetime.utcnow:DeprecationWarning"),
]


def okx_round_trip(proxy: str, flag: str) -> dict[str, Any]:
    """What a python-okx bot does: balance, instruments, place, look up, list, cancel."""
    with (
        okx.Account.AccountAPI(domain=proxy, flag=flag) as account,
        okx.PublicData.PublicAPI(domain=proxy, flag=flag) as public,
        okx.Trade.TradeAPI(domain=proxy, flag=flag) as trade,
    ):
        return _okx_calls(account, public, trade)


def _okx_calls(
    account: okx.Account.AccountAPI, public: okx.PublicData.PublicAPI, trade: okx.Trade.TradeAPI
) -> dict[str, Any]:
    placed = trade.place_order(
        instId="BTC-USDT",
        tdMode="cash",
        side="buy",
        ordType="limit",
        px="30000",
        sz="0.01",
        clOrdId="pyokx1",
    )
    return {
        "balance": account.get_account_balance(ccy="USDT"),
        "instruments": public.get_instruments(instType="SPOT"),
        "placed": placed,
        "order": trade.get_order(instId="BTC-USDT", clOrdId="pyokx1"),
        "pending": trade.get_order_list(instType="SPOT"),
        "canceled": trade.cancel_order(instId="BTC-USDT", clOrdId="pyokx1"),
        "after": trade.get_order_list(instType="SPOT"),
    }


@pytest.mark.parametrize(
    ("key", "flag"),
    [(LIVE_KEY, "0"), (DEMO_KEY, "1"), (LIVE_KEY, "1"), (DEMO_KEY, "0")],
    ids=["live-flag0", "demo-flag1", "live-proxy-flag1", "demo-proxy-flag0"],
)
async def test_python_okx_round_trip(make_proxy, key, flag):
    """python-okx with no keys works through the proxy; the proxy's OKX_DEMO, not flag, decides."""
    harness = await make_proxy(key)
    answers = await asyncio.to_thread(okx_round_trip, harness.base, flag)

    assert all(answer["code"] == "0" for answer in answers.values()), answers
    assert answers["balance"]["data"][0]["details"][0]["ccy"] == "USDT"
    assert [i["instId"] for i in answers["instruments"]["data"]] == ["BTC-USDT", "ETH-USDT"]
    ord_id = answers["placed"]["data"][0]["ordId"]
    assert answers["order"]["data"][0]["ordId"] == ord_id
    assert answers["order"]["data"][0]["state"] == "live"
    assert [o["ordId"] for o in answers["pending"]["data"]] == [ord_id]
    assert answers["canceled"]["data"][0]["sCode"] == "0"
    assert answers["after"]["data"] == []
    # python-okx sent no OK-ACCESS-* and its own x-simulated-trading; OKX saw only the proxy's.
    assert_all_signed_by_proxy(harness.emulator, key)
    assert ("POST", "/api/v5/trade/order") in calls(harness.emulator)


def ccxt_exchange(proxy: str, *, sandbox: bool = False) -> ccxt.okx:
    """The ccxt okx exchange with dummy credentials and both its live and test URLs on the proxy."""
    exchange = ccxt.okx(
        {
            "apiKey": "dummy-key",
            "secret": "dummy-secret",
            "password": "dummy-pass",
            "urls": {"api": {"rest": proxy}, "test": {"rest": proxy}},
        }
    )
    exchange.set_sandbox_mode(sandbox)
    return exchange


def ccxt_round_trip(exchange: ccxt.okx) -> dict[str, Any]:
    """What a ccxt bot does: load markets, balance, create, list open, cancel, list again."""
    try:
        return _ccxt_calls(exchange)
    finally:
        exchange.close()


def _ccxt_calls(exchange: ccxt.okx) -> dict[str, Any]:
    markets = exchange.load_markets()
    balance = exchange.fetch_balance()
    order = exchange.create_order("BTC/USDT", "limit", "buy", 0.01, 30000)
    open_orders = exchange.fetch_open_orders("BTC/USDT")
    canceled = exchange.cancel_order(order["id"], "BTC/USDT")
    return {
        "markets": markets,
        "balance": balance,
        "order": order,
        "open": open_orders,
        "canceled": canceled,
        "after": exchange.fetch_open_orders(),
    }


def assert_ccxt_round_trip(result: dict[str, Any]) -> None:
    assert sorted(result["markets"]) == [
        "BTC/USD:BTC-270326",
        "BTC/USD:BTC-270326-100000-C",
        "BTC/USDT",
        "BTC/USDT:USDT",
        "ETH/USDT",
    ]
    spot = result["markets"]["BTC/USDT"]
    assert (spot["precision"]["amount"], spot["limits"]["amount"]["min"]) == (1e-08, 1e-05)
    assert result["balance"]["USDT"] == {"free": 10000.0, "used": 0.0, "total": 10000.0}
    [opened] = result["open"]
    assert opened["id"] == result["order"]["id"]
    assert (opened["symbol"], opened["status"], opened["price"], opened["amount"]) == (
        "BTC/USDT",
        "open",
        30000.0,
        0.01,
    )
    assert result["canceled"]["id"] == result["order"]["id"]
    assert result["after"] == []


async def test_ccxt_round_trip_live(make_proxy):
    """With dummy keys, ccxt's OK-ACCESS-* headers are replaced; every round trip parses."""
    harness = await make_proxy(LIVE_KEY)
    result = await asyncio.to_thread(ccxt_round_trip, ccxt_exchange(harness.base))

    assert_ccxt_round_trip(result)
    assert_all_signed_by_proxy(harness.emulator, LIVE_KEY)
    seen = calls(harness.emulator)
    assert ("GET", "/api/v5/asset/currencies") in seen  # load_markets with credentials, live only
    assert ("POST", "/api/v5/trade/batch-orders") in seen  # ccxt's default for create_order
    assert ("POST", "/api/v5/trade/cancel-order") in seen
    instrument_types = {
        seen.target.split("instType=")[1].split("&")[0]
        for seen in harness.emulator.received
        if seen.target.startswith("/api/v5/public/instruments?")
    }
    assert instrument_types == {"SPOT", "FUTURES", "SWAP", "OPTION"}
    placed = next(iter(harness.emulator.all_orders()))
    assert (placed["instId"], placed["px"], placed["sz"], placed["state"]) == (
        "BTC-USDT",
        "30000",
        "0.01",
        "canceled",
    )


async def test_ccxt_sandbox_mode_demo(make_proxy):
    """The ccxt sandbox mode (urls["test"], x-simulated-trading: 1) works with a demo proxy."""
    harness = await make_proxy(DEMO_KEY)
    exchange = ccxt_exchange(harness.base, sandbox=True)
    assert exchange.headers["x-simulated-trading"] == "1"
    result = await asyncio.to_thread(ccxt_round_trip, exchange)

    assert_ccxt_round_trip(result)
    assert_all_signed_by_proxy(harness.emulator, DEMO_KEY)
    # In sandbox mode ccxt skips the private currencies call while loading markets.
    assert ("GET", "/api/v5/asset/currencies") not in calls(harness.emulator)
