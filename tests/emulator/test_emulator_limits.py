"""The emulator keeps OKX's rate limits like OKX: 50011 with HTTP 429, 50061 with HTTP 200."""

from __future__ import annotations

import json
import time

import aiohttp
import pytest

from signproxy.emulator import EMULATOR, create_emulator_app
from signproxy.okx.signing import Signer, iso_timestamp
from tests.support.keys import LIVE_KEY


@pytest.fixture
async def okx(aiohttp_server):
    """An emulator with OKX's limits on: (its state, its URL)."""
    server = await aiohttp_server(create_emulator_app([LIVE_KEY]))
    return server.app[EMULATOR], str(server.make_url("")).rstrip("/")


def _signed(method: str, target: str, body: str = "") -> dict[str, str]:
    timestamp = iso_timestamp(int(time.time() * 1000))
    return {
        "OK-ACCESS-KEY": LIVE_KEY.api_key,
        "OK-ACCESS-PASSPHRASE": LIVE_KEY.passphrase,
        "OK-ACCESS-TIMESTAMP": timestamp,
        "OK-ACCESS-SIGN": Signer(LIVE_KEY.secret).sign_request(
            timestamp, method, target, body.encode()
        ),
        "Content-Type": "application/json",
    }


async def _call(session, url: str, method: str, target: str, body: str = ""):
    headers = _signed(method, target, body)
    async with session.request(method, url + target, data=body or None, headers=headers) as r:
        return r.status, await r.json()


async def test_an_endpoint_over_its_limit_gets_50011_with_429(okx):
    """The 11th balance call within 2 s gets 50011 and HTTP 429; other endpoints still answer."""
    _, url = okx
    async with aiohttp.ClientSession() as session:
        answers = [await _call(session, url, "GET", "/api/v5/account/balance") for _ in range(11)]
        assert [body["code"] for _, body in answers[:10]] == ["0"] * 10
        assert answers[10] == (429, {"code": "50011", "msg": "Too Many Requests", "data": []})
        status, body = await _call(session, url, "GET", "/api/v5/account/config")
        assert (status, body["code"]) == (200, "0")


async def test_the_sub_account_limit_gets_50061(okx):
    """Past the account's new + amend limit (its accRateLimit), a place gets 50061 (HTTP 200)."""
    state, url = okx
    state.limits.acc_rate_limits[LIVE_KEY.api_key] = 2
    async with aiohttp.ClientSession() as session:
        status, body = await _call(session, url, "GET", "/api/v5/trade/account-rate-limit")
        assert body["data"][0]["accRateLimit"] == "2"
        codes = []
        for inst in ("BTC-USDT", "ETH-USDT", "SOL-USDT"):
            order = {
                "instId": inst,
                "tdMode": "cash",
                "side": "buy",
                "ordType": "market",
                "sz": "1",
            }
            status, body = await _call(
                session, url, "POST", "/api/v5/trade/order", json.dumps(order)
            )
            codes.append((status, body["code"]))
    assert codes == [(200, "0"), (200, "0"), (200, "50061")]


async def test_public_endpoints_count_per_address_without_signature(okx):
    """Unsigned public calls count per client address: the 11th time call gets 50011."""
    _, url = okx
    async with aiohttp.ClientSession() as session:
        statuses = []
        for _ in range(11):
            async with session.get(url + "/api/v5/public/time") as reply:
                statuses.append((reply.status, (await reply.json())["code"]))
    assert statuses[:10] == [(200, "0")] * 10
    assert statuses[10] == (429, "50011")
