"""Judging orders against the guardrail rules, and counting placed orders per minute.

Only requests that can open or grow exposure are judged: placing (single, batch, algo, spread)
and amending. Cancels and close-position pass untouched. Every item of a batch is judged before
anything is counted, so a refused batch is refused whole and counts nothing; a refusal names the
rule, the limit and the order (its index in a batch).

What each limit reads (the strings the client sent; OKX takes numbers as strings):

- ``instruments``: ``instId`` (an order without one, a spread order, is refused).
- ``max_size``: ``sz`` when placing, ``newSz`` when amending (an amend without ``newSz`` keeps
  the size, so it passes).
- ``max_notional``: ``sz`` x ``px`` (``newSz`` x ``newPx``), for SPOT and MARGIN instruments
  only, where ``sz`` is in the base currency and ``px`` in the quote currency. For SWAP,
  FUTURES and OPTION ``sz`` counts contracts (and an option's ``px`` is a premium), so the
  product is no notional and is not judged; use ``max_size`` there. Orders without a ``px``
  (market orders, most algo orders) are not judged either.
- ``reduce_only``: placing a SWAP, FUTURES or OPTION order needs ``reduceOnly`` true.
- ``max_orders_per_minute``: placed orders (each batch item) per client token and rule, over
  the last 60 s, counted in this process (each worker counts its own).
"""

from __future__ import annotations

import collections
import time
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from signproxy.okx.orders import Action
from signproxy.switches.errors import (
    InstrumentNotAllowed,
    NotionalTooLarge,
    OrderNotJudgeable,
    OrderRateExceeded,
    OrderTooLarge,
    ReduceOnlyRequired,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from signproxy.okx.orders import Endpoint
    from signproxy.switches.rules import Rule, Rules

WINDOW_S = 60.0
_JUDGED = frozenset({Action.PLACE, Action.AMEND})


def _number(value: object) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = Decimal(value if isinstance(value, str) else str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


class Guardrails:
    """The current rules (swapped on reload) and the per-minute counters."""

    def __init__(self, rules: Rules, now: Callable[[], float] = time.monotonic) -> None:
        """Judge by ``rules``; ``now`` is a monotonic clock in seconds."""
        self.rules = rules
        self._now = now
        self._placed: dict[tuple[str, str | None], collections.deque[float]] = {}

    def swap(self, rules: Rules) -> None:
        """Judge by ``rules`` from now on (counters of rules kept by name carry over)."""
        self.rules = rules

    def judge(
        self, client: str | None, account: str | None, endpoint: Endpoint, payload: object
    ) -> None:
        """Refuse the request if any applying rule refuses any of its orders; else count it.

        Raises:
            GuardrailRefused: one of its subclasses, naming rule, limit and order.
        """
        if endpoint.action not in _JUDGED:
            return
        rules = self.rules.applying(client, account)
        if not rules:
            return
        items = payload if isinstance(payload, list) else [payload]
        placing = endpoint.action is Action.PLACE
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                raise OrderNotJudgeable(
                    f"guardrail rule {rules[0].name!r}: order {index} is not a JSON object",
                    rule=rules[0].name,
                )
            order = _Order(item, endpoint, index)
            for rule in rules:
                _judge_order(rule, order, placing=placing)
        if placing:
            self._count(rules, client, len(items))

    def _count(self, rules: tuple[Rule, ...], client: str | None, orders: int) -> None:
        now = self._now()
        windows = []
        for rule in rules:
            limit = rule.max_orders_per_minute
            if limit is None:
                continue
            window = self._placed.setdefault((rule.name, client), collections.deque())
            while window and window[0] <= now - WINDOW_S:
                window.popleft()
            if len(window) + orders > limit:
                raise OrderRateExceeded(
                    f"guardrail rule {rule.name!r}: max_orders_per_minute {limit} reached"
                    f" ({len(window)} placed in the last minute, {orders} more asked)",
                    rule=rule.name,
                )
            windows.append(window)
        for window in windows:  # counted only once every rule has let the request through
            window.extend([now] * orders)


class _Order:
    """One order being judged: its fields, numbers parsed once for every rule, its name."""

    __slots__ = ("_numbers", "endpoint", "index", "item")

    def __init__(self, item: dict[str, Any], endpoint: Endpoint, index: int) -> None:
        self.item = item
        self.endpoint = endpoint
        self.index = index
        self._numbers: dict[str, Decimal | None] = {}

    def number(self, name: str) -> Decimal | None:
        if name not in self._numbers:
            self._numbers[name] = _number(self.item.get(name))
        return self._numbers[name]

    def where(self, inst_id: str | None = None) -> str:
        where = f"order {self.index}" if self.endpoint.batch else "the order"
        return where if inst_id is None else f"{where} ({inst_id})"


def _judge_order(rule: Rule, order: _Order, *, placing: bool) -> None:
    item = order.item
    inst_id = item.get("instId")
    if not isinstance(inst_id, str) or not inst_id:
        if rule.instruments is not None or rule.max_size or rule.reduce_only:
            raise OrderNotJudgeable(
                f"guardrail rule {rule.name!r}: {order.where()} has no instId to judge",
                rule=rule.name,
            )
        return
    facts = rule.facts(inst_id)
    if not facts.allowed:
        allowed = ", ".join(p.text for p in rule.instruments or ()) or "none"
        raise InstrumentNotAllowed(
            f"guardrail rule {rule.name!r}: {order.where(inst_id)} is not in"
            f" instruments [{allowed}]",
            rule=rule.name,
        )
    size_field = "sz" if placing else "newSz"
    limit = facts.size_limit
    if limit is not None and (placing or item.get(size_field) is not None):
        size = order.number(size_field)
        if size is None:
            raise OrderNotJudgeable(
                f"guardrail rule {rule.name!r}: {order.where(inst_id)} has no numeric {size_field}",
                rule=rule.name,
            )
        if size > limit[1]:
            raise OrderTooLarge(
                f"guardrail rule {rule.name!r}: {order.where(inst_id)} {size_field}"
                f" {size} is over max_size {limit[1]} (pattern {limit[0].text})",
                rule=rule.name,
            )
    if rule.max_notional is not None and not facts.derivative:
        _judge_notional(rule, order, inst_id, placing=placing)
    if rule.reduce_only and placing and facts.derivative:
        flag = item.get("reduceOnly")
        if flag is not True and str(flag).lower() != "true":
            raise ReduceOnlyRequired(
                f"guardrail rule {rule.name!r}: {order.where(inst_id)} is a derivative"
                " order and the rule allows only reduceOnly orders",
                rule=rule.name,
            )


def _judge_notional(rule: Rule, order: _Order, inst_id: str, *, placing: bool) -> None:
    size_field, px_field = ("sz", "px") if placing else ("newSz", "newPx")
    price = order.number(px_field)
    size = order.number(size_field)
    if price is None or size is None:
        return
    notional = size * price
    assert rule.max_notional is not None  # noqa: S101 - the caller checks
    if notional > rule.max_notional:
        raise NotionalTooLarge(
            f"guardrail rule {rule.name!r}: {order.where(inst_id)} notional"
            f" {notional.normalize():f} ({size_field} x {px_field}) is over max_notional"
            f" {rule.max_notional}",
            rule=rule.name,
        )
