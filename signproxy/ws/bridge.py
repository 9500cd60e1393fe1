"""One client WebSocket bridged to one OKX WebSocket: frames both ways, logins, and closes.

Two pumps, one per direction, each relaying frames in order; a pump waits while its
destination's socket buffer is full, so a slow reader slows its source instead of filling memory.
Whichever side ends first, the other is closed at once (the codes: :mod:`signproxy.ws.closing`).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

import structlog
from aiohttp import WSCloseCode, WSMsgType

from signproxy.okx.auth_hints import hint_for
from signproxy.ws.closing import BridgeStats, Ended, close_both, describe_error
from signproxy.ws.frames import (
    AMBIGUOUS_FRAME,
    BAD_SHAPE,
    KEEPALIVE_PING,
    ClientFrame,
    classify,
    event_error,
    login_answer,
    op_error,
    shape_problem,
)
from signproxy.ws.orders import is_order_op

if TYPE_CHECKING:
    from collections.abc import Callable

    import aiohttp
    from aiohttp import web

    from signproxy.ws.orders import WsOrders
    from signproxy.ws.policy import OpCheck


class Bridge:
    """Relays one client connection to one OKX connection until either side ends."""

    def __init__(  # noqa: PLR0913 - the bridge's collaborators, all keyword-only
        self,
        client: web.WebSocketResponse,
        upstream: aiohttp.ClientWebSocketResponse,
        *,
        request: web.Request,
        channel: str,
        signed_login: Callable[[], str],
        op_check: OpCheck,
        auto_login: bool,
        login_timeout: float,
        request_id: str,
        orders: WsOrders | None = None,
        on_client_frame: Callable[[], None] | None = None,
    ) -> None:
        """Take both open connections; ``signed_login`` makes a fresh signed login frame."""
        self._client = client
        self._upstream = upstream
        self._request = request
        self._channel = channel
        self._signed_login = signed_login
        self._op_check = op_check
        self._auto_login = auto_login
        self._login_timeout = login_timeout
        self._request_id = request_id
        self._orders = orders
        self._on_client_frame = on_client_frame
        self._log = structlog.get_logger("signproxy")
        self._login_pending: str | None = None  # who asked: "client" or "auto"
        self._auto_answer: str | None = None  # OKX's success event for the proxy's own login
        self._gate = asyncio.Event()  # client frames wait for the auto-login's answer
        self._stop = asyncio.Event()
        self.finished = asyncio.Event()
        self.stats = BridgeStats()

    def stop(self) -> None:
        """Ask the bridge to close both sides with 1001 (the proxy is shutting down)."""
        self._stop.set()

    async def run(self) -> BridgeStats:
        """Relay until one side ends, then close the other; returns what happened."""
        if self._auto_login:
            await self._send_login("auto")
        else:
            self._gate.set()
        tasks = (
            asyncio.create_task(self._upstream_to_client()),
            asyncio.create_task(self._client_to_upstream()),
            asyncio.create_task(self._stop.wait()),
        )
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            # aiohttp cancels the handler when the client's connection is lost (if the server
            # runs with handler_cancellation, as test servers do) or at shutdown: still close
            # OKX's side, with what is known of the end, then let the cancellation go on.
            await self._finish(tasks, {task for task in tasks if task.done()})
            raise
        await self._finish(tasks, done)
        return self.stats

    async def _finish(
        self, tasks: tuple[asyncio.Task[Any], ...], done: set[asyncio.Task[Any]]
    ) -> None:
        ended = self._first_end(tasks, done)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        try:
            await close_both(self._client, self._upstream, ended, self.stats)
        finally:
            if self._orders is not None:
                self._orders.closed()
            self.finished.set()

    def _first_end(
        self, tasks: tuple[asyncio.Task[Any], ...], done: set[asyncio.Task[Any]]
    ) -> Ended:
        for task in tasks[:2]:
            if task in done:
                try:
                    result: Ended = task.result()
                except Exception:  # noqa: BLE001 - a bug must close both sides with 1011
                    self._log.exception("signproxy.ws_internal_error", **self._ids())
                    return Ended("proxy", WSCloseCode.INTERNAL_ERROR, "internal error in signproxy")
                return result
        if self._client.closed:
            return Ended("client", self._client.close_code)
        return Ended("proxy", WSCloseCode.GOING_AWAY, "signproxy is shutting down")

    async def _upstream_to_client(self) -> Ended:
        upstream, client, stats = self._upstream, self._client, self.stats
        while True:
            msg = await upstream.receive()
            try:
                if msg.type is WSMsgType.TEXT:
                    if self._login_pending is not None:
                        self._see_login_answer(msg.data)
                    if self._orders is not None:
                        self._orders.answered(msg.data)
                    await client.send_str(msg.data)
                elif msg.type is WSMsgType.BINARY:
                    await client.send_bytes(msg.data)
                elif msg.type is WSMsgType.CLOSE:
                    return Ended("upstream", msg.data, msg.extra or "")
                elif msg.type is WSMsgType.ERROR:
                    return Ended("upstream", None, describe_error(msg.data))
                else:  # CLOSING / CLOSED: the connection is gone
                    return Ended("upstream", None)
            except ConnectionError:
                return Ended("client", None)
            stats.to_client += 1

    async def _client_to_upstream(self) -> Ended:
        upstream, client, stats = self._upstream, self._client, self.stats
        while True:
            msg = await client.receive()
            if self._on_client_frame is not None:
                self._on_client_frame()
            if not self._gate.is_set():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._login_timeout):
                        await self._gate.wait()
                self._gate.set()
            try:
                if msg.type is WSMsgType.TEXT or msg.type is WSMsgType.BINARY:
                    if await self._handled_here(msg.data):
                        continue
                    if msg.type is WSMsgType.TEXT:
                        await upstream.send_str(msg.data)
                    else:
                        await upstream.send_bytes(msg.data)
                elif msg.type is WSMsgType.CLOSE:
                    return Ended("client", msg.data, msg.extra or "")
                elif msg.type is WSMsgType.ERROR:  # e.g. an oversized frame: closed with 1009
                    return Ended("client", client.close_code)
                else:  # CLOSED: the client vanished without a close frame
                    return Ended("client", None)
            except ConnectionError:
                return Ended("client" if client.closed else "upstream", None)
            stats.from_client += 1

    async def _handled_here(self, data: str | bytes) -> bool:
        """Answer or rewrite a client frame the proxy must act on; True when it is done with it."""
        frame = classify(data)
        refusal = self._refusal(frame, data)
        if refusal is not None:
            self.stats.refused += 1
            await self._client.send_str(refusal)
            return True
        if not frame.is_login:
            if (
                self._orders is not None
                and frame.request is not None
                and is_order_op(frame.request)
            ):
                await self._orders.submit(frame.request, data)
                return True
            return False
        if self._auto_answer is not None:
            self._log.info("signproxy.ws_login", source="local", code="0", **self._ids())
            await self._client.send_str(self._auto_answer)
            return True
        await self._send_login("client")
        return True

    def _refusal(self, frame: ClientFrame, data: str | bytes) -> str | None:
        """The error event to answer instead of relaying ``frame``, or None to let it pass."""
        if frame.ambiguous:
            return event_error(AMBIGUOUS_FRAME, "refused by signproxy: a key is repeated")
        request = frame.request
        if request is None:
            if data == KEEPALIVE_PING:
                return None
            # Not a JSON object: relayed unless the op check (read-only, trading rules) fails
            # closed on frames it cannot judge.
            refused = self._op_check(self._request, self._channel, None)
            return None if refused is None else event_error(refused.code, refused.msg)
        problem = shape_problem(request)
        if problem is not None:
            return event_error(BAD_SHAPE, f"refused by signproxy: {problem}")
        if not frame.has_op:
            return None
        refused = self._op_check(self._request, self._channel, request)
        return None if refused is None else op_error(request, refused.code, refused.msg)

    async def _send_login(self, source: str) -> None:
        self._login_pending = source
        self.stats.logins += 1
        await self._upstream.send_str(self._signed_login())

    def _see_login_answer(self, text: str) -> None:
        code = login_answer(text)
        if code is None:
            return
        source, self._login_pending = self._login_pending, None
        if source == "auto" and code == "0":
            self._auto_answer = text
        self._gate.set()
        level = "info" if code == "0" else "warning"
        hint = {"hint": advice} if (advice := hint_for(code)) else {}  # a refused key: what to do
        getattr(self._log, level)(
            "signproxy.ws_login", source=source, code=code, **hint, **self._ids()
        )

    def _ids(self) -> dict[str, Any]:
        return {"request_id": self._request_id, "channel": self._channel}
