"""Noticing clients whose ``x-simulated-trading`` disagrees with their account, once per client.

The proxy sets the header from the account (demo: ``1``, live: none) whatever the client sends,
so a disagreement is harmless to the request, but it usually means a bot believes it trades on
the other environment: python-okx sends ``x-simulated-trading: 1`` unless told ``flag="0"``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog

if TYPE_CHECKING:
    from signproxy.settings.accounts import Account

# Clients are token names or addresses: few in practice, but addresses come from the network.
_MAX_REMEMBERED = 1024


class DemoFlagNotes:
    """Logs ``signproxy.demo_flag_mismatch`` the first time each client disagrees with its account.

    Memory is bounded: after :data:`_MAX_REMEMBERED` distinct clients the memory is cleared, so
    at worst a client is noted once more.
    """

    __slots__ = ("_log", "_seen")

    def __init__(self) -> None:
        """Start with no client noted."""
        self._seen: set[tuple[str, str, bool]] = set()
        self._log = structlog.get_logger("signproxy")

    def check(self, client: str, account: Account, flag: str | None) -> None:
        """Note ``client`` if ``flag`` (its header's value, or None) disagrees with ``account``."""
        if flag is None:
            return
        client_demo = flag.strip() == "1"
        if client_demo == account.demo:
            return
        key = (client, account.name, client_demo)
        if key in self._seen:
            return
        if len(self._seen) >= _MAX_REMEMBERED:
            self._seen.clear()
        self._seen.add(key)
        self._log.warning(
            "signproxy.demo_flag_mismatch",
            client=client,
            account=account.name,
            account_demo=account.demo,
            client_demo=client_demo,
            sent="demo" if account.demo else "live",
        )
