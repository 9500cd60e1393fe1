"""Which budgets a request draws on, and how much: OKX's counting rules as a pure function.

A :class:`Draw` is one budget (its key, limit and window) and the amount a request takes from
it. One request may draw on several budgets at once, all or none: a batch of orders on two
instruments draws on each instrument's batch budget, and a place or amend also draws on the
sub-account's new + amend budget.

Keys hold no secret: the account is named by a short hash of its API key (two proxies that sign
with one key share its budgets, whatever they call the account). Keys of one account share a
Redis Cluster hash tag (``{a:...}``), so one Lua script may take them together.
"""

from __future__ import annotations

import functools
import hashlib
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from signproxy.okx.rate_limits import (
    SUB_ACCOUNT_LIMIT,
    SUB_ACCOUNT_PATHS,
    WINDOW_MS,
    RateLimit,
    Scope,
    rate_limit,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from signproxy.okx.orders import OrderView

_OPTION_PARTS = 5  # BTC-USD-250328-90000-C: underlying, quote, expiry, strike, C/P
SUB_ACCOUNT_GROUP = "sub-account new+amend"
UNKNOWN_INSTRUMENT = "?"  # orders without instId share one (stricter) budget


@dataclass(frozen=True, slots=True)
class Draw:
    """One budget and what a request takes from it.

    Attributes:
        key: the budget's name in the store (no secret in it).
        limit: how much the budget holds per window.
        window_ms: OKX's window for it.
        cost: how much this request takes (1, or the orders of a batch on one instrument).
        group: the endpoint group for metrics and messages (bounded: one per table row).
        instrument: the instrument (or family, or tag) the budget is for, if any.
    """

    key: str
    limit: int
    window_ms: int
    cost: int
    group: str
    instrument: str | None = None

    def describe(self) -> str:
        """Endpoint, instrument and limit, for the client's message."""
        where = f" for {self.instrument}" if self.instrument else ""
        return f"{self.group}{where}: {self.limit} per {self.window_ms / 1000:g} s"


@functools.lru_cache(maxsize=256)  # a SHA-256 per request otherwise; keys are few
def account_id(api_key: str) -> str:
    """A short, stable, non-secret name for an API key's budgets."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:16]


def instrument_key(inst_id: str | None, inst_family: str | None) -> str:
    """What OKX counts trade budgets by: the instrument, or for options its family."""
    if inst_id:
        parts = inst_id.split("-")
        if len(parts) == _OPTION_PARTS and parts[-1] in ("C", "P"):
            return f"{parts[0]}-{parts[1]}"
        return inst_id
    return inst_family or UNKNOWN_INSTRUMENT


@dataclass(frozen=True, slots=True)
class Request:
    """What the counting rules look at (filled from an Exchange by the stage)."""

    method: str
    path: str
    account: str | None  # account_id(...) of the signing key; None for unsigned calls
    query: Mapping[str, str]
    orders: tuple[OrderView, ...] = ()
    tag: str | None = None  # cancel-all-after's tag


def draws_for(
    request: Request, *, ip_key: str, sub_account_limit: int = SUB_ACCOUNT_LIMIT
) -> tuple[Draw, ...] | None:
    """The budgets ``request`` draws on; None when the table has no limit for it.

    ``ip_key`` names this proxy's egress IP (public endpoints count per IP);
    ``sub_account_limit`` is the account's new + amend limit (1000, or ``accRateLimit``).
    """
    row = rate_limit(request.method, request.path)
    if row is None:
        return None
    if row.scope in (Scope.IP, Scope.IP_INSTRUMENT, Scope.IP_INST_TYPE) or request.account is None:
        return (_public(row, request, ip_key),)
    owner = f"{{a:{request.account}}}"
    if row.scope is Scope.USER:
        return (Draw(f"{owner}|{row.group}", row.limit, row.window_ms, 1, row.group),)
    if row.scope is Scope.USER_TAG:
        tag = request.tag or ""
        return (Draw(f"{owner}|{row.group}|{tag}", row.limit, row.window_ms, 1, row.group, tag),)
    return _trade(row, request, owner, sub_account_limit)


def _public(row: RateLimit, request: Request, ip_key: str) -> Draw:
    detail = None
    if row.scope is Scope.IP_INSTRUMENT:
        detail = request.query.get("instId", "")
    elif row.scope is Scope.IP_INST_TYPE:
        detail = request.query.get("instType", "")
    suffix = "" if detail is None else f"|{detail}"
    return Draw(
        f"{{ip:{ip_key}}}|{row.group}{suffix}", row.limit, row.window_ms, 1, row.group, detail
    )


def _trade(
    row: RateLimit, request: Request, owner: str, sub_account_limit: int
) -> tuple[Draw, ...]:
    if request.method == "GET":  # order details: instId in the query
        inst = instrument_key(request.query.get("instId"), request.query.get("instFamily"))
        return (Draw(f"{owner}|{row.group}|{inst}", row.limit, row.window_ms, 1, row.group, inst),)
    orders = request.orders
    if len(orders) == 1:  # the common case, without the Counter
        only = orders[0]
        per_instrument = {instrument_key(only.inst_id, only.inst_family): 1}
    else:
        per_instrument = Counter(instrument_key(o.inst_id, o.inst_family) for o in orders)
    if not per_instrument:
        per_instrument = {UNKNOWN_INSTRUMENT: 1}  # OKX refuses it, but counts it all the same
    if row.single is not None and len(orders) <= 1:
        # "a batch with one order counts against the single-order limit"
        single = rate_limit(row.method, row.single)
        row = single if single is not None else row
    draws = [
        Draw(
            f"{owner}|{row.group}|{inst}",
            row.limit,
            row.window_ms,
            count if row.per_order else 1,
            row.group,
            inst,
        )
        for inst, count in sorted(per_instrument.items())
    ]
    if request.path in SUB_ACCOUNT_PATHS:
        draws.append(
            Draw(
                f"{owner}|sub-account",
                sub_account_limit,
                WINDOW_MS,
                max(len(orders), 1),
                SUB_ACCOUNT_GROUP,
            )
        )
    return tuple(draws)
