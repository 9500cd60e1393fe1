"""What an exchange becomes in the journal: its intent, then its outcome. Pure: no I/O.

Per order, ``outcome`` says what is known: ``pending`` (sent, no answer yet), ``ok`` (OKX
accepted it, sCode 0), ``failed`` (OKX refused it, or the request failed before it was sent),
``not-placed`` (resolution: not found after its expTime passed), ``unknown``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from signproxy.journal.db import Intent, Outcome
from signproxy.okx.exptime import EXPTIME_HEADER
from signproxy.once.errors import NOT_PLACED_CODE, UNKNOWN_CODE

if TYPE_CHECKING:
    from signproxy.okx.envelope import OrderResult
    from signproxy.proxy.record import Exchange


def intent(exchange: Exchange) -> Intent:
    """The rows written before ``exchange`` leaves for OKX."""
    endpoint = exchange.endpoint
    assert endpoint is not None  # noqa: S101 - only order-affecting exchanges are journalled
    request = (
        time.time_ns() // 1_000_000,
        exchange.account_name,
        exchange.client,
        exchange.transport,
        endpoint.path,
        endpoint.action.value,
        exchange.request_id,
        exchange.ws_id,
        exchange.headers.get(EXPTIME_HEADER),
    )
    orders = [
        (
            view.index,
            view.inst_id,
            view.side,
            view.ord_type,
            view.sz,
            view.px,
            view.cl_ord_id,
            view.ord_id,
        )
        for view in exchange.orders
    ]
    return Intent(request, orders)


def outcome_of(s_code: str | None) -> str:
    """An order's journal outcome from its per-order code."""
    if s_code == "0":
        return "ok"
    if s_code == NOT_PLACED_CODE:
        return "not-placed"
    if s_code == UNKNOWN_CODE:
        return "unknown"
    return "failed"


def outcome(key: int, exchange: Exchange) -> Outcome:
    """The rows that finish ``exchange``'s journal entry."""
    error = exchange.error
    # No status: written to OKX and never answered (a WebSocket op without an id).
    unknown = not exchange.outcome_known() or exchange.status is None
    if exchange.resolved is not None:
        state = "resolved" if exchange.resolved != "unknown" else "unknown"
    elif unknown:
        state = "unknown"
    elif error is not None:
        state = "failed"
    else:
        state = "answered"
    request = (
        state,
        exchange.status,
        exchange.okx_code,
        error.code if error is not None else None,
        exchange.resolved,
        time.time_ns() // 1_000_000,
        key,
    )
    return Outcome(request, _order_rows(key, exchange, unknown=unknown))


def _order_rows(key: int, exchange: Exchange, *, unknown: bool) -> list[tuple[object, ...]]:
    results = _match(exchange)
    rows: list[tuple[object, ...]] = []
    for view in exchange.orders:
        result = results.get(view.index)
        if result is not None:
            s_code = result.s_code if result.s_code is not None else exchange.okx_code
            rows.append(
                (result.ord_id or None, s_code, result.s_msg, outcome_of(s_code), key, view.index)
            )
        elif unknown:
            rows.append((None, None, None, "unknown", key, view.index))
        else:  # refused as a whole (OKX's code, or the proxy's)
            code = exchange.okx_code or (exchange.error.code if exchange.error else None)
            rows.append((None, code, None, "failed", key, view.index))
    return rows


def _match(exchange: Exchange) -> dict[int, OrderResult]:
    """Each order's result: by client order id where both have one, else by position."""
    by_id = {r.cl_ord_id: r for r in exchange.results if r.cl_ord_id}
    matched: dict[int, OrderResult] = {}
    for position, view in enumerate(exchange.orders):
        result = by_id.get(view.cl_ord_id) if view.cl_ord_id else None
        if result is None and position < len(exchange.results) and not by_id:
            result = exchange.results[position]
        if result is not None:
            matched[view.index] = result
    return matched
