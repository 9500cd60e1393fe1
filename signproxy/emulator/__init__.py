"""A local OKX v5 REST emulator that verifies every request the way OKX does.

Shipped in the package so bot authors can test offline too (``signproxy emulator``). It checks
the four ``OK-ACCESS-*`` headers, the key, passphrase and demo flag, a timestamp within 30 s of
its own clock, and the signature over the *raw* request target and *raw* body bytes it received.
It answers with OKX's error codes or canned OKX-shaped bodies, and records every request.

- :mod:`.auth`: the checks, in OKX's order; :mod:`.keys`: throwaway keys.
- :mod:`.endpoints`: the canned answers and the order book; :mod:`.orders`: an order's shape.
- :mod:`.strict`: where it is as strict as OKX (parameter types, clOrdId, unknown endpoints).
- :mod:`.market_data`: instruments and currencies; :mod:`.ws`: the private WebSocket.

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

from signproxy.emulator.auth import AuthFailure, EmulatedKey, SignedRequest, verify
from signproxy.emulator.endpoints import Book, Call, answer
from signproxy.emulator.faults import SERVER_ERROR, Fault, install_control, take
from signproxy.emulator.ws import install as install_ws

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


@dataclass
class EmulatorState:
    """Keys, clock and memory of one emulator instance."""

    keys: dict[str, EmulatedKey]
    clock_offset_ms: int = 0
    # Keys that exist on another OKX host (region): answered 50119, not 50111.
    elsewhere: frozenset[str] = frozenset()
    received: list[Received] = field(default_factory=list)
    # A long-running emulator (`signproxy serve --emulator`) keeps only the newest requests.
    max_received: int = 10_000
    # One order book per API key, as on OKX (demo and live never share orders); order ids come
    # from one counter, so they are unique across keys too.
    books: dict[str, Book] = field(default_factory=dict)
    _order_ids: itertools.count[int] = field(
        default_factory=lambda: itertools.count(612_000_000_000_000_000)
    )
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

    def now_ms(self) -> int:
        """The emulator's clock: the local clock plus ``clock_offset_ms``."""
        return time.time_ns() // 1_000_000 + self.clock_offset_ms


EMULATOR = web.AppKey("signproxy.emulator", EmulatorState)


def create_emulator_app(
    keys: Iterable[EmulatedKey],
    *,
    clock_offset_ms: int = 0,
    elsewhere: Iterable[EmulatedKey] = (),
) -> web.Application:
    """Build the emulator; its state (keys, received requests, orders) is ``app[EMULATOR]``.

    ``elsewhere``: keys of another region's host, which this one answers with 50119.
    """
    app = web.Application()
    state = EmulatorState(
        {key.api_key: key for key in keys},
        clock_offset_ms,
        elsewhere=frozenset(key.api_key for key in elsewhere),
    )
    app[EMULATOR] = state

    async def handle(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        fault = take(state.faults, request.method, request.path)
        if fault == "blackhole":  # recorded (for tests) but never processed nor answered
            state.received.append(
                Received(
                    request.method, request.raw_path, CIMultiDict(request.headers), body, 0, ""
                )
            )
            await asyncio.Event().wait()  # until the client goes away and aiohttp cancels us
        status, payload = _respond(state, request, body)
        code = str(payload.get("code", ""))
        state.received.append(
            Received(
                request.method, request.raw_path, CIMultiDict(request.headers), body, status, code
            )
        )
        if len(state.received) > state.max_received:
            del state.received[: len(state.received) - state.max_received]
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


def _respond(state: EmulatorState, request: web.Request, body: bytes) -> tuple[int, dict[str, Any]]:
    now_ms = state.now_ms()
    path = request.path
    signed = any(name.lower().startswith("ok-access-") for name in request.headers)
    if signed or not path.startswith(_PUBLIC_PREFIXES):
        seen = SignedRequest(
            request.method, request.raw_path, request.headers, body, request.remote or ""
        )
        outcome = verify(state.keys, seen, now_ms, state.elsewhere)
        if isinstance(outcome, AuthFailure):
            return outcome.status, {"msg": outcome.msg, "code": outcome.code}
        book, key = state.book_for(outcome.api_key), outcome
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
    call = Call(request.method, path, dict(request.query), parsed, now_ms, key)
    return answer(book, call)
