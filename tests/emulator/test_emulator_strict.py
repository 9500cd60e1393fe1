"""The emulator is as strict as OKX where bots depend on it."""

from __future__ import annotations

import json

import pytest

from tests.conftest import Harness, MakeProxy
from tests.support.keys import LIVE_KEY

ORDER = {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "limit", "px": "1"}


def order(cl_ord_id: str, **fields: object) -> str:
    return json.dumps({**ORDER, "sz": "1", "clOrdId": cl_ord_id, **fields})


@pytest.fixture
async def proxy(make_proxy: MakeProxy) -> Harness:
    """A proxy without de-duplication: a resent clOrdId must reach the emulator, not be replayed."""
    return await make_proxy(SIGNPROXY_DEDUP_WINDOW="0")


async def place(proxy, body: str) -> dict:
    reply = await proxy.post("/api/v5/trade/order", body)
    assert reply.status == 200
    return reply.json()


async def test_a_duplicate_clordid_among_pending_orders_is_refused(proxy) -> None:
    """A second pending order with the same clOrdId gets sCode 51016 "Duplicated clOrdId"; once cancelled it may be reused."""
    assert (await place(proxy, order("dup1")))["data"][0]["sCode"] == "0"
    answer = await place(proxy, order("dup1"))
    assert (answer["code"], answer["data"][0]["sCode"], answer["data"][0]["sMsg"]) == (
        "1",
        "51016",
        "Duplicated clOrdId",
    )
    cancel = await proxy.post(
        "/api/v5/trade/cancel-order", json.dumps({"instId": "BTC-USDT", "clOrdId": "dup1"})
    )
    assert cancel.json()["data"][0]["sCode"] == "0"
    assert (await place(proxy, order("dup1")))["data"][0]["sCode"] == "0"


async def test_lookup_by_clordid_finds_cancelled_and_filled_orders_newest_first(proxy) -> None:
    """GET /trade/order by clOrdId finds a cancelled or filled order; with a reused clOrdId, the newest."""
    first = (await place(proxy, order("look1")))["data"][0]["ordId"]
    await proxy.post(
        "/api/v5/trade/cancel-order", json.dumps({"instId": "BTC-USDT", "ordId": first})
    )
    found = (await proxy.get("/api/v5/trade/order?instId=BTC-USDT&clOrdId=look1")).json()
    assert (found["data"][0]["ordId"], found["data"][0]["state"]) == (first, "canceled")
    second = (await place(proxy, order("look1")))["data"][0]["ordId"]
    book = proxy.emulator.book_for(LIVE_KEY.api_key)
    book.fill(second, 0)
    found = (await proxy.get("/api/v5/trade/order?instId=BTC-USDT&clOrdId=look1")).json()
    assert (found["data"][0]["ordId"], found["data"][0]["state"]) == (second, "filled")
    assert found["data"][0]["accFillSz"] == "1"
    pending = (await proxy.get("/api/v5/trade/orders-pending")).json()["data"]
    assert [o["clOrdId"] for o in pending] == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"sz": 1}, "Parameter sz error"),
        ({"px": 1.5}, "Parameter px error"),
        ({"instId": None}, "Parameter instId error"),
        ({"clOrdId": "has-hyphen"}, "Parameter clOrdId error"),
        ({"clOrdId": "x" * 33}, "Parameter clOrdId error"),
    ],
)
async def test_parameters_documented_as_strings_are_checked(proxy, fields, message) -> None:
    """A number where OKX documents a string, or a malformed clOrdId, is refused with 51000."""
    body = json.dumps({**ORDER, "sz": "1", **fields})
    item = (await place(proxy, body))["data"][0]
    assert (item["sCode"], item["sMsg"]) == ("51000", message)
    lever = await proxy.post(
        "/api/v5/account/set-leverage",
        json.dumps({"instId": "BTC-USDT", "lever": 5, "mgnMode": "isolated"}),
    )
    assert (lever.json()["code"], lever.json()["msg"]) == ("51000", "Parameter lever error")


async def test_an_unknown_endpoint_is_not_an_empty_success(proxy) -> None:
    """A path OKX does not serve answers HTTP 404 with a non-zero code, not code 0 with empty data."""
    reply = await proxy.get("/api/v5/account/made-up-endpoint")
    assert reply.status == 404
    assert reply.json()["code"] != "0"
    known = await proxy.get("/api/v5/account/positions")
    assert (known.status, known.json()["code"]) == (200, "0")
