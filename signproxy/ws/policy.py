"""May a client's WebSocket request go to OKX? Pure decisions, plugged into the relay.

An :data:`OpCheck` sees the upgrade request (who connected, with which token or account), the
channel (``private``, ``business``, ``public``) and the parsed request object, and returns a
:class:`WsRefusal` or None. The relay answers a refusal with an OKX-shaped error event and does
not forward the frame. :func:`allow_all` is the default; :func:`refuse_writes` is the read-only
unit, independent of how read-only mode is configured.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from aiohttp import web

from signproxy.ws.frames import REFUSED_BY_POLICY

if TYPE_CHECKING:
    from signproxy.proxy.policy import Policy

# OKX's trading ops over WebSocket (OKX's API docs, Trade section), for documentation and tests;
# read-only mode does not rely on this list but on the allow-list below, so an op OKX adds later
# is refused too.
ORDER_OPS = frozenset(
    {
        "order",
        "batch-orders",
        "cancel-order",
        "batch-cancel-orders",
        "amend-order",
        "batch-amend-orders",
        "mass-cancel",
        "sprd-order",
        "sprd-amend-order",
        "sprd-cancel-order",
        "sprd-mass-cancel",
    }
)
READ_ONLY_OPS = frozenset({"login", "subscribe", "unsubscribe"})


@dataclass(frozen=True, slots=True)
class WsRefusal:
    """Why a request is refused: the code and message of the error event the client gets."""

    code: str
    msg: str


# The frame is None when it is not a JSON object (the keepalive "ping" never reaches a check).
OpCheck: TypeAlias = Callable[[web.Request, str, Mapping[str, Any] | None], WsRefusal | None]

# The REST endpoint each WebSocket trading op stands for: the endpoint policy judges the op as
# that request, so a deny rule on POST /api/v5/trade/order also stops {"op":"order"}.
OP_PATHS = {
    "order": "/api/v5/trade/order",
    "batch-orders": "/api/v5/trade/batch-orders",
    "cancel-order": "/api/v5/trade/cancel-order",
    "batch-cancel-orders": "/api/v5/trade/cancel-batch-orders",
    "amend-order": "/api/v5/trade/amend-order",
    "batch-amend-orders": "/api/v5/trade/amend-batch-orders",
    "mass-cancel": "/api/v5/trade/mass-cancel",
    "sprd-order": "/api/v5/sprd/order",
    "sprd-amend-order": "/api/v5/sprd/amend-order",
    "sprd-cancel-order": "/api/v5/sprd/cancel-order",
    "sprd-mass-cancel": "/api/v5/sprd/mass-cancel",
}


def allow_all(_request: web.Request, _channel: str, _frame: Mapping[str, Any] | None) -> None:
    """The default check: every request goes to OKX."""


def refuse_writes(
    _request: web.Request, _channel: str, frame: Mapping[str, Any] | None
) -> WsRefusal | None:
    """Read-only: refuse every op except login, subscribe and unsubscribe.

    That refuses all of :data:`ORDER_OPS` (and ``sprd-*``), and any op OKX adds later.
    A frame without ``op`` goes through: OKX acts on nothing without one. A frame that is not a
    JSON object cannot be checked, so it is refused (fail closed).
    """
    op = _write_op(frame)
    if op is _PASSES:
        return None
    if isinstance(op, WsRefusal):
        return op
    return WsRefusal(REFUSED_BY_POLICY, "refused by signproxy: read-only mode allows no orders")


_PASSES = object()
_UNCHECKABLE = WsRefusal(
    REFUSED_BY_POLICY, "refused by signproxy: a frame that is not a JSON object cannot be checked"
)


def _write_op(frame: Mapping[str, Any] | None) -> object:
    """Find what a frame may write: ``_PASSES`` when nothing, else its ``op`` (any JSON value).

    A frame that cannot be checked at all gives the refusal for that.
    """
    if frame is None:
        return _UNCHECKABLE
    if "op" not in frame:  # OKX acts on nothing without an op
        return _PASSES
    op = frame["op"]
    return _PASSES if isinstance(op, str) and op in READ_ONLY_OPS else op


def policy_check(policy: Policy) -> OpCheck:
    """The op check for an endpoint policy: each op is judged as the REST request it stands for.

    Without any rule touching the trading endpoints (the default), every op goes through. Once
    one does, the check fails closed: unknown ops and frames that are not JSON objects are
    refused too, since what OKX would do with them cannot be judged. Read-only mode refuses
    every op but login, subscribe and unsubscribe (:func:`refuse_writes`).
    """
    if policy.read_only:
        return refuse_writes
    if not any(policy.refusal("POST", path) for path in OP_PATHS.values()):
        return allow_all

    def check(
        _request: web.Request, _channel: str, frame: Mapping[str, Any] | None
    ) -> WsRefusal | None:
        op = _write_op(frame)
        if op is _PASSES:
            return None
        if isinstance(op, WsRefusal):
            return op
        path = OP_PATHS.get(op) if isinstance(op, str) else None
        if path is None:
            return WsRefusal(
                REFUSED_BY_POLICY, "refused by signproxy: an op the endpoint policy cannot judge"
            )
        rule = policy.refusal("POST", path)
        if rule is None:
            return None
        return WsRefusal(
            REFUSED_BY_POLICY,
            f"refused by signproxy: policy rule '{rule.name}' denies {op} (POST {path})",
        )

    return check
