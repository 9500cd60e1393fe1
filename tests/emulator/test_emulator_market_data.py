"""The emulator's reference data and order look-ups answer like OKX, through the proxy."""

from __future__ import annotations

import pytest

from signproxy.emulator.market_data import CURRENCIES, INSTRUMENTS

ORDER = (
    '{"instId":"%s","tdMode":"cash","side":"buy","ordType":"limit","px":"1","sz":"1",'
    '"clOrdId":"%s"}'
)


@pytest.mark.parametrize(
    ("query", "ids"),
    [
        ("instType=SPOT", ["BTC-USDT", "ETH-USDT"]),
        ("instType=MARGIN", ["BTC-USDT", "ETH-USDT"]),
        ("instType=SWAP", ["BTC-USDT-SWAP"]),
        ("instType=FUTURES", ["BTC-USD-270326"]),
        ("instType=OPTION&uly=BTC-USD", ["BTC-USD-270326-100000-C"]),
        ("instType=OPTION&instFamily=ETH-USD", []),
        ("instType=SPOT&instId=ETH-USDT", ["ETH-USDT"]),
    ],
)
async def test_instruments_filtered_like_okx(proxy, query, ids):
    """GET /public/instruments answers each instType, filtered by uly, instFamily and instId."""
    reply = await proxy.get(f"/api/v5/public/instruments?{query}")
    answer = reply.json()
    assert (reply.status, answer["code"]) == (200, "0")
    assert [item["instId"] for item in answer["data"]] == ids
    inst_type = query.split("&")[0].removeprefix("instType=")
    assert all(item["instType"] == inst_type for item in answer["data"])


@pytest.mark.parametrize(
    ("query", "code"),
    [("", "50014"), ("instType=spot", "51000"), ("instType=OPTION", "50014")],
)
async def test_instruments_parameter_errors(proxy, query, code):
    """A missing or wrong instType, or an OPTION query without uly, gets OKX's error code."""
    reply = await proxy.get("/api/v5/public/instruments" + (f"?{query}" if query else ""))
    assert (reply.json()["code"], reply.json()["data"]) == (code, [])


def test_instruments_carry_every_documented_field():
    """Every canned instrument has the same documented field set, numbers as strings."""
    fields = set(INSTRUMENTS[0])
    assert {"instId", "instType", "baseCcy", "quoteCcy", "settleCcy", "ctVal", "ctMult"} <= fields
    assert {"ctValCcy", "lotSz", "minSz", "tickSz", "state", "listTime", "uly"} <= fields
    assert {"instFamily", "lever", "expTime", "optType", "stk"} <= fields
    for item in INSTRUMENTS:
        assert set(item) == fields, item["instId"]
        assert all(isinstance(item[k], str) for k in ("lotSz", "minSz", "tickSz", "listTime"))


async def test_currencies_private_and_filtered(proxy):
    """GET /asset/currencies lists every chain; ccy= filters a comma-separated list."""
    everything = (await proxy.get("/api/v5/asset/currencies")).json()
    some = (await proxy.get("/api/v5/asset/currencies?ccy=BTC,ETH")).json()
    assert [c["chain"] for c in everything["data"]] == [c["chain"] for c in CURRENCIES]
    assert [c["ccy"] for c in some["data"]] == ["BTC", "ETH"]
    assert proxy.emulator.received[0].headers["OK-ACCESS-KEY"]  # verified as a private call


async def test_order_record_shape_and_pending_filters(proxy):
    """Placed orders show OKX's order fields; orders-pending filters by instType and instId."""
    for inst_id, cl_ord_id in (("BTC-USDT", "a1"), ("BTC-USDT-SWAP", "b1")):
        reply = await proxy.post("/api/v5/trade/order", ORDER % (inst_id, cl_ord_id))
        assert reply.json()["data"][0]["sCode"] == "0"

    async def pending(query: str) -> list[str]:
        reply = await proxy.get("/api/v5/trade/orders-pending" + query)
        return [order["clOrdId"] for order in reply.json()["data"]]

    assert await pending("") == ["b1", "a1"]  # newest first, as OKX pages them
    assert await pending("?instType=SWAP") == ["b1"]
    assert await pending("?instId=BTC-USDT") == ["a1"]
    order = (await proxy.get("/api/v5/trade/order?instId=BTC-USDT&clOrdId=a1")).json()["data"][0]
    assert order["instType"] == "SPOT"
    assert (order["state"], order["accFillSz"], order["posSide"], order["feeCcy"]) == (
        "live",
        "0",
        "net",
        "USDT",
    )
    assert {"cTime", "uTime", "fillSz", "avgPx", "tgtCcy", "stpMode"} <= set(order)
