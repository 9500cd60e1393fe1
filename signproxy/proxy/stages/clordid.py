"""Stage ``client-order-id``: every placed order carries a client order id.

An order placed without one (``clOrdId``; ``algoClOrdId`` for algo orders) gets one from the
proxy (:mod:`signproxy.okx.clordid`), so its outcome can always be looked up and a retry of it
recognised. REST bodies get the id inserted as text (the client's number literals stay as
written); WebSocket op args are objects the bridge serializes again, so the id is set on them.

In ``SIGNPROXY_BODY=raw`` mode the proxy promises to sign the client's bytes untouched, so it
adds nothing there: such orders are journalled and de-duplicated only when the client names them.
An order that carries the field with an empty value keeps it (OKX reads it as no id).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from signproxy.okx.clordid import IdMaker, insert_ids
from signproxy.okx.orders import Action, orders_in
from signproxy.proxy.pipeline import Stage

if TYPE_CHECKING:
    from signproxy.okx.canonical import BodyMode
    from signproxy.proxy.record import Exchange


class ClientOrderId(Stage):
    """Give each placed order without a client order id one that starts with the prefix."""

    name = "client-order-id"

    def __init__(self, prefix: str, body_mode: BodyMode) -> None:
        """Make ids starting with ``prefix``; add none to REST bodies in ``raw`` mode."""
        self._make = IdMaker(prefix)
        self._raw = body_mode == "raw"

    def check(self, exchange: Exchange) -> None:
        """Add the missing ids to the body (REST) or the op's args (WebSocket)."""
        endpoint = exchange.endpoint
        if endpoint is None or endpoint.action is not Action.PLACE:
            return
        if exchange.transport == "rest" and self._raw:
            return
        field = endpoint.client_id_field
        payload = exchange.payload
        if not isinstance(payload, (dict, list)):
            return
        # A new list: the WebSocket bridge rebuilds the frame only when payload is a new object.
        items: list[Any] = [payload] if isinstance(payload, dict) else list(payload)
        missing = {
            index: self._make()
            for index, item in enumerate(items)
            if isinstance(item, dict) and field not in item
        }
        if not missing:
            return
        if exchange.transport == "rest":
            exchange.body = insert_ids(exchange.body, missing, field)
        for index, cl_ord_id in missing.items():
            # Keys are inserted first in the body; the parsed view follows the same order.
            items[index] = {field: cl_ord_id, **items[index]}
        exchange.payload = items[0] if isinstance(payload, dict) else items
        exchange.orders = orders_in(exchange.payload, endpoint)
