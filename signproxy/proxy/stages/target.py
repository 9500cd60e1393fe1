"""Stage ``target``: the method and the canonical path and query that are judged and signed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from signproxy.errors import MethodNotAllowed
from signproxy.okx.canonical import split_target
from signproxy.proxy.pipeline import Stage

if TYPE_CHECKING:
    from signproxy.proxy.record import Exchange


class Target(Stage):
    """Refuse methods OKX does not take; fill ``path`` and ``target`` from the raw target."""

    name = "target"

    def check(self, exchange: Exchange) -> None:
        """Split and check the target (see :func:`~signproxy.okx.canonical.split_target`)."""
        if exchange.method not in ("GET", "POST"):
            raise MethodNotAllowed("OKX's REST API takes GET and POST only")
        exchange.path, exchange.target = split_target(exchange.raw_path, exchange.method)
