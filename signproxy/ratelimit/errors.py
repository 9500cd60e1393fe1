"""The rate-limit refusals, SPX400-SPX419 (HTTP 429 with ``Retry-After``).

    RequestRejected
    ├── OverBudget      429 SPX400  over OKX's limit for this budget, after waiting what was allowed
    ├── BudgetOnHold    429 SPX401  OKX answered 50011 / 50061 lately: the budget rests its window
    ├── OverLimitAlone  429 SPX402  one request larger than the whole limit (never fits)
    └── BadMaxWait      400 SPX403  X-Signproxy-Max-Wait-Ms is not a whole number of ms >= 0

A refused request was never forwarded. The message names the budget: endpoint, instrument (or
family, or tag) and limit.
"""

from __future__ import annotations

import math

from signproxy.errors import RequestRejected


class RateLimited(RequestRejected):
    """Refused to keep within OKX's rate limits; ``headers`` carries ``Retry-After``."""

    status = 429
    code = "SPX400"

    def __init__(self, message: str, *, retry_after_ms: float, budget: str) -> None:
        """``retry_after_ms``: when the budget has room again; ``budget`` names it for the log."""
        super().__init__(message)
        self.retry_after_ms = retry_after_ms
        self.budget = budget
        # HTTP's Retry-After is whole seconds (RFC 9110): rounded up, so a client that obeys it
        # finds room; the exact figure is in its own header.
        self.headers = {
            "Retry-After": str(max(1, math.ceil(retry_after_ms / 1000))),
            "X-Signproxy-Retry-After-Ms": str(max(1, math.ceil(retry_after_ms))),
        }


class OverBudget(RateLimited):
    """The budget had no room within the wait the client allows."""

    code = "SPX400"


class BudgetOnHold(RateLimited):
    """OKX refused a request of this budget lately (50011 / 50061): it rests for its window."""

    code = "SPX401"


class OverLimitAlone(RateLimited):
    """The request alone takes more than the budget holds (or this worker's share of it)."""

    code = "SPX402"


class BadMaxWait(RequestRejected):
    """``X-Signproxy-Max-Wait-Ms`` must be a whole number of milliseconds."""

    code = "SPX403"
