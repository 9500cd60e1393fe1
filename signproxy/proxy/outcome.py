"""The one writer of outcomes: every finished exchange, answered, refused, failed or cut off.

The canonical log line is written here and nowhere else, then every observer is told (metrics,
readiness; the order journal). REST requests reach it from the middleware, WebSocket order ops
from the bridge when OKX's answer arrives, so an exchange whose client left is recorded the same
way as any other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import structlog

from signproxy.errors import ErrorKind
from signproxy.runtime.logbudget import CLIENT_FAULTS

if TYPE_CHECKING:
    from signproxy.proxy.record import Exchange


class Observer(Protocol):
    """Told when each request starts and when it is finished (its record is final then)."""

    def request_started(self) -> None:
        """A request arrived."""

    def request_finished(self, exchange: Exchange) -> None:
        """The exchange is finished; read it, don't keep it."""


class Outcomes:
    """Writes each finished exchange's log line and tells the observers, in that order."""

    __slots__ = ("_log", "_observers")

    def __init__(self, *observers: Observer) -> None:
        """Tell ``observers`` (more may be added with :meth:`add`)."""
        self._observers = list(observers)
        self._log = structlog.get_logger("signproxy")

    def add(self, observer: Observer) -> None:
        """Tell ``observer`` too, from now on."""
        self._observers.append(observer)

    def started(self) -> None:
        """A request arrived."""
        for observer in self._observers:
            observer.request_started()

    def finished(self, exchange: Exchange) -> None:
        """Write ``exchange``'s canonical log line and tell every observer."""
        error = exchange.error
        if error is None:
            level = "info"
        elif error.kind in (ErrorKind.UPSTREAM, ErrorKind.INTERNAL):
            level = "error"
        else:
            level = "warning"
        # A refusal is the client's doing: its lines are thinned past a per-second budget (the
        # observers, metrics among them, still count each one).
        if level != "warning" or CLIENT_FAULTS.admit("refusal"):
            getattr(self._log, level)("signproxy.request", **exchange.log_fields())
        for observer in self._observers:
            observer.request_finished(exchange)
