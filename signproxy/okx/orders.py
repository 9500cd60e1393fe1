"""The orders a request carries: which endpoints affect orders, and a parsed view of each order.

Pure: no I/O. The view is computed once per request, from the body the proxy has already
validated, and every later stage (rate budgets, guardrails, the journal) reads it instead of
parsing the body again. Only order-affecting endpoints are parsed at all, so reads and market
data pay nothing for it.

A REST request and a WebSocket order op map to the same :class:`Endpoint`: OKX treats a
WebSocket ``order`` op as a place-order request (same budgets, same rules), and so does the proxy.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import Any


class Action(enum.Enum):
    """What an order-affecting endpoint does to the book."""

    PLACE = "place"
    AMEND = "amend"
    CANCEL = "cancel"
    CLOSE = "close"  # close-position: reduces exposure
    CANCEL_ALL_AFTER = "cancel-all-after"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One order-affecting endpoint.

    Attributes:
        path: the REST path (``/api/v5/trade/order``).
        action: what it does.
        batch: the body is an array of orders (one per item).
        algo: algo orders (their client id field is ``algoClOrdId``).
        ws_op: the WebSocket op that stands for it, if any.
    """

    path: str
    action: Action
    batch: bool = False
    algo: bool = False
    ws_op: str | None = None

    @property
    def client_id_field(self) -> str:
        """The field that carries the client's own order id."""
        return "algoClOrdId" if self.algo else "clOrdId"


_ENDPOINTS = (
    Endpoint("/api/v5/trade/order", Action.PLACE, ws_op="order"),
    Endpoint("/api/v5/trade/batch-orders", Action.PLACE, batch=True, ws_op="batch-orders"),
    Endpoint("/api/v5/trade/amend-order", Action.AMEND, ws_op="amend-order"),
    Endpoint(
        "/api/v5/trade/amend-batch-orders", Action.AMEND, batch=True, ws_op="batch-amend-orders"
    ),
    Endpoint("/api/v5/trade/cancel-order", Action.CANCEL, ws_op="cancel-order"),
    Endpoint(
        "/api/v5/trade/cancel-batch-orders", Action.CANCEL, batch=True, ws_op="batch-cancel-orders"
    ),
    Endpoint("/api/v5/trade/mass-cancel", Action.CANCEL, ws_op="mass-cancel"),
    Endpoint("/api/v5/trade/order-algo", Action.PLACE, algo=True),
    Endpoint("/api/v5/trade/amend-algos", Action.AMEND, algo=True),
    Endpoint("/api/v5/trade/cancel-algos", Action.CANCEL, batch=True, algo=True),
    Endpoint("/api/v5/trade/close-position", Action.CLOSE),
    Endpoint("/api/v5/trade/cancel-all-after", Action.CANCEL_ALL_AFTER),
    Endpoint("/api/v5/sprd/order", Action.PLACE, ws_op="sprd-order"),
    Endpoint("/api/v5/sprd/amend-order", Action.AMEND, ws_op="sprd-amend-order"),
    Endpoint("/api/v5/sprd/cancel-order", Action.CANCEL, ws_op="sprd-cancel-order"),
    Endpoint("/api/v5/sprd/mass-cancel", Action.CANCEL, ws_op="sprd-mass-cancel"),
)

ORDER_ENDPOINTS: dict[str, Endpoint] = {endpoint.path: endpoint for endpoint in _ENDPOINTS}
"""Every order-affecting REST endpoint, by path (POST only)."""

WS_OP_ENDPOINTS: dict[str, Endpoint] = {
    endpoint.ws_op: endpoint for endpoint in _ENDPOINTS if endpoint.ws_op is not None
}
"""The WebSocket order ops, by op name, with the REST endpoint each stands for."""


def order_endpoint(method: str, path: str) -> Endpoint | None:
    """The order-affecting endpoint a REST request calls, or None (a read, or not an order)."""
    if method != "POST":
        return None
    return ORDER_ENDPOINTS.get(path)


@dataclass(frozen=True, slots=True)
class OrderView:
    """One order as a request carries it: what every stage that judges orders needs.

    Values are the strings the client sent (OKX takes numbers as strings); a field the client
    did not send is None. ``index`` is the order's place in a batch (0 for a single order).
    """

    index: int
    inst_id: str | None
    cl_ord_id: str | None
    ord_id: str | None
    side: str | None
    ord_type: str | None
    sz: str | None
    px: str | None
    tag: str | None
    reduce_only: bool | None
    inst_family: str | None = None


def _text(item: dict[str, Any], name: str) -> str | None:
    value = item.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, separators=(",", ":"))[:64]


def _flag(item: dict[str, Any], name: str) -> bool | None:
    value = item.get(name)
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.lower() == "true"
    return None


def view_of(index: int, item: dict[str, Any], endpoint: Endpoint) -> OrderView:
    """The view of one order object (one item of a batch, or a whole single-order body)."""
    return OrderView(
        index=index,
        inst_id=_text(item, "instId"),
        cl_ord_id=_text(item, endpoint.client_id_field),
        ord_id=_text(item, "algoId" if endpoint.algo else "ordId"),
        side=_text(item, "side"),
        ord_type=_text(item, "ordType"),
        sz=_text(item, "sz"),
        px=_text(item, "px"),
        tag=_text(item, "tag"),
        reduce_only=_flag(item, "reduceOnly"),
        inst_family=_text(item, "instFamily"),
    )


def orders_in(payload: object, endpoint: Endpoint) -> tuple[OrderView, ...]:
    """The orders in a parsed body (REST) or a WebSocket op's ``args``.

    A batch body is an array of order objects; a single order is one object. A WebSocket op's
    ``args`` is always an array. Items that are not objects are skipped here: OKX refuses them,
    and the proxy forwards what it cannot judge only where no stage needs to judge it (a stage
    that must judge every order checks ``len(orders)`` against the item count).
    """
    if isinstance(payload, dict):
        return (view_of(0, payload, endpoint),)
    if isinstance(payload, list):
        return tuple(
            view_of(index, item, endpoint)
            for index, item in enumerate(payload)
            if isinstance(item, dict)
        )
    return ()
