"""WebSocket order ops get client order ids and are de-duplicated like REST ones."""

from __future__ import annotations

import json
from pathlib import Path

from signproxy.emulator import EmulatorState
from signproxy.emulator.ws import EMULATOR_WS
from tests.conftest import Harness, MakeProxy
from tests.once.test_exactly_once import journal_rows

LOGIN = json.dumps(
    {"op": "login", "args": [{"apiKey": "x", "passphrase": "x", "timestamp": "1", "sign": "x"}]}
)
ORDER = {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "market", "sz": "1"}


def ws_url(proxy: Harness) -> str:
    """The proxy's private WebSocket URL."""
    return "ws" + proxy.base.removeprefix("http") + "/ws/v5/private"


def sent_ops(emulator_server: object) -> list[dict]:
    """The order ops OKX's emulator received."""
    frames = emulator_server.app[EMULATOR_WS].connections[-1].received  # type: ignore[attr-defined]
    return [json.loads(f) for f in frames if f.startswith("{") and '"op":"order"' in f]


async def test_ws_order_without_clordid_gets_the_proxy_id(
    make_proxy: MakeProxy, emulator: EmulatorState, emulator_server: object, tmp_path: Path
) -> None:
    """A WebSocket order op without clOrdId reaches OKX with the proxy's id, and is journalled."""
    journal = tmp_path / "journal.sqlite"
    proxy = await make_proxy(SIGNPROXY_CLORDID_PREFIX="ws9", SIGNPROXY_JOURNAL=str(journal))
    async with proxy.session.ws_connect(ws_url(proxy)) as ws:
        await ws.send_str(LOGIN)
        await ws.receive_json(timeout=5)
        await ws.send_str(json.dumps({"id": "1", "op": "order", "args": [ORDER]}))
        answer = await ws.receive_json(timeout=5)
    (op,) = sent_ops(emulator_server)
    cl_ord_id = op["args"][0]["clOrdId"]
    assert cl_ord_id.startswith("ws9")
    assert "expTime" in op
    assert answer["data"][0]["clOrdId"] == cl_ord_id
    assert emulator.all_orders()[0]["clOrdId"] == cl_ord_id
    (row,) = await journal_rows(journal, cl_ord_id)
    assert (row["transport"], row["ws_id"], row["outcome"]) == ("ws", "1", "ok")
    assert row["ord_id"] == answer["data"][0]["ordId"]


async def test_ws_retry_is_replayed_with_the_retrys_own_id(
    make_proxy: MakeProxy, emulator: EmulatorState, emulator_server: object
) -> None:
    """The same WebSocket order op sent again is answered from the first, carrying its own id."""
    proxy = await make_proxy()
    async with proxy.session.ws_connect(ws_url(proxy)) as ws:
        await ws.send_str(LOGIN)
        await ws.receive_json(timeout=5)
        op = {"op": "order", "args": [{**ORDER, "clOrdId": "ws1"}]}
        await ws.send_str(json.dumps({"id": "a", **op}))
        first = await ws.receive_json(timeout=5)
        await ws.send_str(json.dumps({"id": "b", **op}))
        second = await ws.receive_json(timeout=5)
    rest = await proxy.post("/api/v5/trade/order", json.dumps({**ORDER, "clOrdId": "ws1"}))
    assert (first["id"], second["id"], second["op"]) == ("a", "b", "order")
    assert second["data"][0]["ordId"] == first["data"][0]["ordId"]
    assert rest.headers["X-Signproxy-Replayed"] == "1"
    assert rest.json()["data"][0]["ordId"] == first["data"][0]["ordId"]
    assert "id" not in rest.json()
    assert len(sent_ops(emulator_server)) == 1
    assert len(emulator.all_orders()) == 1
