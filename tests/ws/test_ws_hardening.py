"""WebSocket hardening: origins need their own list, frames a strict shape, paths no encoding."""

from __future__ import annotations

import json

import aiohttp
import pytest
from aiohttp import WSMsgType
from yarl import URL

from signproxy.emulator.ws import EMULATOR_WS, WsEmulatorState
from tests.conftest import Harness, MakeProxy

PAGE = "https://app.example"
ORDER = {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "limit", "sz": "1"}


@pytest.fixture
def ws_emulator(emulator_server) -> WsEmulatorState:
    """The emulator's record of WebSocket connections."""
    return emulator_server.app[EMULATOR_WS]


def _ws(harness: Harness, path: str = "/ws/v5/private") -> URL:
    return URL("ws" + harness.base.removeprefix("http") + path, encoded=True)


async def _status(harness: Harness, path: str, **headers: str) -> int:
    try:
        ws = await harness.session.ws_connect(_ws(harness, path), headers=headers)
    except aiohttp.WSServerHandshakeError as exc:
        return exc.status
    await ws.close()
    return 101


async def test_allowed_rest_origin_cannot_open_a_websocket(make_proxy: MakeProxy) -> None:
    """An Origin in SIGNPROXY_ALLOWED_ORIGINS may call REST but not open a WebSocket."""
    proxy = await make_proxy(SIGNPROXY_ALLOWED_ORIGINS=PAGE)
    assert await _status(proxy, "/ws/v5/private", Origin=PAGE) == 403
    assert (await proxy.get("/api/v5/account/balance", headers={"Origin": PAGE})).status == 200


async def test_websocket_origin_list_is_separate(make_proxy: MakeProxy) -> None:
    """SIGNPROXY_WS_ALLOWED_ORIGINS admits the page's WebSocket only, not its REST calls."""
    proxy = await make_proxy(SIGNPROXY_WS_ALLOWED_ORIGINS=PAGE)
    assert await _status(proxy, "/ws/v5/private", Origin=PAGE) == 101
    assert await _status(proxy, "/ws/v5/private", Origin="https://other.example") == 403
    assert await _status(proxy, "/ws/v5/private") == 101  # a program sends no Origin
    rest = await proxy.get("/api/v5/account/balance", headers={"Origin": PAGE})
    assert rest.status == 403


@pytest.mark.parametrize("path", ["/%61/default/ws/v5/private", "/ws/v5/%70rivate"])
async def test_percent_encoded_websocket_paths_are_refused(
    make_proxy: MakeProxy, ws_emulator: WsEmulatorState, path: str
) -> None:
    """An encoded account prefix or channel is refused (400) before OKX is reached, as on REST."""
    proxy = await make_proxy()
    assert await _status(proxy, path) == 400
    assert ws_emulator.connections == []


@pytest.mark.parametrize(
    "frame",
    [
        {"OP": "order", "args": [ORDER]},
        {"op": "subscribe", "Op": "order", "args": [ORDER]},
        {"o_p": "order", "args": [ORDER]},
        {"o-p": "order", "args": [ORDER]},
        {"op": ["order"], "args": [ORDER]},
    ],
)
@pytest.mark.parametrize(
    "env",
    [{}, {"SIGNPROXY_READ_ONLY": "1"}, {"SIGNPROXY_DENY_ENDPOINTS": "POST /api/v5/trade"}],
)
async def test_frames_outside_the_known_shape_are_refused(
    make_proxy: MakeProxy, ws_emulator: WsEmulatorState, frame: dict, env: dict
) -> None:
    """Unknown top-level keys or a non-string op are refused (SPX712) in every mode, not relayed."""
    proxy = await make_proxy(**env)
    ws = await proxy.session.ws_connect(_ws(proxy))
    await ws.send_str(json.dumps(frame))
    answer = await ws.receive(timeout=5)
    assert answer.type is WSMsgType.TEXT
    assert json.loads(answer.data)["code"] == "SPX712"
    await ws.send_str("ping")
    assert (await ws.receive(timeout=5)).data == "pong"
    assert ws_emulator.connections[-1].received == ["ping"]
    await ws.close()
