"""Encoded request bodies and the SPX300 wording, through a real proxy and emulator."""

from __future__ import annotations

import gzip
import json

from tests.conftest import MakeProxy

ORDER = json.dumps({"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "market"})


async def test_gzip_request_body_is_refused_with_415(proxy, emulator, log_output) -> None:
    """A gzip body (valid or not) gets 415 SPX108 and nothing reaches OKX; no traceback."""
    for body in (gzip.compress(ORDER.encode()), b"not gzip at all"):
        reply = await proxy.post("/api/v5/trade/order", body, headers={"Content-Encoding": "gzip"})
        assert reply.status == 415
        assert reply.json()["code"] == "SPX108"
        assert reply.headers["X-Signproxy-Error"] == "SPX108"
    assert emulator.received == []
    assert "Traceback" not in log_output.getvalue()
    assert (await proxy.post("/api/v5/trade/order", ORDER)).status == 200


async def test_unreachable_okx_says_the_request_was_not_sent(make_proxy: MakeProxy) -> None:
    """SPX300's message says the request was not sent (no order can exist)."""
    proxy = await make_proxy(upstream="http://127.0.0.1:9", SIGNPROXY_GET_RETRIES="0")
    reply = await proxy.post("/api/v5/trade/order", ORDER)
    assert reply.json()["code"] == "SPX300"
    assert "the request was not sent" in reply.json()["msg"]
