"""Stage ``ws-exptime``: a WebSocket place or amend op gets the default ``expTime`` too.

The same window as REST (``SIGNPROXY_EXPTIME_MS``, on OKX's clock); the op's own ``expTime``
wins (the bridge keeps the client's field when it rebuilds the frame).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from signproxy.okx.exptime import EXPTIME_HEADER, EXPTIME_PATHS
from signproxy.proxy.pipeline import Stage

if TYPE_CHECKING:
    from signproxy.proxy.record import Exchange
    from signproxy.upstream.clock import Clock


class WsExpTime(Stage):
    """Set ``expTime`` on WebSocket place and amend ops."""

    name = "ws-exptime"

    def __init__(self, clock: Clock, exptime_ms: int | None) -> None:
        """Count ``exptime_ms`` from ``clock``'s idea of OKX's time (None: add none)."""
        self._clock = clock
        self._exptime_ms = exptime_ms

    def check(self, exchange: Exchange) -> None:
        """Add the default ``expTime`` to the op."""
        if self._exptime_ms is None or exchange.path not in EXPTIME_PATHS:
            return
        exchange.headers.setdefault(EXPTIME_HEADER, str(self._clock.now_ms() + self._exptime_ms))
