"""The optional default ``expTime`` header on order placement and amendment.

OKX does not process an order whose ``expTime`` (Unix milliseconds, server time) has passed, so a
request that sat in a queue somewhere cannot turn into a stale order. Only these four endpoints
support it; ``expTime`` is not part of the signed prehash.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

EXPTIME_HEADER = "expTime"
EXPTIME_PATHS = frozenset(
    {
        "/api/v5/trade/order",
        "/api/v5/trade/batch-orders",
        "/api/v5/trade/amend-order",
        "/api/v5/trade/amend-batch-orders",
    }
)


def default_exptime(
    method: str,
    path: str,
    headers: Mapping[str, str],
    now_ms: int,
    exptime_ms: int | None,
) -> str | None:
    """Return the ``expTime`` value to add, or None (not configured, not supported, or set).

    ``headers`` are the headers going to OKX so far (a client's own ``expTime`` among them).

    ``now_ms`` is the corrected (OKX) time, so the window is measured on OKX's clock.
    """
    if exptime_ms is None or method != "POST" or path not in EXPTIME_PATHS:
        return None
    if EXPTIME_HEADER in headers:
        return None
    return str(now_ms + exptime_ms)
