"""Stage ``select-account``: which account signs the request."""

from __future__ import annotations

from typing import TYPE_CHECKING

from signproxy.proxy.pipeline import Stage

if TYPE_CHECKING:
    from signproxy.proxy.record import Exchange
    from signproxy.proxy.selection import Selector


class SelectAccount(Stage):
    """Take the account once (a reload during the request does not change it).

    Fills ``account``, ``account_name`` and strips the ``/a/<name>`` prefix from ``raw_path``.
    """

    name = "select-account"

    def __init__(self, selector: Selector) -> None:
        """Select from the accounts ``selector`` holds (swapped on reload)."""
        self._selector = selector

    def check(self, exchange: Exchange) -> None:
        """Pick the account, or raise one of the ``Account*`` refusals."""
        assert exchange.http is not None  # noqa: S101 - REST exchanges always carry their request
        account, exchange.raw_path = self._selector.select(
            exchange.http, exchange.raw_path, exchange
        )
        exchange.account = account
