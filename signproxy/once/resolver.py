"""Settle an unknown outcome: look each order up by its client order id.

OKX keeps a placed order findable by ``clOrdId`` (``GET /api/v5/trade/order``), live, filled or
cancelled. An order that is not found may still be on its way, so "not placed" is concluded only
from a look-up sent after OKX's clock (the proxy's :class:`~signproxy.upstream.okx_clock.OkxClock`
estimate, less a margin for its error) has passed the order's ``expTime``: OKX does not process
an order whose ``expTime`` has passed, so it can never appear later. Anything else (no expTime,
look-ups failing) stays unknown when the time is up.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

import structlog

from signproxy.errors import UpstreamError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from signproxy.okx.orders import Endpoint, OrderView
    from signproxy.settings.accounts import Account
    from signproxy.upstream.client import Upstream
    from signproxy.upstream.clock import Clock

# The proxy's estimate of OKX's clock is off by about half a round trip; a second more is safe.
CLOCK_MARGIN_MS = 1000
_NOT_FOUND = frozenset({"51603"})  # "Order does not exist"
_FIRST_POLL_S = 0.2
_MAX_POLL_S = 1.0

State = Literal["placed", "not-placed", "unknown"]


@dataclass(frozen=True, slots=True)
class Finding:
    """What the look-ups found for one order; ``order`` is OKX's record when placed."""

    index: int
    cl_ord_id: str | None
    state: State
    order: dict[str, Any] | None = None


def lookup_target(endpoint: Endpoint, view: OrderView) -> str | None:
    """The look-up request target for ``view``, or None when it cannot be looked up."""
    if not view.cl_ord_id:
        return None
    ident = quote(view.cl_ord_id, safe="")
    if endpoint.algo:
        return f"/api/v5/trade/order-algo?algoClOrdId={ident}"
    if endpoint.path.startswith("/api/v5/sprd/"):
        return f"/api/v5/sprd/order?clOrdId={ident}"
    if not view.inst_id:
        return None
    return f"/api/v5/trade/order?instId={quote(view.inst_id, safe='-')}&clOrdId={ident}"


class Resolver:
    """Looks orders up through the proxy's own upstream session, signed with their account."""

    def __init__(self, upstream: Upstream, clock: Clock, timeout_s: float) -> None:
        """Look up for at most ``timeout_s`` per resolution, at ``clock``'s idea of OKX's time."""
        self._upstream = upstream
        self._clock = clock
        self.timeout_s = timeout_s
        self._log = structlog.get_logger("signproxy")

    async def resolve(
        self,
        account: Account,
        endpoint: Endpoint,
        orders: Sequence[OrderView],
        exp_time_ms: int | None,
    ) -> list[Finding]:
        """Each order's finding, in the order given; every order is judged on its own."""
        deadline = time.monotonic() + self.timeout_s
        findings: dict[int, Finding] = {}
        pending = []
        for view in orders:
            target = lookup_target(endpoint, view)
            if target is None:
                findings[view.index] = Finding(view.index, view.cl_ord_id, "unknown")
            else:
                pending.append((view, target))
        poll = _FIRST_POLL_S
        while pending:
            still = []
            for view, target in pending:
                finding = await self._look(account, view, target, exp_time_ms)
                if finding is None:
                    still.append((view, target))
                else:
                    findings[view.index] = finding
            pending = still
            left = deadline - time.monotonic()
            if not pending or left <= 0:
                break
            wait = poll
            if exp_time_ms is not None:  # no sooner than needed, no later than expTime passing
                until_exp = (exp_time_ms + CLOCK_MARGIN_MS - self._clock.now_ms()) / 1000
                wait = max(0.05, min(poll, until_exp)) if until_exp > 0 else poll
            await asyncio.sleep(min(wait, left))
            poll = min(poll * 2, _MAX_POLL_S)
        for view, _ in pending:
            findings[view.index] = Finding(view.index, view.cl_ord_id, "unknown")
        return [findings[view.index] for view in orders]

    async def _look(
        self, account: Account, view: OrderView, target: str, exp_time_ms: int | None
    ) -> Finding | None:
        """One look-up; None when it settles nothing yet."""
        now_ms = self._clock.now_ms()  # read before sending: the look-up is at least this late
        headers = account.signed_headers(now_ms, "GET", target, b"")
        try:
            answer = await self._upstream.send(
                "GET", target, headers, b"", base_url=account.upstream
            )
            parsed = json.loads(answer.body)
        except (UpstreamError, ValueError) as exc:
            self._log.info("signproxy.lookup_failed", clOrdId=view.cl_ord_id, error=str(exc)[:80])
            return None
        code = str(parsed.get("code")) if isinstance(parsed, dict) else None
        data = parsed.get("data") if isinstance(parsed, dict) else None
        if code == "0" and isinstance(data, list) and data and isinstance(data[0], dict):
            return Finding(view.index, view.cl_ord_id, "placed", data[0])
        if (
            code in _NOT_FOUND
            and exp_time_ms is not None
            and now_ms > exp_time_ms + CLOCK_MARGIN_MS
        ):
            return Finding(view.index, view.cl_ord_id, "not-placed")
        return None


def exp_time_of(headers: dict[str, str]) -> int | None:
    """The ``expTime`` a request was sent with, as Unix ms (None when absent or malformed)."""
    value = headers.get("expTime")
    if value is None or not value.isdigit():
        return None
    return int(value)
