"""OKX's rate limits, emulated: the same table and counting rules as the proxy, no margin.

A request over an endpoint's limit gets ``50011`` with HTTP 429, over the sub-account's new +
amend limit ``50061`` with HTTP 200, as OKX answers them. Refused requests take nothing from any
budget. Public endpoints count per client address, private ones per API key.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from signproxy.okx.orders import ORDER_ENDPOINTS, orders_in
from signproxy.okx.rate_limits import RATE_LIMITED, SUB_ACCOUNT_LIMIT, SUB_ACCOUNT_LIMITED
from signproxy.ratelimit.draws import SUB_ACCOUNT_GROUP, Request, account_id, draws_for
from signproxy.ratelimit.window import SlidingLog

if TYPE_CHECKING:
    from collections.abc import Mapping

Refusal = tuple[int, dict[str, Any]]

_RATE_LIMITED_MSG = "Too Many Requests"
_SUB_ACCOUNT_MSG = "You've reached the maximum order rate limit for this account."


@dataclass
class EmulatedLimits:
    """Budgets of every key and address the emulator has seen.

    Attributes:
        enabled: enforce at all (tests of other features turn it off).
        acc_rate_limits: a key's ``accRateLimit`` (what ``GET /api/v5/trade/account-rate-limit``
            reports and the sub-account limit then is); unset keys get 1000 and report "".
    """

    enabled: bool = True
    acc_rate_limits: dict[str, int] = field(default_factory=dict)
    # Wall-clock time: a request counts when it arrived (``Received.at``), not when its body was
    # read, as OKX's gateway counts it.
    _log: SlidingLog = field(default_factory=lambda: SlidingLog(clock=time.time))

    def check(  # noqa: PLR0913 - what OKX looks at, all keyword-only
        self,
        *,
        method: str,
        path: str,
        api_key: str | None,
        remote: str,
        query: Mapping[str, str],
        body: Any,  # noqa: ANN401 - the parsed JSON body (or a WebSocket op's args)
        at: float | None = None,
    ) -> Refusal | None:
        """Take the request's budgets; OKX's refusal when one has no room, else None.

        ``at``: when the request arrived (``time.time()``), if not now.
        """
        if not self.enabled:
            return None
        endpoint = ORDER_ENDPOINTS.get(path) if method == "POST" else None
        orders = orders_in(body, endpoint) if endpoint is not None else ()
        tag = body.get("tag") if isinstance(body, dict) else None
        request = Request(
            method,
            path,
            None if api_key is None else account_id(api_key),
            query,
            orders,
            tag if isinstance(tag, str) else None,
        )
        limit = self.acc_rate_limits.get(api_key or "", SUB_ACCOUNT_LIMIT)
        draws = draws_for(request, ip_key=remote, sub_account_limit=limit)
        if not draws:
            return None
        taken = self._log.take(draws, at=at)
        if taken.ok:
            return None
        blocked = [d for d, left in zip(draws, taken.remaining, strict=True) if left < d.cost]
        if blocked and all(d.group == SUB_ACCOUNT_GROUP for d in blocked):
            return 200, {"code": SUB_ACCOUNT_LIMITED, "msg": _SUB_ACCOUNT_MSG, "data": []}
        return 429, {"code": RATE_LIMITED, "msg": _RATE_LIMITED_MSG, "data": []}

    def account_rate_limit(self, api_key: str, now_ms: int) -> dict[str, str]:
        """The ``data`` item of ``GET /api/v5/trade/account-rate-limit`` for ``api_key``."""
        limit = self.acc_rate_limits.get(api_key)
        text = "" if limit is None else str(limit)
        return {
            "accRateLimit": text,
            "nextAccRateLimit": text,
            "fillRatio": "",
            "mainFillRatio": "",
            "ts": str(now_ms),
        }
