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
from typing import Any, TypeAlias

from aiohttp import web

from signproxy.ws.frames import REFUSED_BY_POLICY

# OKX's trading ops over WebSocket (okx-facts.md), for documentation and tests; read-only mode
# does not rely on this list but on the allow-list below, so an op OKX adds later is refused too.
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


OpCheck: TypeAlias = Callable[[web.Request, str, Mapping[str, Any]], WsRefusal | None]


def allow_all(_request: web.Request, _channel: str, _frame: Mapping[str, Any]) -> None:
    """The default check: every request goes to OKX."""


def refuse_writes(
    _request: web.Request, _channel: str, frame: Mapping[str, Any]
) -> WsRefusal | None:
    """Read-only: refuse every op except login, subscribe and unsubscribe.

    That refuses all of :data:`ORDER_OPS` (and ``sprd-*``), and any op OKX adds later.
    A frame without ``op`` goes through: OKX acts on nothing without one.
    """
    if "op" not in frame:
        return None
    op = frame["op"]
    if isinstance(op, str) and op in READ_ONLY_OPS:
        return None
    return WsRefusal(REFUSED_BY_POLICY, "refused by signproxy: read-only mode allows no orders")
