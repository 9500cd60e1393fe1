"""The one typed record of a request on its way through the proxy, and the answer it gets.

The middleware makes an :class:`Exchange` for every HTTP request (REST, WebSocket upgrade or
operator route); the WebSocket bridge makes one for every order op a client sends. Stages read
and fill it; the observer (log line, metrics, readiness, journal) reads it once it is finished.
Nothing is passed between stages by string keys.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from aiohttp import web

from signproxy.upstream.client import UpstreamResponse

if TYPE_CHECKING:
    from signproxy.errors import SignproxyError
    from signproxy.okx.envelope import OrderResult
    from signproxy.okx.orders import Endpoint, OrderView
    from signproxy.ratelimit.draws import Draw
    from signproxy.settings.accounts import Account

Answer = UpstreamResponse
"""What a pipeline returns: OKX's answer, or one a stage made (a replay, a resolution)."""

Transport = Literal["rest", "ws", "ops"]

_MAX_LOGGED_ORDERS = 20


@dataclass(slots=True, eq=False)
class Exchange:
    """One request (or one WebSocket order op): what arrived, what was decided, what came back.

    Filled in the order of the stages: identity first (``client``, ``account``), then what is
    signed (``path``, ``target``, ``body``, ``endpoint``, ``orders``), then the outcome
    (``status``, ``okx_code``, ``results``, ``error``). A field a stage has not reached is None.
    """

    request_id: str
    method: str
    raw_path: str
    transport: Transport = "rest"
    # The REST request, or the WebSocket upgrade request; None again once the record is finished.
    http: web.Request | None = None
    started: float = field(default_factory=time.perf_counter)

    # Who: the client token's name (never the token) and the account that signs.
    client: str | None = None
    account_name: str | None = None
    account: Account | None = None

    # What: the path and target that are judged, signed and sent, and the body's bytes.
    path: str | None = None
    target: str | None = None
    body: bytes = b""
    endpoint: Endpoint | None = None  # set for order-affecting requests only
    payload: Any = None  # the parsed body (or WS op args) of an order-affecting request
    orders: tuple[OrderView, ...] = ()
    headers: dict[str, str] = field(default_factory=dict)  # sent to OKX
    ws_id: str | None = None  # a WebSocket op's own ``id``

    # Outcome.
    status: int | None = None
    okx_code: str | None = None
    results: tuple[OrderResult, ...] = ()
    error: SignproxyError | None = None
    rule: str | None = None  # the rule that refused, for refusals that name one
    upstream_ms: float | None = None
    total_ms: float | None = None
    client_gone: bool = False
    hint: str | None = None  # what to do about OKX's answer (auth errors)

    # What the order-safety stages did (rate budgets, exactly-once, switches).
    waited_ms: float | None = None  # time spent waiting for a rate budget
    budget: str | None = None  # the budget that refused or backed off
    rate_draws: tuple[Draw, ...] = ()  # the rate budgets this exchange took (not logged)
    replayed: bool = False  # answered from an earlier attempt, not sent again
    resolved: str | None = None  # what looking up an unknown outcome found
    journal_key: int | None = None  # the order journal's row, once its intent is written
    dedup_owner: str | None = None  # this attempt's claim on its client order ids

    @property
    def is_order(self) -> bool:
        """The request affects orders (place, amend, cancel...), REST or WebSocket."""
        return self.endpoint is not None

    def outcome_known(self) -> bool:
        """Whether OKX's answer (or the proxy's refusal) says what happened."""
        return self.error is None or not getattr(self.error, "outcome_unknown", False)

    def log_fields(self) -> dict[str, Any]:
        """The canonical log line's fields: every field that is set, none that is secret."""
        fields: dict[str, Any] = {
            "request_id": self.request_id,
            "method": self.method,
            "path": self.path or self.raw_path[:200],
        }
        if self.transport != "rest":
            fields["transport"] = self.transport
        for name, key in _LOGGED:
            value = getattr(self, name)
            if value is not None and value is not False:
                fields[key] = value
        if self.error is not None:
            fields["error"] = self.error.code
            fields["reason"] = self.error.message
        # OKX's per-order results when it answered, else the orders as sent: a failed exchange
        # whose client left still names its orders.
        if self.results:
            fields["orders"] = [_result_fields(r) for r in self.results[:_MAX_LOGGED_ORDERS]]
        elif self.orders:
            fields["orders"] = [_order_fields(view) for view in self.orders[:_MAX_LOGGED_ORDERS]]
        return fields


# (attribute, log key): the keys are the log line's stable names, older than the record.
_LOGGED = tuple(
    (name, "account" if name == "account_name" else name)
    for name in (
        "client",
        "account_name",
        "ws_id",
        "status",
        "okx_code",
        "rule",
        "upstream_ms",
        "total_ms",
        "client_gone",
        "hint",
        "waited_ms",
        "budget",
        "replayed",
        "resolved",
    )
)


def _result_fields(result: OrderResult) -> dict[str, str]:
    out = {"ordId": result.ord_id, "clOrdId": result.cl_ord_id, "sCode": result.s_code}
    return {k: v for k, v in out.items() if v is not None}


def _order_fields(view: OrderView) -> dict[str, str]:
    out = {"instId": view.inst_id, "clOrdId": view.cl_ord_id, "ordId": view.ord_id}
    return {k: v for k, v in out.items() if v is not None}


EXCHANGE = web.RequestKey("signproxy.exchange", Exchange)
"""Where the middleware keeps each HTTP request's record."""
