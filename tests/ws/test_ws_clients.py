"""Real WebSocket client libraries against the proxy: `websockets`, and python-okx's WsPrivateAsync.

Both come with python-okx (a test dependency on main); the module is skipped where it is missing.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from tests.conftest import Harness

websockets = pytest.importorskip("websockets")
ws_private = pytest.importorskip("okx.websocket.WsPrivateAsync")

ORDER = {
    "instId": "BTC-USDT",
    "tdMode": "cash",
    "side": "buy",
    "ordType": "limit",
    "px": "1",
    "sz": "1",
}


def ws_base(harness: Harness) -> str:
    return "ws" + harness.base.removeprefix("http")


class PlainFactory:
    """docs/websocket.md's replacement for python-okx's WebSocketFactory (no TLS context for ws://)."""

    def __init__(self, url: str) -> None:
        self.url, self.websocket = url, None

    async def connect(self) -> Any:
        """Connect without TLS."""
        self.websocket = await websockets.connect(self.url)
        return self.websocket

    async def close(self) -> None:
        """Close, if connected."""
        if self.websocket:
            await self.websocket.close()
            self.websocket = None


async def test_plain_websockets_client_logs_in_and_subscribes(proxy: Harness) -> None:
    """docs/websocket.md's plain `websockets` recipe: dummy login answered code 0, subscribe confirmed, ping/pong."""
    async with websockets.connect(ws_base(proxy) + "/ws/v5/private") as ws:
        await ws.send(
            json.dumps(
                {
                    "op": "login",
                    "args": [{"apiKey": "x", "passphrase": "x", "timestamp": "0", "sign": "x"}],
                }
            )
        )
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))["code"] == "0"
        await ws.send(
            json.dumps({"op": "subscribe", "args": [{"channel": "orders", "instType": "ANY"}]})
        )
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))["event"] == "subscribe"
        await asyncio.wait_for(ws.recv(), 5)  # the pushed update
        await ws.send("ping")
        assert await asyncio.wait_for(ws.recv(), 5) == "pong"


async def test_python_okx_default_factory_cannot_use_ws_urls(proxy: Harness) -> None:
    """python-okx's own factory always passes a TLS context, so ws:// leaves it without a connection."""
    client = ws_private.WsPrivateAsync(
        apiKey="x", passphrase="x", secretKey="x", url=ws_base(proxy) + "/ws/v5/private"
    )
    await client.connect()
    assert client.websocket is None


async def test_python_okx_with_plain_factory_logs_in_and_orders(proxy: Harness) -> None:
    """python-okx's WsPrivateAsync with docs/websocket.md's factory: its dummy login is replaced, and an order op works."""
    got: list[str] = []
    client = ws_private.WsPrivateAsync(
        apiKey="x", passphrase="x", secretKey="x", url=ws_base(proxy) + "/ws/v5/private"
    )
    client.factory = PlainFactory(client.url)
    await client.start()
    client.callback = got.append
    await client.login()
    await client.place_order([ORDER], callback=got.append, id="7")
    for _ in range(200):
        if len(got) >= 2:
            break
        await asyncio.sleep(0.01)
    await client.stop()
    login, order = (json.loads(message) for message in got[:2])
    assert login["event"] == "login"
    assert login["code"] == "0"
    assert order["id"] == "7"
    assert order["code"] == "0"
    assert order["data"][0]["sCode"] == "0"
