"""A local OKX v5 REST emulator that verifies every request the way OKX does.

Shipped in the package so bot authors can test offline too (``signproxy emulator``). It checks
the four ``OK-ACCESS-*`` headers, the key, passphrase and demo flag, a timestamp within 30 s of
its own clock, and the signature over the *raw* request target and *raw* body bytes it received.
It answers with OKX's error codes or canned OKX-shaped bodies, and records every request.

- :mod:`.auth`: the checks, in OKX's order; :mod:`.keys`: throwaway keys.
- :mod:`.endpoints`: the canned answers and the order book; :mod:`.orders`: an order's shape.
- :mod:`.strict`: where it is as strict as OKX (parameter types, clOrdId, unknown endpoints).
- :mod:`.market_data`: instruments and currencies; :mod:`.ws`: the private WebSocket.
- :mod:`.pending`: pending orders (paged), algo orders, cancel-all-after's countdown.

What it does not emulate is listed in docs/emulator.md.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web
from multidict import CIMultiDict

from signproxy.emulator import pending
from signproxy.emulator.auth import AuthFailure, EmulatedKey, SignedRequest, verify
from signproxy.emulator.endpoints import Book, Call, answer, ok
from signproxy.emulator.faults import SERVER_ERROR, Fault, install_control, take
from signproxy.emulator.limits import EmulatedLimits
from signproxy.emulator.ws import install as install_ws
from signproxy.okx.rate_limits import ACCOUNT_RATE_LIMIT_PATH

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "EMULATOR",
    "EmulatedKey",
    "EmulatorState",
    "Fault",
    "Received",
    "create_emulator_app",
]

# OKX serves these without authentication, but verifies a signature if one is sent.
_PUBLIC_PREFIXES = ("/api/v5/public/", "/api/v5/market/")


@dataclass(frozen=True, slots=True)
class Received:
    """One request as the emulator saw it on the wire, and how it answered."""

    method: str
    target: str
    headers: CIMultiDict[str]
    body: bytes
    status: int
    code: str
    at: float = 0.0  # when it arrived (time.time(), seconds): rate-limit tests read it


@dataclass
class EmulatorState:
    """Keys, clock and memory of one emulator instance."""

    keys: dict[str, EmulatedKey]
    clock_offset_ms: int = 0
    # Keys that exist on another OKX host (region): answered 50119, not 50111.
    elsewhere: frozenset[str] = frozenset()
    received: list[Received] = field(default_factory=list)
    ws_ops: list[Received] = field(default_factory=list)  # WebSocket order ops, with their code
    # A long-running emulator (`signproxy serve --emulator`) keeps only the newest requests.
    max_received: int = 10_000
    # cancel-all-after's countdown runs this many times faster than the clock (tests).
    countdown_scale: float = 1.0
    # One order book per API key, as on OKX (demo and live never share orders); order ids come
    # from one counter, so they are unique across keys too.
    books: dict[str, Book] = field(default_factory=dict)
    _order_ids: itertools.count[int] = field(
        default_factory=lambda: itertools.count(612_000_000_000_000_000)
    )
    # OKX's rate limits, enforced like OKX (50011 / 50061).
    limits: EmulatedLimits = field(default_factory=EmulatedLimits)
    # Faults to inject, first match first (see emulator/faults.py).
    faults: list[Fault] = field(default_factory=list)

    def book_for(self, api_key: str) -> Book:
        """The orders of ``api_key``."""
        book = self.books.get(api_key)
        if book is None:
            book = self.books[api_key] = Book(_ids=self._order_ids)
        return book

    def all_orders(self) -> list[dict[str, Any]]:
        """Every key's orders, oldest first within each key (for tests)."""
        return [order for book in self.books.values() for order in book.orders.values()]

    def record(self, received: Received) -> None:
        """Remember one request (only the newest ``max_received``)."""
        self.received.append(received)
        if len(self.received) > self.max_received:
            del self.received[: len(self.received) - self.max_received]

    def record_ws(self, op: str, code: str) -> None:
        """Remember one WebSocket order op in :attr:`ws_ops`, as method ``WS`` and target ``op``."""
        self.ws_ops.append(Received("WS", op, CIMultiDict(), b"", 200, code, time.time()))
        if len(self.ws_ops) > self.max_received:
            del self.ws_ops[: len(self.ws_ops) - self.max_received]

    def now_ms(self) -> int:
        """The emulator's clock: the local clock plus ``clock_offset_ms``."""
        return time.time_ns() // 1_000_000 + self.clock_offset_ms


EMULATOR = web.AppKey("signproxy.emulator", EmulatorState)


def create_emulator_app(
    keys: Iterable[EmulatedKey],
    *,
    clock_offset_ms: int = 0,
    elsewhere: Iterable[EmulatedKey] = (),
    rate_limits: bool = True,
) -> web.Application:
    """Build the emulator; its state (keys, received requests, orders) is ``app[EMULATOR]``.

    ``elsewhere``: keys of another region's host, which this one answers with 50119.
    ``rate_limits``: answer 50011 / 50061 like OKX when a budget is exhausted.
    """
    app = web.Application()
    state = EmulatorState(
        {key.api_key: key for key in keys},
        clock_offset_ms,
        elsewhere=frozenset(key.api_key for key in elsewhere),
    )
    state.limits.enabled = rate_limits
    app[EMULATOR] = state

    async def handle(request: web.Request) -> web.StreamResponse:
        at = time.time()
        body = await request.read()
        fault = take(state.faults, request.method, request.path)
        if fault == "blackhole":  # recorded (for tests) but never processed nor answered
            headers = CIMultiDict(request.headers)
            state.record(Received(request.method, request.raw_path, headers, body, 0, "", at))
            await asyncio.Event().wait()  # until the client goes away and aiohttp cancels us
        status, payload = _respond(state, request, body, at)
        code = str(payload.get("code", ""))
        state.record(
            Received(
                request.method,
                request.raw_path,
                CIMultiDict(request.headers),
                body,
                status,
                code,
                at,
            )
        )
        if fault == "drop":
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError  # nothing more to do for this connection
        if fault == "hold":
            await asyncio.Event().wait()
        if fault == "error500":
            return web.json_response(SERVER_ERROR, status=500)
        return web.json_response(payload, status=status)

    install_ws(app, state)
    install_control(app, state)
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


def _respond(  # noqa: PLR0911 - one return per OKX refusal, in OKX's order
    state: EmulatorState, request: web.Request, body: bytes, at: float
) -> tuple[int, dict[str, Any]]:
    now_ms = state.now_ms()
    path = request.path
    signed = any(name.lower().startswith("ok-access-") for name in request.headers)
    api_key: str | None = None
    if signed or not path.startswith(_PUBLIC_PREFIXES):
        seen = SignedRequest(
            request.method, request.raw_path, request.headers, body, request.remote or ""
        )
        outcome = verify(state.keys, seen, now_ms, state.elsewhere)
        if isinstance(outcome, AuthFailure):
            return outcome.status, {"msg": outcome.msg, "code": outcome.code}
        api_key = outcome.api_key
        book, key = state.book_for(api_key), outcome
    else:
        book, key = Book(), None  # an unsigned public call: no account, no orders
    parsed: Any = None
    if request.method == "POST":
        if not body:
            return 400, {
                "code": "50000",
                "msg": "Body for POST request cannot be empty.",
                "data": [],
            }
        if request.content_type != "application/json":
            return 400, {
                "code": "50006",
                "msg": "Invalid Content-Type, please use application/json format",
                "data": [],
            }
        try:
            parsed = json.loads(body)
        except ValueError:
            return 400, {"code": "50002", "msg": "Json data format error", "data": []}
    refusal = state.limits.check(
        method=request.method,
        path=path,
        api_key=api_key,
        remote=request.remote or "",
        query=request.query,
        body=parsed,
        at=at,
    )
    if refusal is not None:
        return refusal
    if api_key is not None and path == ACCOUNT_RATE_LIMIT_PATH:
        return ok([state.limits.account_rate_limit(api_key, now_ms)])
    call = Call(request.method, path, dict(request.query), parsed, now_ms, key)
    if call.method == "POST" and path == pending.CANCEL_ALL_AFTER:
        return pending.cancel_all_after(book, call, state.countdown_scale)
    return answer(book, call)
