"""The OKX emulator refuses exactly what OKX refuses, with OKX's codes."""

import time

import pytest
from aiohttp import ClientSession
from yarl import URL

from signproxy.emulator import EmulatorState
from signproxy.okx.signing import Signer, iso_timestamp
from tests.support.keys import DEMO_KEY, LIVE_KEY


def signed_headers(
    key=LIVE_KEY,
    *,
    method="GET",
    target="/api/v5/account/balance",
    body=b"",
    now_ms=None,
    **override,
):
    """Headers as a correct client would send them, with some overridden."""
    stamp = iso_timestamp(now_ms if now_ms is not None else time.time_ns() // 1_000_000)
    headers = {
        "OK-ACCESS-KEY": key.api_key,
        "OK-ACCESS-PASSPHRASE": key.passphrase,
        "OK-ACCESS-TIMESTAMP": stamp,
        "OK-ACCESS-SIGN": Signer(key.secret).sign_request(stamp, method, target, body),
        "Content-Type": "application/json",
    }
    if key.demo:
        headers["x-simulated-trading"] = "1"
    headers.update(override)
    return {name: value for name, value in headers.items() if value is not None}


async def call(base: str, headers, *, method="GET", target="/api/v5/account/balance", body=b""):
    async with (
        ClientSession() as session,
        session.request(
            method, URL(base + target, encoded=True), headers=headers, data=body or None
        ) as resp,
    ):
        return resp.status, await resp.json()


async def test_correct_request_is_accepted(emulator_url: str) -> None:
    """A correctly signed request gets HTTP 200 and code 0."""
    status, body = await call(emulator_url, signed_headers())
    assert (status, body["code"]) == (200, "0")


@pytest.mark.parametrize(
    ("override", "code"),
    [
        ({"OK-ACCESS-KEY": None}, "50103"),
        ({"OK-ACCESS-PASSPHRASE": None}, "50104"),
        ({"OK-ACCESS-SIGN": None}, "50106"),
        ({"OK-ACCESS-TIMESTAMP": None}, "50107"),
        ({"OK-ACCESS-TIMESTAMP": "1607418537"}, "50112"),
        ({"OK-ACCESS-TIMESTAMP": "2020-12-08T09:08:57.715Z"}, "50102"),
        ({"OK-ACCESS-KEY": "fake-unknown-key"}, "50111"),
        ({"OK-ACCESS-PASSPHRASE": "wrong"}, "50105"),
        ({"x-simulated-trading": "1"}, "50101"),
        ({"OK-ACCESS-SIGN": "AAAA"}, "50113"),
    ],
)
async def test_refusals_use_okx_codes(
    emulator_url: str, emulator: EmulatorState, override, code
) -> None:
    """Each kind of bad authentication gets OKX's code, HTTP 401, and is recorded."""
    status, body = await call(emulator_url, signed_headers(**override))
    assert (status, body["code"]) == (401, code)
    assert emulator.received[-1].code == code


async def test_demo_key_without_header_is_wrong_environment(emulator_url: str) -> None:
    """A demo key without x-simulated-trading gets 50101, as on OKX."""
    status, body = await call(
        emulator_url, signed_headers(DEMO_KEY, **{"x-simulated-trading": None})
    )
    assert (status, body["code"]) == (401, "50101")


async def test_signature_is_over_raw_target(emulator_url: str) -> None:
    """A signature over a differently encoded query than the one sent is refused (50113)."""
    headers = signed_headers(target="/api/v5/account/balance?ccy=BTC,ETH")
    status, body = await call(emulator_url, headers, target="/api/v5/account/balance?ccy=BTC%2CETH")
    assert (status, body["code"]) == (401, "50113")
    headers = signed_headers(target="/api/v5/account/balance?ccy=BTC%2CETH")
    status, body = await call(emulator_url, headers, target="/api/v5/account/balance?ccy=BTC%2CETH")
    assert (status, body["code"]) == (200, "0")


async def test_clock_offset_moves_the_window(emulator_url: str, emulator: EmulatorState) -> None:
    """With its clock 60 s ahead, a locally timed request is expired; one on its clock is accepted."""
    emulator.clock_offset_ms = 60_000
    assert (await call(emulator_url, signed_headers()))[1]["code"] == "50102"
    assert (await call(emulator_url, signed_headers(now_ms=emulator.now_ms())))[1]["code"] == "0"


@pytest.mark.parametrize(
    ("body", "content_type", "code"),
    [
        (b"", "application/json", "50000"),
        (b"{x", "application/json", "50002"),
        (b"{}", "text/plain", "50006"),
    ],
)
async def test_post_body_errors(
    emulator_url: str, body: bytes, content_type: str, code: str
) -> None:
    """Empty, invalid and non-JSON POST bodies get OKX's codes."""
    target = "/api/v5/trade/order"
    headers = signed_headers(
        method="POST", target=target, body=body, **{"Content-Type": content_type}
    )
    _status, answer = await call(emulator_url, headers, method="POST", target=target, body=body)
    assert answer["code"] == code


async def test_order_round_trip(emulator_url: str) -> None:
    """Place, look up, list and cancel an order: the emulator keeps them like OKX."""
    order = b'{"instId":"BTC-USDT","tdMode":"cash","side":"buy","ordType":"limit","px":"1","sz":"1","clOrdId":"c1"}'
    target = "/api/v5/trade/order"
    _, placed = await call(
        emulator_url,
        signed_headers(method="POST", target=target, body=order),
        method="POST",
        target=target,
        body=order,
    )
    ord_id = placed["data"][0]["ordId"]
    lookup = "/api/v5/trade/order?instId=BTC-USDT&clOrdId=c1"
    _, found = await call(emulator_url, signed_headers(target=lookup), target=lookup)
    assert found["data"][0]["ordId"] == ord_id
    pending = "/api/v5/trade/orders-pending"
    _, live = await call(emulator_url, signed_headers(target=pending), target=pending)
    assert [o["ordId"] for o in live["data"]] == [ord_id]
    cancel = "/api/v5/trade/cancel-order"
    body = b'{"instId":"BTC-USDT","ordId":"' + ord_id.encode() + b'"}'
    _, cancelled = await call(
        emulator_url,
        signed_headers(method="POST", target=cancel, body=body),
        method="POST",
        target=cancel,
        body=body,
    )
    assert cancelled["data"][0]["sCode"] == "0"
    _, live = await call(emulator_url, signed_headers(target=pending), target=pending)
    assert live["data"] == []


async def test_public_endpoints_need_no_signature(emulator_url: str) -> None:
    """Public endpoints answer unsigned requests, as on OKX."""
    status, body = await call(emulator_url, {}, target="/api/v5/public/time")
    assert status == 200
    assert int(body["data"][0]["ts"]) > 0


async def test_emulator_keeps_only_newest_requests(
    emulator_url: str, emulator: EmulatorState
) -> None:
    """A long-running emulator's record of requests is bounded, keeping the newest."""
    emulator.max_received = 3
    for n in range(5):
        await call(emulator_url, {}, target=f"/api/v5/public/time?n={n}")
    assert [seen.target for seen in emulator.received] == [
        f"/api/v5/public/time?n={n}" for n in (2, 3, 4)
    ]


async def test_each_key_has_its_own_order_book(emulator_url: str, emulator: EmulatorState) -> None:
    """An order placed with the demo key is not among the live key's pending orders, as on OKX."""
    order = (
        b'{"instId":"BTC-USDT","tdMode":"cash","side":"buy","ordType":"limit","px":"1","sz":"1"}'
    )
    target = "/api/v5/trade/order"
    for key in (DEMO_KEY, LIVE_KEY):
        headers = signed_headers(key, method="POST", target=target, body=order)
        _, placed = await call(emulator_url, headers, method="POST", target=target, body=order)
        assert placed["data"][0]["sCode"] == "0"
    pending = "/api/v5/trade/orders-pending"
    seen = {}
    for key in (DEMO_KEY, LIVE_KEY):
        _, answer = await call(emulator_url, signed_headers(key, target=pending), target=pending)
        seen[key.api_key] = [o["ordId"] for o in answer["data"]]
    assert len(seen[DEMO_KEY.api_key]) == len(seen[LIVE_KEY.api_key]) == 1
    assert seen[DEMO_KEY.api_key] != seen[LIVE_KEY.api_key]
    assert len(emulator.all_orders()) == 2
