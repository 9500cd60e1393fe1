"""WebSocket order ops run the order stages and their outcomes are written like REST ones."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from multidict import CIMultiDict

from signproxy.emulator.ws import EMULATOR_WS, WsEmulatorState
from signproxy.errors import RequestRejected
from signproxy.proxy.outcome import Outcomes
from signproxy.proxy.pipeline import Next, Stage
from signproxy.proxy.record import Answer, Exchange
from tests.conftest import custom_ws_proxy
from tests.support.logs import log_lines

LOGIN = json.dumps(
    {"op": "login", "args": [{"apiKey": "x", "passphrase": "x", "timestamp": "1", "sign": "x"}]}
)
ORDER = {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "limit", "px": "1"}


class TooBig(RequestRejected):
    """A test refusal."""

    code = "SPX899"


class RefuseBigOrders(Stage):
    """Refuses any order over sz 10; records what it saw."""

    name = "test-refuse-big"

    def __init__(self) -> None:
        self.seen: list[Exchange] = []

    def check(self, exchange: Exchange) -> None:
        """Refuse big orders."""
        self.seen.append(exchange)
        if any(float(view.sz or 0) > 10 for view in exchange.orders):
            raise TooBig("order too big for this test")


class AddTag(Stage):
    """Replaces the payload with one whose orders carry a tag (as a new object)."""

    name = "test-add-tag"

    def check(self, exchange: Exchange) -> None:
        """Tag every order."""
        exchange.payload = [{**item, "tag": "viaProxy"} for item in exchange.payload]


class AnswerLocally(Stage):
    """Answers ops with clOrdId 'replay' itself, as a replay stage would."""

    name = "test-answer"

    async def run(self, exchange: Exchange, call_next: Next) -> Answer:
        """Answer 'replay' orders locally."""
        if exchange.orders and exchange.orders[0].cl_ord_id == "replay":
            body = json.dumps({"id": exchange.ws_id, "op": "order", "code": "0", "data": []})
            return Answer(200, CIMultiDict(), body.encode(), 0.0)
        return await call_next(exchange)


async def wait_for_lines(log_output, count: int) -> list[dict[str, Any]]:
    """The WebSocket ops' canonical lines, once there are ``count`` of them."""
    async with asyncio.timeout(5):
        while len(lines := ws_lines(log_output)) < count:  # noqa: ASYNC110 - polling the log
            await asyncio.sleep(0.01)
    return lines


def ws_lines(log_output) -> list[dict[str, Any]]:
    lines = log_lines(log_output, "signproxy.request")
    return [line for line in lines if line.get("transport") == "ws"]


@pytest.fixture
async def ws_proxy(aiohttp_server, emulator_url: str, log_output) -> tuple[str, RefuseBigOrders]:
    """A proxy whose WebSocket relay runs test stages over order ops, as create_app wires it."""
    del log_output  # configured before the app is built
    refuse = RefuseBigOrders()
    base = await custom_ws_proxy(
        aiohttp_server,
        emulator_url,
        order_stages=[refuse, AnswerLocally(), AddTag()],
        outcomes=Outcomes(),
    )
    return "ws" + base.removeprefix("http") + "/ws/v5/private", refuse


async def test_order_op_outcome_is_logged_when_okx_answers(proxy, log_output) -> None:
    """Through create_app: one canonical line per order op, with OKX's code and order ids."""
    async with proxy.session.ws_connect(
        "ws" + proxy.base.removeprefix("http") + "/ws/v5/private"
    ) as ws:
        await ws.send_str(LOGIN)
        await ws.receive_json(timeout=5)
        await ws.send_str(
            json.dumps({"id": "7", "op": "order", "args": [{**ORDER, "sz": "1", "clOrdId": "w1"}]})
        )
        answer = await ws.receive_json(timeout=5)
        [line] = await wait_for_lines(log_output, 1)
    assert answer["code"] == "0"
    assert line["path"] == "/api/v5/trade/order"
    assert (line["ws_id"], line["okx_code"], line["status"]) == ("7", "0", 200)
    assert line["orders"] == [{"ordId": answer["data"][0]["ordId"], "clOrdId": "w1", "sCode": "0"}]


async def test_a_refused_op_gets_an_error_frame_and_never_reaches_okx(
    ws_proxy, emulator_server, log_output, session_ws
) -> None:
    """A stage's refusal: OKX-shaped error with the op's id and SPX code; OKX sees nothing."""
    url, refuse = ws_proxy
    ws = await session_ws(url)
    await ws.send_str(
        json.dumps(
            {"id": "9", "op": "batch-orders", "args": [{**ORDER, "sz": "1"}, {**ORDER, "sz": "99"}]}
        )
    )
    answer = await ws.receive_json(timeout=5)
    assert answer == {
        "id": "9",
        "op": "batch-orders",
        "code": "SPX899",
        "msg": "order too big for this test",
        "data": [],
    }
    [seen] = refuse.seen
    assert [view.sz for view in seen.orders] == ["1", "99"]
    ws_state: WsEmulatorState = emulator_server.app[EMULATOR_WS]
    assert not any("batch-orders" in str(frame) for frame in ws_state.connections[-1].received)
    [line] = await wait_for_lines(log_output, 1)
    assert (line["error"], line["level"]) == ("SPX899", "warning")


async def test_changed_payload_is_sent_and_a_local_answer_is_relayed(
    ws_proxy, emulator_server, session_ws
) -> None:
    """A stage's new payload reaches OKX; a stage's own answer goes to the client unsent."""
    url, _ = ws_proxy
    ws = await session_ws(url)
    await ws.send_str(LOGIN)
    await ws.receive_json(timeout=5)
    await ws.send_str(
        json.dumps({"id": "1", "op": "order", "args": [{**ORDER, "sz": "1", "clOrdId": "t1"}]})
    )
    assert (await ws.receive_json(timeout=5))["code"] == "0"
    await ws.send_str(
        json.dumps({"id": "2", "op": "order", "args": [{**ORDER, "sz": "1", "clOrdId": "replay"}]})
    )
    assert await ws.receive_json(timeout=5) == {"id": "2", "op": "order", "code": "0", "data": []}
    received = [
        json.loads(frame)
        for frame in emulator_server.app[EMULATOR_WS].connections[-1].received
        if frame.startswith("{")
    ]
    orders = [frame for frame in received if frame.get("op") == "order"]
    assert [frame["args"][0]["tag"] for frame in orders] == ["viaProxy"]


async def test_unanswered_ops_are_recorded_unknown_when_the_connection_ends(
    ws_proxy, emulator_server, log_output, session_ws
) -> None:
    """An op OKX never answered (not logged in: OKX drops it) is written with outcome unknown."""
    url, _ = ws_proxy
    ws_state: WsEmulatorState = emulator_server.app[EMULATOR_WS]
    ws = await session_ws(url)
    ws_state.connections[-1].received.clear()
    await ws.send_str(json.dumps({"id": "5", "op": "order", "args": [{**ORDER, "sz": "1"}]}))
    await ws.receive_json(timeout=5)  # OKX's refusal event (not logged in): has no id
    await ws.close()
    [line] = await wait_for_lines(log_output, 1)
    assert (line["ws_id"], line["error"]) == ("5", "SPX301")


@pytest.fixture
async def session_ws() -> AsyncIterator[Any]:
    """Open client WebSockets; all closed at the end."""
    async with aiohttp.ClientSession() as session:
        sockets: list[aiohttp.ClientWebSocketResponse] = []

        async def connect(url: str) -> aiohttp.ClientWebSocketResponse:
            ws = await session.ws_connect(url)
            sockets.append(ws)
            return ws

        yield connect
        for ws in sockets:
            await ws.close()
