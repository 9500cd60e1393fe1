"""Stage ``send``: forward the signed request to OKX and take its answer. The last stage."""

from __future__ import annotations

from typing import TYPE_CHECKING

from signproxy.okx import envelope
from signproxy.okx.auth_hints import hint_for
from signproxy.proxy.pipeline import Next, Stage

if TYPE_CHECKING:
    from collections.abc import Callable

    from signproxy.proxy.record import Answer, Exchange
    from signproxy.upstream.client import Upstream
    from signproxy.upstream.inflight import InFlight

_TIMESTAMP_EXPIRED = "50102"


class Send(Stage):
    """Send through the in-flight registry (the exchange outlives a client that leaves).

    Fills ``upstream_ms``, ``okx_code`` and, for order requests, OKX's per-order ``results``.
    A failure is raised as an :class:`~signproxy.errors.UpstreamError` (never sent again).
    """

    name = "send"

    def __init__(
        self,
        upstream: Upstream,
        inflight: InFlight,
        *,
        on_timestamp_expired: Callable[[], None] | None = None,
    ) -> None:
        """``on_timestamp_expired`` is called when OKX answers 50102 (the clock re-measures)."""
        self._upstream = upstream
        self._inflight = inflight
        self._on_timestamp_expired = on_timestamp_expired

    async def run(self, exchange: Exchange, call_next: Next) -> Answer:  # noqa: ARG002 - last
        """Send and answer; never calls on."""
        account = exchange.account
        assert account is not None  # noqa: S101 - the select-account stage runs first
        assert exchange.target is not None  # noqa: S101 - the target stage runs first
        answer = await self._inflight.send(
            self._upstream.send(
                exchange.method,
                exchange.target,
                exchange.headers,
                exchange.body,
                base_url=account.upstream,
            ),
            exchange,
        )
        exchange.upstream_ms = round(answer.elapsed_ms, 3)
        if exchange.is_order:
            parsed = envelope.parse(answer.body)
            if parsed is not None:
                exchange.okx_code = parsed.code
                exchange.results = parsed.orders()
        else:
            exchange.okx_code = envelope.scan_code(answer.body)
        exchange.hint = hint_for(exchange.okx_code)  # auth refusals: what to do, in the log
        if exchange.okx_code == _TIMESTAMP_EXPIRED and self._on_timestamp_expired is not None:
            self._on_timestamp_expired()
        request = exchange.http
        if request is not None and (request.transport is None or request.transport.is_closing()):
            exchange.client_gone = True  # the answer cannot reach it: the log line says it all
        return answer
