"""OKX's v5 WebSocket, emulated: login verified like OKX, subscribe, order ops, pushes.

Serves ``/ws/v5/{private,business,public}``. A login is checked against the emulator's keys and
clock: a timestamp in Unix seconds (an int or a string) within 30 s, the key, the passphrase and
``sign = Base64(HMAC-SHA256(secret, timestamp + "GET" + "/users/self/verify"))``, with OKX's codes
60009 / 60004 / 60006 / 60005 / 60024 / 60007. On the private and business paths every
subscribe and op needs a login first (60011). ``ping`` is answered ``pong``; a subscribe is
confirmed and followed by one pushed data message; order ops use the same order book as the
REST emulator and answer in OKX's op shape. Binary frames are echoed back (a test aid; OKX sends
none). Unlike OKX it never drops an idle connection. Every connection and frame is recorded.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import re
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from signproxy.emulator.auth import TIMESTAMP_WINDOW_MS, EmulatedKey
from signproxy.emulator.endpoints import Book
from signproxy.okx.orders import WS_OP_ENDPOINTS
from signproxy.okx.signing import Signer

if TYPE_CHECKING:
    from signproxy.emulator import EmulatorState

JsonObject = dict[str, Any]
ROUTE = "/ws/v5/{channel:(?:private|business|public)}"
_SECONDS = re.compile(r"\d{1,12}(?:\.\d{1,6})?")
_PLACE_OPS = frozenset({"order", "batch-orders", "sprd-order"})
_CANCEL_OPS = frozenset({"cancel-order", "batch-cancel-orders", "sprd-cancel-order"})
_AMEND_OPS = frozenset({"amend-order", "batch-amend-orders", "sprd-amend-order"})
_MASS_CANCEL_OPS = frozenset({"mass-cancel", "sprd-mass-cancel"})


@dataclass
class WsConnection:
    """One emulated connection: what it received and how it ended."""

    channel: str
    conn_id: str
    socket: web.WebSocketResponse
    received: list[str | bytes] = field(default_factory=list)
    logins: list[JsonObject] = field(default_factory=list)
    key: EmulatedKey | None = None
    subscriptions: list[JsonObject] = field(default_factory=list)
    close_code: int | None = None
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    remote: str = ""


@dataclass
class WsEmulatorState:
    """Every WebSocket connection the emulator accepted, in order."""

    connections: list[WsConnection] = field(default_factory=list)


EMULATOR_WS = web.AppKey("signproxy.emulator_ws", WsEmulatorState)


def verify_login(  # noqa: PLR0911 - one return per OKX error code, in OKX's order
    keys: dict[str, EmulatedKey], args: object, now_ms: int
) -> EmulatedKey | tuple[str, str]:
    """Check a login's ``args``: the key it proves, or OKX's error code and message."""
    if not isinstance(args, list) or len(args) != 1 or not isinstance(args[0], dict):
        return "60009", "Login failed."
    arg = args[0]
    api_key, passphrase, sign = arg.get("apiKey"), arg.get("passphrase"), arg.get("sign")
    timestamp = arg.get("timestamp")
    if not all(isinstance(value, str) and value for value in (api_key, passphrase, sign)):
        return "60009", "Login failed."
    if isinstance(timestamp, int) and not isinstance(timestamp, bool):
        timestamp = str(timestamp)
    if not isinstance(timestamp, str) or not _SECONDS.fullmatch(timestamp):
        return "60004", "Invalid timestamp"
    if abs(now_ms - float(timestamp) * 1000) > TIMESTAMP_WINDOW_MS:
        return "60006", "Timestamp request expired"
    key = keys.get(str(api_key))
    if key is None:
        return "60005", "Invalid apiKey"
    if not hmac.compare_digest(str(passphrase).encode(), key.passphrase.encode()):
        return "60024", "Wrong passphrase"
    expected = Signer(key.secret).sign_ws_login(timestamp)
    if not hmac.compare_digest(str(sign).encode(), expected.encode()):
        return "60007", "Invalid sign"
    return key


def install(app: web.Application, state: EmulatorState) -> WsEmulatorState:
    """Add the WebSocket routes to the emulator app (before its catch-all route)."""
    ws_state = WsEmulatorState()
    app[EMULATOR_WS] = ws_state

    async def handle(request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(autoping=True, compress=False)
        await socket.prepare(request)
        conn = WsConnection(
            request.match_info["channel"], secrets.token_hex(4), socket, remote=request.remote or ""
        )
        ws_state.connections.append(conn)
        try:
            async for msg in socket:
                if msg.type is WSMsgType.TEXT:
                    conn.received.append(msg.data)
                    for answer in _answer(state, conn, msg.data):
                        await socket.send_str(answer)
                elif msg.type is WSMsgType.BINARY:
                    conn.received.append(msg.data)
                    await socket.send_bytes(msg.data)
        finally:
            conn.close_code = socket.close_code
            conn.closed.set()
        return socket

    app.router.add_get(ROUTE, handle)
    return ws_state


def _dumps(value: JsonObject) -> str:
    return json.dumps(value, separators=(",", ":"))


def _answer(state: EmulatorState, conn: WsConnection, text: str) -> list[str]:  # noqa: PLR0911
    if text == "ping":
        return ["pong"]
    try:
        request = json.loads(text)
    except ValueError:
        request = None
    if not isinstance(request, dict):
        return [_error(conn, "60012", f"Invalid request: {text[:100]}")]
    op = request.get("op")
    if op == "login":
        conn.logins.append(request)
        outcome = verify_login(state.keys, request.get("args"), state.now_ms())
        if isinstance(outcome, tuple):
            return [_error(conn, *outcome)]
        conn.key = outcome
        return [_dumps({"event": "login", "code": "0", "msg": "", "connId": conn.conn_id})]
    if conn.channel != "public" and conn.key is None:
        return [_error(conn, "60011", "Please log in")]
    if op in ("subscribe", "unsubscribe"):
        return _subscribe(state, conn, str(op), request.get("args"))
    if isinstance(op, str) and op in _PLACE_OPS | _CANCEL_OPS | _AMEND_OPS | _MASS_CANCEL_OPS:
        return _order_op(state, conn, op, request)
    return [_error(conn, "60012", f"Invalid request: {text[:100]}")]


def _error(conn: WsConnection, code: str, msg: str) -> str:
    return _dumps({"event": "error", "code": code, "msg": msg, "connId": conn.conn_id})


def _subscribe(state: EmulatorState, conn: WsConnection, op: str, args: object) -> list[str]:
    if not isinstance(args, list) or not all(
        isinstance(a, dict) and a.get("channel") for a in args
    ):
        return [_error(conn, "60018", "Wrong URL or channel doesn't exist.")]
    answers = [_dumps({"event": op, "arg": arg, "connId": conn.conn_id}) for arg in args]
    if op == "subscribe":
        conn.subscriptions.extend(args)
        answers += [_push(state, conn, arg) for arg in args]
    return answers


def _book(state: EmulatorState, conn: WsConnection) -> Book:
    """The logged-in key's orders (order ops and the orders channel need a login first)."""
    return state.book_for(conn.key.api_key) if conn.key is not None else Book()


def _push(state: EmulatorState, conn: WsConnection, arg: JsonObject) -> str:
    now = str(state.now_ms())
    if arg.get("channel") == "orders":
        live = [o for o in _book(state, conn).orders.values() if o["state"] == "live"]
        data = live[-1:] or [{"instId": "BTC-USDT", "ordId": "0", "state": "live", "uTime": now}]
    else:
        data = [{"instId": arg.get("instId", ""), "last": "30000", "ts": now}]
    return _dumps({"arg": arg, "data": data})


def _order_op(state: EmulatorState, conn: WsConnection, op: str, request: JsonObject) -> list[str]:
    now_ms = state.now_ms()
    args = [a for a in request.get("args") or [] if isinstance(a, dict)]
    book = _book(state, conn)
    in_time = str(now_ms * 1000)
    endpoint = WS_OP_ENDPOINTS.get(op)
    refusal = (
        None
        if endpoint is None
        else state.limits.check(
            method="POST",
            path=endpoint.path,
            api_key=conn.key.api_key if conn.key is not None else None,
            remote=conn.remote,
            query={},
            body=args,
        )
    )
    if refusal is not None:
        _, body = refusal
        answer = {"id": request.get("id", ""), "op": op, **body}
        state.record_ws(op, body["code"])
        return [_dumps({**answer, "inTime": in_time, "outTime": in_time})]
    state.record_ws(op, "0")
    if op in _MASS_CANCEL_OPS:
        items: list[JsonObject] = [{"result": True}]
    elif op in _PLACE_OPS:
        items = [book.place(arg, now_ms) for arg in args]
    elif op in _CANCEL_OPS:
        items = [book.cancel(arg, now_ms) for arg in args]
    else:
        items = [_amend(book, arg, now_ms) for arg in args]
    failed = sum(1 for item in items if item.get("sCode", "0") != "0")
    code, msg = ("0", "") if not failed else ("1", "All operations failed")
    if failed and failed < len(items):
        code, msg = "2", "Batch operation partially succeeded"
    answer = {"id": request.get("id", ""), "op": op, "code": code, "msg": msg, "data": items}
    answers = [_dumps({**answer, "inTime": in_time, "outTime": in_time})]
    if op in _PLACE_OPS and any(s.get("channel") == "orders" for s in conn.subscriptions):
        orders = [book.orders[item["ordId"]] for item in items if item.get("sCode") == "0"]
        if orders:
            answers.append(
                _dumps({"arg": {"channel": "orders", "instType": "ANY"}, "data": orders})
            )
    return answers


def _amend(book: Book, arg: JsonObject, now_ms: int) -> JsonObject:
    order = book.find(arg)
    found = order is not None and order["state"] == "live"
    if order is not None and found:
        for name in ("newSz", "newPx"):
            if arg.get(name):
                order[name[3:].lower()] = str(arg[name])
        order["uTime"] = str(now_ms)
    return {
        "clOrdId": str(arg.get("clOrdId", "")),
        "ordId": str(arg.get("ordId", "")),
        "reqId": str(arg.get("reqId", "")),
        "ts": str(now_ms),
        "sCode": "0" if found else "51503",
        "sMsg": "" if found else "Order modification failed as the order does not exist.",
    }
