"""The stages of the request path, and the one place where the pipelines are assembled.

A REST request, after the middleware has admitted it (guard) and made its record:

    select-account   which account signs (path prefix, header, token binding)
    deadman-touch    a bot is alive on the account (the dead-man switch stays armed)
    target           GET/POST only; the canonical path and query that are judged and signed
    policy           may this method and path be signed (funds, read-only, allow/deny rules)
    body             read, validate and canonicalize the JSON body; the order view
    client-order-id  every placed order gets a client order id (okx/clordid.py)
    dedup            a retry (same clOrdId) is answered from the first attempt, not sent
    halt             while halted, refuse what adds exposure (SPX850)
    guardrails       the rules file's limits on each order (SPX861-SPX866)
    rate-budget      wait for room in OKX's rate budgets, or refuse with 429 (ratelimit/)
    sign             OK-ACCESS-* headers, expTime, the demo flag
    journal-resolve  the journal's intent before sending; an unknown outcome looked up after
    send             forward to OKX (the exchange outlives a client that leaves)

A WebSocket order op (``order``, ``batch-orders``...) runs the stages that judge orders and then
is written to OKX's WebSocket; its outcome is recorded when OKX's answer with its ``id`` arrives.

To add a feature to the request path: write a :class:`~signproxy.proxy.pipeline.Stage` in a
module here and list it in :func:`rest_stages` (and :func:`ws_order_stages` if it judges
orders). The order matters: a stage sees what the stages before it decided.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from signproxy.proxy.stages.body import ReadBody
from signproxy.proxy.stages.policy import EndpointPolicy
from signproxy.proxy.stages.select import SelectAccount
from signproxy.proxy.stages.send import Send
from signproxy.proxy.stages.sign import Sign
from signproxy.proxy.stages.target import Target
from signproxy.proxy.stages.ws_exptime import WsExpTime
from signproxy.switches.stages import DeadmanTouch, GuardrailCheck, HaltCheck

if TYPE_CHECKING:
    from collections.abc import Callable

    from signproxy.once.kit import OrderSafety
    from signproxy.proxy.pipeline import Stage
    from signproxy.proxy.selection import Selector
    from signproxy.settings.config import Settings
    from signproxy.switches.board import Switchboard
    from signproxy.upstream.client import Upstream
    from signproxy.upstream.clock import Clock
    from signproxy.upstream.inflight import InFlight


def rest_stages(  # noqa: PLR0913 - the collaborators the stages share, all keyword-only
    settings: Settings,
    *,
    selector: Selector,
    upstream: Upstream,
    clock: Clock,
    inflight: InFlight,
    on_timestamp_expired: Callable[[], None] | None = None,
    rate_budget: Stage | None = None,
    switches: Switchboard | None = None,
    order_safety: OrderSafety | None = None,
) -> list[Stage]:
    """The REST pipeline's stages, in order."""
    once = order_safety
    return [
        SelectAccount(selector),
        *([DeadmanTouch(switches.deadman)] if switches is not None else []),
        Target(),
        EndpointPolicy(settings.access.policy),
        ReadBody(settings.max_body_bytes, settings.body_mode),
        # A retry answered from its first attempt is not sent: it adds no exposure and takes no
        # rate budget, so it is recognised before the stages that judge new orders.
        *_exactly_once(once),
        *(_judging(switches) if switches is not None else []),
        *([rate_budget] if rate_budget is not None else []),
        Sign(clock, settings.exptime_ms),
        *([once.journal_resolve] if once else []),
        Send(upstream, inflight, on_timestamp_expired=on_timestamp_expired),
    ]


def ws_order_stages(
    settings: Settings,
    *,
    rate_budget: Stage | None = None,
    switches: Switchboard | None = None,
    clock: Clock | None = None,
    order_safety: OrderSafety | None = None,
) -> list[Stage]:
    """The stages a WebSocket order op passes before it is written to OKX, in order.

    The endpoint policy and read-only mode judge every WebSocket frame already (see
    :mod:`signproxy.ws.policy`); the stages here are those that judge orders. ``rate-budget``
    is the REST pipeline's own instance: OKX shares the budgets between REST and WebSocket.
    """
    once = order_safety
    return [
        *_exactly_once(once),
        *(_judging(switches) if switches is not None else []),
        *([rate_budget] if rate_budget is not None else []),
        *([WsExpTime(clock, settings.exptime_ms)] if clock is not None else []),
        *([once.journal_resolve] if once else []),
    ]


def _judging(switches: Switchboard) -> list[Stage]:
    return [HaltCheck(switches.halt), GuardrailCheck(switches.guardrails)]


def _exactly_once(once: OrderSafety | None) -> list[Stage]:
    """``client-order-id`` and ``dedup`` (docs/order-safety.md)."""
    if once is None:
        return []
    return [once.client_order_id, *([once.dedup] if once.dedup is not None else [])]
