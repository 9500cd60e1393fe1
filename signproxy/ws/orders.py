"""WebSocket order ops through the pipeline: one record per op, its outcome when OKX answers.

A client's ``order``, ``batch-orders``, ``amend-order``... op becomes an
:class:`~signproxy.proxy.record.Exchange` (``transport="ws"``, the REST path its op stands for,
its ``args`` as ``payload`` and the order view) and runs the order stages
(:func:`signproxy.proxy.stages.ws_order_stages`), then is written to OKX. A stage's refusal is
answered as an OKX-shaped op error carrying the op's ``id``; an answer a stage makes itself (a
replay) is sent as the answer frame. The outcome is written by the one writer
(:class:`~signproxy.proxy.outcome.Outcomes`) when OKX's answer with the op's ``id`` arrives, or
as unknown when the connection ends first.

The frame sent to OKX is the client's own text unless a stage replaced ``payload`` (a new
object, never mutated in place) or set an ``expTime`` header: then it is rebuilt from the op.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from multidict import CIMultiDict

from signproxy.errors import SignproxyError, UpstreamDisconnected
from signproxy.okx import envelope
from signproxy.okx.orders import WS_OP_ENDPOINTS, orders_in
from signproxy.proxy.pipeline import Next, Pipeline, Stage
from signproxy.proxy.record import EXCHANGE, Answer, Exchange
from signproxy.ws.frames import op_error

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

    from aiohttp import web

    from signproxy.proxy.outcome import Outcomes

_COMPACT = (",", ":")
_MAX_PENDING = 10_000  # ops waiting for OKX's answer on one connection; older ones are let go
_FORWARDED = Answer(status=0, headers=CIMultiDict(), body=b"", elapsed_ms=0.0)


def is_order_op(request: dict[str, Any]) -> bool:
    """The frame is one of the order ops the pipeline judges."""
    op = request.get("op")
    return isinstance(op, str) and op in WS_OP_ENDPOINTS


class _Forward(Stage):
    """The last stage of a WebSocket op: write it to OKX and remember it until it is answered."""

    name = "ws-forward"

    def __init__(self, orders: WsOrders) -> None:
        self._orders = orders

    async def run(self, exchange: Exchange, call_next: Next) -> Answer:  # noqa: ARG002 - last
        await self._orders.forward(exchange)
        return _FORWARDED


class WsOrders:
    """One connection's order ops: judged by the stages, written to OKX, outcomes recorded."""

    def __init__(  # noqa: PLR0913 - the connection's collaborators, all keyword-only
        self,
        stages: Sequence[Stage],
        outcomes: Outcomes,
        *,
        upgrade: web.Request,
        account_name: str,
        request_id: str,
        send_upstream: Callable[[str], Awaitable[None]],
        send_client: Callable[[str], Awaitable[None]],
    ) -> None:
        """Run ``stages`` over each op of the connection opened by ``upgrade``."""
        self._pipeline = Pipeline([*stages, _Forward(self)])
        self._outcomes = outcomes
        self._upgrade = upgrade
        self._account_name = account_name
        self._request_id = request_id
        self._send_upstream = send_upstream
        self._send_client = send_client
        self._pending: dict[str, tuple[Exchange, dict[str, Any], str | bytes]] = {}
        self._ops = 0
        self._current: tuple[dict[str, Any], str | bytes] | None = None

    @property
    def pending(self) -> int:
        """Ops written to OKX whose answer has not come yet."""
        return len(self._pending)

    async def submit(self, request: dict[str, Any], data: str | bytes) -> None:
        """Judge and forward one order op (``request`` is the parsed frame, ``data`` its text)."""
        endpoint = WS_OP_ENDPOINTS[request["op"]]
        self._ops += 1
        op_id = request.get("id")
        args = request.get("args")
        exchange = Exchange(
            f"{self._request_id}.{self._ops}",
            "POST",
            endpoint.path,
            transport="ws",
            http=self._upgrade,
            path=endpoint.path,
            target=endpoint.path,
            endpoint=endpoint,
            payload=args,
            orders=orders_in(args, endpoint) if isinstance(args, list) else (),
            ws_id=None if op_id is None else str(op_id),
        )
        exchange.client = self._upgrade_client()
        exchange.account_name = self._account_name
        self._current = (request, data)
        try:
            answer = await self._pipeline(exchange)
        except SignproxyError as exc:
            exchange.error, exchange.status = exc, exc.status
            await self._send_client(op_error(request, exc.code, exc.message))
            self._outcomes.finished(exchange)
            return
        finally:
            self._current = None
        if answer is not _FORWARDED:  # a stage answered itself (e.g. a replay)
            exchange.status = answer.status
            await self._send_client(answer.body.decode("utf-8"))
            self._outcomes.finished(exchange)

    async def forward(self, exchange: Exchange) -> None:
        """Write the op to OKX (the last stage); its outcome is recorded when OKX answers."""
        assert self._current is not None  # noqa: S101 - only called inside submit()
        request, data = self._current
        text = data if isinstance(data, str) else data.decode("utf-8")
        exptime = exchange.headers.get("expTime")
        if exchange.payload is not request.get("args") or (
            exptime is not None and "expTime" not in request
        ):
            rebuilt = {**request, "args": exchange.payload}
            if exptime is not None:
                rebuilt.setdefault("expTime", exptime)
            text = json.dumps(rebuilt, separators=_COMPACT)
        if exchange.ws_id is not None:
            if len(self._pending) >= _MAX_PENDING:
                self._give_up(next(iter(self._pending)), "too many ops waiting for OKX")
            self._pending[exchange.ws_id] = (exchange, request, data)
        await self._send_upstream(text)
        if exchange.ws_id is None:  # nothing to match OKX's answer with: recorded as sent
            self._outcomes.finished(exchange)

    def answered(self, text: str) -> None:
        """Look at one frame from OKX: if it answers a pending op, record that op's outcome."""
        if not self._pending or '"id"' not in text:
            return
        try:
            parsed = json.loads(text)
        except ValueError:
            return
        if not isinstance(parsed, dict):
            return
        entry = self._pending.pop(str(parsed.get("id")), None)
        if entry is None:
            return
        exchange = entry[0]
        answer = envelope.from_object(parsed)
        exchange.status = 200
        if answer is not None:
            exchange.okx_code = answer.code
            exchange.results = answer.orders()
        self._outcomes.finished(exchange)

    def closed(self) -> None:
        """The connection ended: ops OKX never answered are recorded with an unknown outcome."""
        for op_id in list(self._pending):
            self._give_up(op_id, "the WebSocket connection ended before OKX answered")

    def _give_up(self, op_id: str, why: str) -> None:
        exchange, _, _ = self._pending.pop(op_id)
        exchange.error = UpstreamDisconnected(why, outcome_unknown=True)
        exchange.status = exchange.error.status
        self._outcomes.finished(exchange)

    def _upgrade_client(self) -> str | None:
        record = self._upgrade.get(EXCHANGE)
        return None if record is None else record.client
