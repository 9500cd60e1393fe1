"""WebSocket relay end to end: a real aiohttp WebSocket client, the real proxy, the emulator."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer

from signproxy.emulator.ws import EMULATOR_WS, WsConnection, WsEmulatorState
from signproxy.okx.signing import Signer
from signproxy.proxy.app import create_app
from signproxy.settings.config import Settings
from signproxy.ws.policy import refuse_writes
from tests.conftest import Harness, MakeProxy, custom_ws_proxy
from tests.support.keys import ALL_SECRETS, DEMO_KEY, LIVE_KEY, account_env, env_for
from tests.support.logs import log_lines

DUMMY_LOGIN = json.dumps(
    {"op": "login", "args": [{"apiKey": "x", "passphrase": "x", "timestamp": "1", "sign": "x"}]}
)
SUBSCRIBE_ORDERS = '{"op":"subscribe","args":[{"channel":"orders","instType":"ANY"}]}'
ORDER = {
    "instId": "BTC-USDT",
    "tdMode": "cash",
    "side": "buy",
    "ordType": "limit",
    "px": "1",
    "sz": "1",
}


class OffsetClock:
    """The local clock moved by a fixed offset."""

    def __init__(self, offset_ms: int) -> None:
        self.offset_ms = offset_ms

    def now_ms(self) -> int:
        """The shifted time."""
        return time.time_ns() // 1_000_000 + self.offset_ms


@pytest.fixture
def ws_emulator(emulator_server: TestServer) -> WsEmulatorState:
    """The emulator's record of WebSocket connections."""
    assert emulator_server.app is not None
    return emulator_server.app[EMULATOR_WS]


def ws_url(base: str, channel: str = "private") -> str:
    return "ws" + base.removeprefix("http") + f"/ws/v5/{channel}"


async def connect(harness: Harness, channel: str = "private") -> aiohttp.ClientWebSocketResponse:
    return await harness.session.ws_connect(ws_url(harness.base, channel), autoclose=False)


async def text(ws: aiohttp.ClientWebSocketResponse) -> str:
    msg = await ws.receive(timeout=5)
    assert msg.type is WSMsgType.TEXT, msg
    return str(msg.data)


async def event(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    return dict(json.loads(await text(ws)))


async def upstream_of(ws_emulator: WsEmulatorState, index: int = -1) -> WsConnection:
    """The emulator's side of a connection (the proxy connects before it upgrades the client)."""
    assert ws_emulator.connections
    return ws_emulator.connections[index]


async def closed(conn: WsConnection) -> int | None:
    await asyncio.wait_for(conn.closed.wait(), 5)
    return conn.close_code


async def login(ws: aiohttp.ClientWebSocketResponse) -> None:
    await ws.send_str(DUMMY_LOGIN)
    assert (await event(ws))["code"] == "0"


async def test_dummy_login_is_replaced_by_a_signed_one(
    proxy: Harness, ws_emulator: WsEmulatorState
) -> None:
    """A login with dummy credentials reaches OKX as a valid login and OKX's success is relayed."""
    ws = await connect(proxy)
    await ws.send_str(DUMMY_LOGIN)
    answer = await event(ws)
    assert answer["event"] == "login"
    assert answer["code"] == "0"
    conn = await upstream_of(ws_emulator)
    assert conn.key == LIVE_KEY
    (sent,) = conn.logins
    arg = sent["args"][0]
    assert arg["apiKey"] == LIVE_KEY.api_key
    assert arg["passphrase"] == LIVE_KEY.passphrase
    assert isinstance(arg["timestamp"], str)
    assert abs(int(arg["timestamp"]) - time.time()) < 5
    assert DUMMY_LOGIN not in conn.received
    await ws.close()


async def test_a_login_without_args_is_replaced_too(
    proxy: Harness, ws_emulator: WsEmulatorState
) -> None:
    """A bare {"op":"login"} (no credentials at all) is signed by the proxy."""
    ws = await connect(proxy, "business")
    await ws.send_str('{"op":"login"}')
    assert (await event(ws))["code"] == "0"
    assert (await upstream_of(ws_emulator)).channel == "business"
    await ws.close()


async def test_login_is_signed_with_the_injected_clock(
    make_proxy: MakeProxy, ws_emulator: WsEmulatorState
) -> None:
    """The login timestamp comes from the clock given to create_app: 60 s off, OKX says 60006."""
    harness = await make_proxy(clock=OffsetClock(60_000))
    ws = await connect(harness)
    await ws.send_str(DUMMY_LOGIN)
    answer = await event(ws)
    assert answer["event"] == "error"
    assert answer["code"] == "60006"
    sent = (await upstream_of(ws_emulator)).logins[0]["args"][0]
    assert int(sent["timestamp"]) - time.time() > 50
    await ws.close()


async def test_demo_key_logs_in_with_its_own_credentials(
    make_proxy: MakeProxy, ws_emulator: WsEmulatorState
) -> None:
    """With a demo key the login carries the demo key (the host is the demo one in production)."""
    harness = await make_proxy(DEMO_KEY)
    ws = await connect(harness)
    await login(ws)
    assert (await upstream_of(ws_emulator)).key == DEMO_KEY
    await ws.close()


async def test_auto_login_logs_in_before_the_client_speaks(
    make_proxy: MakeProxy, ws_emulator: WsEmulatorState
) -> None:
    """SIGNPROXY_WS_AUTO_LOGIN=1: the client's first frame, a private subscribe, already works."""
    harness = await make_proxy(SIGNPROXY_WS_AUTO_LOGIN="1")
    ws = await connect(harness)
    await ws.send_str(SUBSCRIBE_ORDERS)  # sent at once; the proxy holds it until login is done
    answer = await event(ws)
    assert len(answer.pop("connId")) == 8
    assert answer == {"event": "login", "code": "0", "msg": ""}
    assert (await event(ws))["event"] == "subscribe"
    assert (await event(ws))["arg"]["channel"] == "orders"
    conn = await upstream_of(ws_emulator)
    assert len(conn.logins) == 1
    await ws.close()


async def test_auto_login_answers_a_later_client_login_locally(
    make_proxy: MakeProxy, ws_emulator: WsEmulatorState
) -> None:
    """After a successful auto-login, a client login gets the same success event without a new login."""
    harness = await make_proxy(SIGNPROXY_WS_AUTO_LOGIN="1")
    ws = await connect(harness)
    first = await text(ws)
    await ws.send_str(DUMMY_LOGIN)
    assert await text(ws) == first
    assert len((await upstream_of(ws_emulator)).logins) == 1
    await ws.close()


async def test_auto_login_skips_the_public_channel(
    make_proxy: MakeProxy, ws_emulator: WsEmulatorState
) -> None:
    """The public channel needs no login, so auto-login sends none there."""
    harness = await make_proxy(SIGNPROXY_WS_AUTO_LOGIN="1")
    ws = await connect(harness, "public")
    await ws.send_str("ping")
    assert await text(ws) == "pong"
    assert (await upstream_of(ws_emulator)).logins == []
    await ws.close()


async def test_frames_are_relayed_unchanged_both_ways(
    proxy: Harness, ws_emulator: WsEmulatorState
) -> None:
    """Text (odd spacing kept, non-JSON kept) and binary frames arrive unchanged and in order."""
    ws = await connect(proxy, "public")
    spaced = (
        '{ "op" : "subscribe",  "args" : [ { "channel" : "tickers", "instId" : "BTC-USDT" } ] }'
    )
    blob = bytes(range(256)) * 4
    await ws.send_str(spaced)
    await ws.send_bytes(blob)
    await ws.send_str("not json at all")
    assert (await event(ws))["event"] == "subscribe"
    push = await event(ws)
    assert push["arg"] == {"channel": "tickers", "instId": "BTC-USDT"}
    echoed = await ws.receive(timeout=5)
    assert echoed.type is WSMsgType.BINARY
    assert echoed.data == blob
    assert (await event(ws))["code"] == "60012"
    assert (await upstream_of(ws_emulator)).received == [spaced, blob, "not json at all"]
    await ws.close()


async def test_text_ping_is_relayed_and_answered_pong(
    proxy: Harness, ws_emulator: WsEmulatorState
) -> None:
    """The bot's text "ping" reaches OKX and OKX's "pong" comes back (not swallowed as heartbeat)."""
    ws = await connect(proxy)
    for _ in range(3):
        await ws.send_str("ping")
        assert await text(ws) == "pong"
    assert (await upstream_of(ws_emulator)).received == ["ping"] * 3
    await ws.close()


async def test_subscribe_is_confirmed_and_an_update_pushed(proxy: Harness) -> None:
    """After login, a subscribe to orders is confirmed and followed by a pushed orders message."""
    ws = await connect(proxy)
    await login(ws)
    await ws.send_str(SUBSCRIBE_ORDERS)
    confirmed = await event(ws)
    assert len(confirmed.pop("connId")) == 8
    assert confirmed == {"event": "subscribe", "arg": {"channel": "orders", "instType": "ANY"}}
    push = await event(ws)
    assert push["arg"]["channel"] == "orders"
    assert push["data"]
    await ws.close()


async def test_private_subscribe_without_login_is_refused_by_okx(proxy: Harness) -> None:
    """Without a login, OKX (the emulator) answers a private subscribe with 60011."""
    ws = await connect(proxy)
    await ws.send_str(SUBSCRIBE_ORDERS)
    assert (await event(ws))["code"] == "60011"
    await ws.close()


async def test_order_op_is_relayed_and_answered(proxy: Harness) -> None:
    """An order op goes through and OKX's op answer (and the orders push) come back."""
    ws = await connect(proxy)
    await login(ws)
    await ws.send_str(SUBSCRIBE_ORDERS)
    await event(ws)
    await event(ws)
    await ws.send_str(
        json.dumps({"id": "1512", "op": "order", "args": [{**ORDER, "clOrdId": "b1"}]})
    )
    answer = await event(ws)
    assert answer["id"] == "1512"
    assert answer["op"] == "order"
    assert answer["code"] == "0"
    (item,) = answer["data"]
    assert item["clOrdId"] == "b1"
    assert item["sCode"] == "0"
    assert {"inTime", "outTime"} <= answer.keys()
    update = await event(ws)
    assert update["data"][0]["ordId"] == item["ordId"]
    rest = await proxy.get(f"/api/v5/trade/order?instId=BTC-USDT&ordId={item['ordId']}")
    assert rest.json()["data"][0]["state"] == "live"
    await ws.close()


@pytest.mark.parametrize(
    ("client_code", "upstream_code"),
    [(1000, 1000), (1001, 1001), (4001, 4001), (1008, 1001)],
)
async def test_client_close_closes_upstream_promptly(
    proxy: Harness, ws_emulator: WsEmulatorState, client_code: int, upstream_code: int
) -> None:
    """A client close reaches OKX at once: 1000 and 3000-4999 as sent, anything else as 1001."""
    ws = await connect(proxy)
    await ws.send_str("ping")
    await text(ws)
    await ws.close(code=client_code)
    assert await closed(await upstream_of(ws_emulator)) == upstream_code


async def test_vanished_client_closes_upstream_promptly(
    proxy: Harness, ws_emulator: WsEmulatorState
) -> None:
    """A client whose TCP connection just ends (no close frame) gets its OKX connection closed with 1001."""
    port = proxy.proxy.port
    assert port is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        b"GET /ws/v5/private HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        b"Sec-WebSocket-Version: 13\r\n\r\n"
    )
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert head.startswith(b"HTTP/1.1 101")
    conn = await upstream_of(ws_emulator)
    writer.close()
    await writer.wait_closed()
    assert await closed(conn) == 1001


@pytest.mark.parametrize(("code", "reason"), [(1000, b""), (1001, b"maintenance"), (4004, b"idle")])
async def test_upstream_close_closes_the_client(
    proxy: Harness, ws_emulator: WsEmulatorState, code: int, reason: bytes
) -> None:
    """When OKX closes, the client gets the same close code and reason."""
    ws = await connect(proxy)
    conn = await upstream_of(ws_emulator)
    await conn.socket.close(code=code, message=reason)
    msg = await ws.receive(timeout=5)
    assert msg.type is WSMsgType.CLOSE
    assert msg.data == code
    assert msg.extra == reason.decode()


async def _raw_ws_server(behaviour: Callable[[asyncio.StreamWriter], Awaitable[None]]) -> str:
    """A TCP server on 127.0.0.1 that accepts the WebSocket handshake, then misbehaves."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        key = next(
            line.split(b":", 1)[1].strip()
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"sec-websocket-key:")
        )
        accept = base64.b64encode(
            hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest()  # noqa: S324
        )
        writer.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
        )
        await writer.drain()
        await behaviour(writer)

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    _SERVERS.append(server)
    return f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"


_SERVERS: list[asyncio.Server] = []


@pytest.fixture(autouse=True)
async def _close_raw_servers() -> AsyncIterator[None]:
    yield
    while _SERVERS:
        server = _SERVERS.pop()
        server.close()


async def test_upstream_connection_lost_gives_the_client_1014(make_proxy: MakeProxy) -> None:
    """OKX's connection dropping without a close frame closes the client with 1014 (bad gateway)."""

    async def drop(writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(0.1)
        writer.close()

    harness = await make_proxy(SIGNPROXY_WS_UPSTREAM=await _raw_ws_server(drop))
    ws = await connect(harness)
    msg = await ws.receive(timeout=5)
    assert msg.type is WSMsgType.CLOSE
    assert msg.data == 1014
    assert msg.extra.startswith("SPX301")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_unreachable_upstream_gives_a_clean_close(make_proxy: MakeProxy) -> None:
    """When OKX cannot be reached the client is upgraded and closed with 1014 and an SPX300 reason."""
    harness = await make_proxy(SIGNPROXY_WS_UPSTREAM=f"ws://127.0.0.1:{_closed_port()}")
    ws = await connect(harness)
    msg = await ws.receive(timeout=10)
    assert msg.type is WSMsgType.CLOSE
    assert msg.data == 1014
    assert msg.extra.startswith("SPX300: cannot connect to OKX")


async def test_upstream_rate_limit_gives_1013(
    make_proxy: MakeProxy, aiohttp_server: Callable[..., Awaitable[TestServer]]
) -> None:
    """OKX answering the upgrade with 429 (too many connections) closes the client with 1013."""

    async def too_many(_request: web.Request) -> web.Response:
        return web.Response(status=429)

    app = web.Application()
    app.router.add_get("/{tail:.*}", too_many)
    server = await aiohttp_server(app)
    harness = await make_proxy(SIGNPROXY_WS_UPSTREAM=f"ws://127.0.0.1:{server.port}")
    ws = await connect(harness)
    msg = await ws.receive(timeout=5)
    assert msg.data == 1013
    assert "HTTP 429" in msg.extra


async def test_oversized_client_message_closes_with_1009(
    make_proxy: MakeProxy, ws_emulator: WsEmulatorState
) -> None:
    """A client frame over SIGNPROXY_WS_MAX_MESSAGE_BYTES closes the client (1009) and OKX (1001)."""
    harness = await make_proxy(SIGNPROXY_WS_MAX_MESSAGE_BYTES="1024")
    ws = await connect(harness)
    await ws.send_str("x" * 2000)
    msg = await ws.receive(timeout=5)
    assert msg.type is WSMsgType.CLOSE
    assert msg.data == 1009
    assert await closed(await upstream_of(ws_emulator)) == 1001
    assert (await upstream_of(ws_emulator)).received == []


@pytest.mark.parametrize(
    "op",
    ["order", "batch-orders", "cancel-order", "amend-order", "mass-cancel", "sprd-order", "Order"],
)
async def test_read_only_check_refuses_order_ops(
    aiohttp_server: Callable[..., Awaitable[TestServer]],
    emulator_url: str,
    ws_emulator: WsEmulatorState,
    session: aiohttp.ClientSession,
    op: str,
) -> None:
    """With the read-only check an order op gets an OKX-shaped SPX710 error and never reaches OKX."""
    base = await custom_ws_proxy(aiohttp_server, emulator_url, op_check=refuse_writes)
    ws = await session.ws_connect(ws_url(base))
    await login(ws)
    await ws.send_str(json.dumps({"id": "77", "op": op, "args": [ORDER]}))
    answer = await event(ws)
    assert answer == {"id": "77", "op": op, "code": "SPX710", "msg": answer["msg"], "data": []}
    await ws.send_str(SUBSCRIBE_ORDERS)
    assert (await event(ws))["event"] == "subscribe"
    received = (await upstream_of(ws_emulator)).received
    assert len(received) == 2
    assert all('"order"' not in str(frame) for frame in received)
    await ws.close()


async def test_read_only_check_sees_escaped_ops(
    aiohttp_server: Callable[..., Awaitable[TestServer]],
    emulator_url: str,
    ws_emulator: WsEmulatorState,
    session: aiohttp.ClientSession,
) -> None:
    r"""An op spelled with a JSON escape ("\u006frder") is refused like "order"."""
    base = await custom_ws_proxy(aiohttp_server, emulator_url, op_check=refuse_writes)
    ws = await session.ws_connect(ws_url(base))
    await ws.send_str('{"id":"1","op":"\\u006frder","args":[]}')
    assert (await event(ws))["code"] == "SPX710"
    assert (await upstream_of(ws_emulator)).received == []
    await ws.close()


async def test_repeated_keys_are_refused(proxy: Harness, ws_emulator: WsEmulatorState) -> None:
    """A frame repeating a key ({"op":..,"op":..}) is refused with SPX711 and not forwarded."""
    ws = await connect(proxy)
    await ws.send_str('{"op":"subscribe","op":"order","args":[]}')
    answer = await event(ws)
    assert answer["event"] == "error"
    assert answer["code"] == "SPX711"
    assert (await upstream_of(ws_emulator)).received == []
    await ws.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def test_plain_http_to_a_ws_path_is_426(proxy: Harness) -> None:
    """A plain GET on /ws/v5/private gets 426 SPX701 in OKX's envelope."""
    reply = await proxy.get("/ws/v5/private")
    assert reply.status == 426
    assert reply.json()["code"] == "SPX701"


async def test_no_known_ws_host_refuses_with_spx700(make_proxy: MakeProxy) -> None:
    """With tr.okx.com (no confirmed WebSocket host) and no SIGNPROXY_WS_UPSTREAM, upgrades get 503 SPX700."""
    harness = await make_proxy(upstream="https://tr.okx.com")
    with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
        await connect(harness)
    assert caught.value.status == 503
    assert caught.value.headers is not None
    assert caught.value.headers["X-Signproxy-Error"] == "SPX700"


async def test_connection_limit(make_proxy: MakeProxy) -> None:
    """Over SIGNPROXY_WS_MAX_CONNECTIONS, an upgrade gets 503 SPX702; a freed slot is reusable."""
    harness = await make_proxy(SIGNPROXY_WS_MAX_CONNECTIONS="1")
    first = await connect(harness)
    with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
        await connect(harness)
    assert caught.value.status == 503
    await first.close()
    for _ in range(50):  # the slot is freed when the handler returns, just after the close
        await asyncio.sleep(0.02)
        try:
            again = await connect(harness)
        except aiohttp.WSServerHandshakeError:
            continue
        await again.close()
        break
    else:
        pytest.fail("the slot was never freed")


async def test_proxy_shutdown_closes_both_sides(
    make_proxy: MakeProxy, ws_emulator: WsEmulatorState
) -> None:
    """Stopping the proxy closes the client and OKX connections with 1001 (going away)."""
    harness = await make_proxy()
    ws = await harness.session.ws_connect(ws_url(harness.base))  # answers the close at once
    conn = await upstream_of(ws_emulator)
    stopping = asyncio.create_task(harness.proxy.close())
    msg = await ws.receive(timeout=5)
    assert msg.type is WSMsgType.CLOSE
    assert msg.data == 1001
    assert await closed(conn) == 1001
    await stopping


async def test_logs_have_one_line_per_open_close_and_login_and_no_secrets(
    proxy: Harness, ws_emulator: WsEmulatorState, log_output: io.StringIO
) -> None:
    """Open, login and close are logged with counts and codes; no key, passphrase, secret or sign."""
    ws = await connect(proxy)
    await login(ws)
    await ws.send_str("ping")
    await text(ws)
    await ws.close(code=1000)
    await closed(await upstream_of(ws_emulator))
    for _ in range(100):
        if "signproxy.ws_close" in log_output.getvalue():
            break
        await asyncio.sleep(0.01)
    lines = log_lines(log_output)
    events = [line["event"] for line in lines]
    assert events.count("signproxy.ws_open") == 1
    assert events.count("signproxy.ws_close") == 1
    (login_line,) = [line for line in lines if line["event"] == "signproxy.ws_login"]
    assert login_line["code"] == "0"
    assert login_line["source"] == "client"
    (close_line,) = [line for line in lines if line["event"] == "signproxy.ws_close"]
    assert close_line["channel"] == "private"
    assert close_line["from_client"] == 1  # the ping; the login is counted under logins
    assert close_line["to_client"] == 2
    assert close_line["logins"] == 1
    assert close_line["client_code"] == 1000
    assert close_line["upstream_code"] == 1000
    assert close_line["duration_ms"] > 0
    sign = (await upstream_of(ws_emulator)).logins[0]["args"][0]["sign"]
    captured = log_output.getvalue()
    for secret in (*ALL_SECRETS, sign):
        assert secret not in captured


def _login_args(key: Any = LIVE_KEY, *, offset_s: int = 0, **override: Any) -> dict[str, Any]:
    timestamp = str(int(time.time()) + offset_s)
    args = {
        "apiKey": key.api_key,
        "passphrase": key.passphrase,
        "timestamp": timestamp,
        "sign": Signer(key.secret).sign_ws_login(timestamp),
    }
    return {**args, **override}


def _int_timestamp() -> dict[str, Any]:
    args = _login_args()
    return {**args, "timestamp": int(args["timestamp"])}


@pytest.mark.parametrize(
    ("make_args", "code"),
    [
        (_login_args, "0"),
        (_int_timestamp, "0"),
        (lambda: _login_args(offset_s=-40), "60006"),
        (lambda: _login_args(offset_s=40), "60006"),
        (lambda: _login_args(timestamp="2020-12-08T09:08:57.715Z"), "60004"),
        (lambda: _login_args(apiKey="no-such-key"), "60005"),
        (lambda: _login_args(passphrase="wrong"), "60024"),
        (lambda: _login_args(sign="AAAA"), "60007"),
        (lambda: _login_args(DEMO_KEY, sign=_login_args()["sign"]), "60007"),
        (lambda: None, "60009"),
    ],
    ids=[
        "ok",
        "int-timestamp",
        "expired",
        "future",
        "iso",
        "key",
        "passphrase",
        "sign",
        "other-secret",
        "no-args",
    ],
)
async def test_emulator_verifies_logins_like_okx(
    emulator_url: str, session: aiohttp.ClientSession, make_args: Callable[[], Any], code: str
) -> None:
    """The emulator's WebSocket login checks key, passphrase, sign and the 30 s window with OKX's codes."""
    ws = await session.ws_connect(ws_url(emulator_url))
    request: dict[str, Any] = {"op": "login"}
    args = make_args()
    if args is not None:
        request["args"] = [args]
    await ws.send_str(json.dumps(request))
    answer = await event(ws)
    assert answer["code"] == code
    assert answer["event"] == ("login" if code == "0" else "error")
    await ws.close()


@pytest.fixture
async def production_proxy(
    emulator_url: str,
    log_output: io.StringIO,  # noqa: ARG001 - logging must be configured before the app is built
) -> AsyncIterator[str]:
    """The proxy under a plain AppRunner, as `signproxy serve` runs it (no handler cancellation)."""
    runner = web.AppRunner(create_app(Settings.from_env(env_for(LIVE_KEY, emulator_url))))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    yield f"http://{host}:{port}"
    await runner.cleanup()


@pytest.mark.parametrize("end", ["close-frame", "vanished"])
async def test_close_propagation_as_served_by_the_cli(
    production_proxy: str,
    ws_emulator: WsEmulatorState,
    session: aiohttp.ClientSession,
    log_output: io.StringIO,
    end: str,
) -> None:
    """Under the CLI's runner too, a client's close (or disappearance) closes OKX's side at once and is logged."""
    ws = await session.ws_connect(ws_url(production_proxy))
    await login(ws)
    conn = await upstream_of(ws_emulator)
    if end == "vanished":
        transport = ws._response.connection.transport if ws._response.connection else None
        assert transport is not None
        transport.abort()
        expected = 1001
    else:
        await ws.close(code=4002)
        expected = 4002
    assert await closed(conn) == expected
    for _ in range(100):
        if "signproxy.ws_close" in log_output.getvalue():
            break
        await asyncio.sleep(0.01)
    (line,) = log_lines(log_output, "signproxy.ws_close")
    assert line["ended_by"] == "client"
    assert line["upstream_code"] == expected


async def test_silent_client_is_dropped_by_heartbeat(
    aiohttp_server: Callable[..., Awaitable[TestServer]],
    emulator_url: str,
    ws_emulator: WsEmulatorState,
) -> None:
    """A client that stops answering protocol pings (half-open TCP) is dropped, and OKX's side with it."""
    base = await custom_ws_proxy(aiohttp_server, emulator_url, heartbeat=0.2)
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        b"GET /ws/v5/public HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        b"Sec-WebSocket-Version: 13\r\n\r\n"
    )
    await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    conn = await upstream_of(ws_emulator)
    try:
        assert await closed(conn) == 1001  # this client never reads nor answers the pings
    finally:
        writer.close()


async def test_read_only_setting_refuses_ws_order_ops(
    make_proxy: MakeProxy, ws_emulator: WsEmulatorState
) -> None:
    """SIGNPROXY_READ_ONLY=1 applies to WebSockets too: an order op gets SPX710 and never reaches OKX."""
    harness = await make_proxy(SIGNPROXY_READ_ONLY="1")
    ws = await connect(harness)
    await login(ws)
    await ws.send_str(json.dumps({"id": "9", "op": "order", "args": [ORDER]}))
    answer = await event(ws)
    assert (answer["id"], answer["code"]) == ("9", "SPX710")
    received = (await upstream_of(ws_emulator)).received
    assert all('"order"' not in str(frame) for frame in received)
    await ws.close()


async def test_metrics_count_open_websockets(proxy: Harness, ws_emulator: WsEmulatorState) -> None:
    """signproxy_websocket_connections follows the connections the proxy relays."""

    async def gauge() -> float:
        text = (await proxy.get("/-/metrics")).body.decode()
        (line,) = [
            row for row in text.splitlines() if row.startswith("signproxy_websocket_connections ")
        ]
        return float(line.split()[1])

    assert await gauge() == 0
    ws = await connect(proxy)
    await login(ws)
    assert await gauge() == 1
    await ws.close()
    upstream = await upstream_of(ws_emulator)
    await closed(upstream)
    for _ in range(100):  # bounded wait for the relay to finish its bookkeeping
        if await gauge() == 0:
            break
        await asyncio.sleep(0.01)
    assert await gauge() == 0


TOKEN_PAPER = "tok-paper-0123456789abcdefghij"
TOKEN_LIVE = "tok-live-ZYXWVUTSRQPONMLKJIHGF"


async def accounts_proxy(proxy_from_env, emulator_url: str, **extra: str) -> Harness:
    """A proxy with two named accounts, `paper` (demo key) and `live` (live key), on the emulator."""
    return await proxy_from_env(
        {
            "SIGNPROXY_ACCOUNTS": "paper,live",
            "SIGNPROXY_UPSTREAM": emulator_url,
            "SIGNPROXY_ALLOW_CUSTOM_UPSTREAM": "1",
            **account_env("paper", DEMO_KEY),
            **account_env("live", LIVE_KEY),
            **extra,
        }
    )


@pytest.mark.parametrize(
    ("how", "key"),
    [("prefix-paper", DEMO_KEY), ("prefix-live", LIVE_KEY), ("header-paper", DEMO_KEY)],
)
async def test_ws_account_is_selected_like_rest(
    proxy_from_env, emulator_url: str, ws_emulator: WsEmulatorState, how: str, key
) -> None:
    """The /a/<name>/ prefix or X-Signproxy-Account picks the account a WebSocket logs in with."""
    harness = await accounts_proxy(proxy_from_env, emulator_url)
    kind, name = how.split("-")
    base = "ws" + harness.base.removeprefix("http")
    if kind == "prefix":
        ws = await harness.session.ws_connect(f"{base}/a/{name}/ws/v5/private", autoclose=False)
    else:
        ws = await harness.session.ws_connect(
            f"{base}/ws/v5/private", headers={"X-Signproxy-Account": name}, autoclose=False
        )
    await login(ws)
    conn = await upstream_of(ws_emulator)
    assert conn.key == key
    assert conn.logins[0]["args"][0]["apiKey"] == key.api_key
    await ws.close()


async def test_bound_token_cannot_reach_another_account_over_ws(
    proxy_from_env, emulator_url: str, ws_emulator: WsEmulatorState
) -> None:
    """A token bound to `paper` gets SPX601 for the `live` account's WebSocket; nothing reaches OKX."""
    harness = await accounts_proxy(
        proxy_from_env,
        emulator_url,
        SIGNPROXY_CLIENT_TOKENS=f"paper-bot:{TOKEN_PAPER}:paper,live-bot:{TOKEN_LIVE}:live",
    )
    base = "ws" + harness.base.removeprefix("http")
    auth = {"Authorization": f"Bearer {TOKEN_PAPER}"}
    for url, headers in (
        (f"{base}/a/live/ws/v5/private", auth),
        (f"{base}/ws/v5/private", {**auth, "X-Signproxy-Account": "live"}),
    ):
        with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
            await harness.session.ws_connect(url, headers=headers)
        assert caught.value.status == 403
        assert caught.value.headers is not None
        assert caught.value.headers["X-Signproxy-Error"] == "SPX601"
    assert ws_emulator.connections == []
    ws = await harness.session.ws_connect(f"{base}/ws/v5/private", headers=auth, autoclose=False)
    await login(ws)
    assert (await upstream_of(ws_emulator)).key == DEMO_KEY
    await ws.close()


async def test_deny_rule_also_covers_websocket_orders(
    make_proxy: MakeProxy, ws_emulator: WsEmulatorState
) -> None:
    """SIGNPROXY_DENY_ENDPOINTS on POST /api/v5/trade stops {"op":"order"} too; subscribing still works."""
    harness = await make_proxy(SIGNPROXY_DENY_ENDPOINTS="POST /api/v5/trade")
    ws = await connect(harness)
    await login(ws)
    for frame in (
        json.dumps({"id": "1", "op": "order", "args": [ORDER]}),
        json.dumps({"id": "2", "op": "some-new-op", "args": []}),
        "{'op': 'order', 'args': []}",
    ):
        await ws.send_str(frame)
        answer = await event(ws)
        assert answer["code"] == "SPX710", answer
    await ws.send_str(SUBSCRIBE_ORDERS)
    assert (await event(ws))["event"] == "subscribe"
    received = (await upstream_of(ws_emulator)).received
    assert all("order'" not in str(f) and '"op": "order"' not in str(f) for f in received)
    assert len(received) == 2  # the signed login and the subscribe
    await ws.close()


async def test_read_only_refuses_frames_it_cannot_parse(
    make_proxy: MakeProxy, ws_emulator: WsEmulatorState
) -> None:
    """In read-only mode a frame that is not a JSON object (single quotes, a BOM) is refused, not relayed; ping still works."""
    harness = await make_proxy(SIGNPROXY_READ_ONLY="1")
    ws = await connect(harness)
    for frame in ("{'op':'order','args':[]}", '\ufeff{"op":"order","args":[]}'):
        await ws.send_str(frame)
        assert (await event(ws))["code"] == "SPX710"
    await ws.send_str("ping")
    assert await text(ws) == "pong"
    assert (await upstream_of(ws_emulator)).received == ["ping"]
    await ws.close()


async def test_default_policy_relays_unparseable_frames(
    proxy: Harness, ws_emulator: WsEmulatorState
) -> None:
    """With no rule on the trading endpoints, frames the proxy cannot parse are relayed for OKX to answer."""
    ws = await connect(proxy)
    await ws.send_str("{'op':'subscribe'}")
    conn = await upstream_of(ws_emulator)
    for _ in range(100):  # bounded wait for the relay
        if conn.received:
            break
        await asyncio.sleep(0.01)
    assert conn.received == ["{'op':'subscribe'}"]
    await ws.close()
