"""The switches' stages: a bot was seen, trading is halted, the guardrails judge the orders.

REST: ``deadman-touch`` right after ``select-account`` (any request on the account shows a bot
is alive, even one refused later), ``halt`` and ``guardrails`` after ``body`` (they read the
order view). WebSocket order ops pass ``halt`` and ``guardrails`` too; every WebSocket frame
touches the dead-man switch in the bridge.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from signproxy.okx.orders import Action
from signproxy.proxy.pipeline import Stage
from signproxy.switches.errors import GuardrailRefused, Halted

if TYPE_CHECKING:
    from signproxy.proxy.record import Exchange
    from signproxy.switches.deadman import Deadman
    from signproxy.switches.guardrails import Guardrails
    from signproxy.switches.halt import HaltBoard

# Orders that can open or grow exposure. Cancels, close-position and reads always pass.
_EXPOSING = frozenset({Action.PLACE, Action.AMEND})
# Endpoints outside the order list that also trade: trading bots placed through the API, and
# instant conversions (denied by the default policy, but an operator may allow them).
_EXPOSING_PATHS = frozenset(
    {
        "/api/v5/tradingBot/grid/order-algo",
        "/api/v5/tradingBot/grid/amend-order-algo",
        "/api/v5/tradingBot/recurring/order-algo",
        "/api/v5/tradingBot/recurring/amend-order-algo",
        "/api/v5/tradingBot/signal/order-algo",
        "/api/v5/tradingBot/signal/place-sub-order",
        "/api/v5/asset/convert/trade",
        "/api/v5/trade/easy-convert",
    }
)


def adds_exposure(exchange: Exchange) -> bool:
    """Whether the request may open or grow a position (what a halt refuses)."""
    endpoint = exchange.endpoint
    if endpoint is not None:
        return endpoint.action in _EXPOSING
    return exchange.method == "POST" and exchange.path in _EXPOSING_PATHS


class DeadmanTouch(Stage):
    """Tell the dead-man switch a bot used the account."""

    name = "deadman-touch"

    def __init__(self, deadman: Deadman) -> None:
        """Touch ``deadman``."""
        self._seen = deadman.seen

    def check(self, exchange: Exchange) -> None:
        """Mark the exchange's account as seen now."""
        self._seen(exchange.account_name)


class HaltCheck(Stage):
    """Refuse requests that add exposure while trading is halted (SPX850)."""

    name = "halt"

    def __init__(self, board: HaltBoard) -> None:
        """Read the halt from ``board`` on every request."""
        self._board = board

    def check(self, exchange: Exchange) -> None:
        """Raise :class:`Halted` for a request that adds exposure during a halt."""
        state = self._board.state
        if state.halted and adds_exposure(exchange):
            exchange.rule = "halt"
            reason = f": {state.reason}" if state.reason else ""
            raise Halted(
                f"trading is halted by operator {state.by or '?'}{reason}; cancels, reads and"
                " close-position still pass"
            )


class GuardrailCheck(Stage):
    """Judge every order of the request by the guardrail rules (SPX861-SPX866)."""

    name = "guardrails"

    def __init__(self, guardrails: Guardrails) -> None:
        """Judge with ``guardrails`` (its rules are swapped on reload)."""
        self._guardrails = guardrails

    def check(self, exchange: Exchange) -> None:
        """Raise a :class:`GuardrailRefused` naming rule, limit and order; else count it."""
        endpoint = exchange.endpoint
        if endpoint is None:
            return
        try:
            self._guardrails.judge(
                exchange.client, exchange.account_name, endpoint, exchange.payload
            )
        except GuardrailRefused as exc:
            exchange.rule = exc.rule
            raise
