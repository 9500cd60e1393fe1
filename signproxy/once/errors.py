"""The exactly-once codes (SPX80x-SPX82x), under the tree drawn in :mod:`signproxy.errors`.

UpstreamError
├── OrderNotPlaced       502 SPX801  looked up after its expTime passed: not placed; send again
└── UpstreamDisconnected
    └── OutcomeStillUnknown 502 SPX301  resolution ran out of time; names the clOrdIds
RequestRejected
├── ClientOrderIdConflict 409 SPX810  a clOrdId already used for a different order
└── RetryMixed            409 SPX811  a batch mixes orders already sent with new ones
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from signproxy.errors import RequestRejected, UpstreamDisconnected, UpstreamError

if TYPE_CHECKING:
    from collections.abc import Iterable

NOT_PLACED_CODE = "SPX801"
UNKNOWN_CODE = "SPX301"
RESOLVED_HEADER = "X-Signproxy-Resolved"
REPLAYED_HEADER = "X-Signproxy-Replayed"


def _names(cl_ord_ids: Iterable[str | None]) -> str:
    return ", ".join(i or "(none)" for i in cl_ord_ids)


class OrderNotPlaced(UpstreamError):
    """The order was not placed: not found on OKX once OKX's clock had passed its expTime."""

    code = NOT_PLACED_CODE

    def __init__(self, cl_ord_ids: Iterable[str | None]) -> None:
        """Name the orders."""
        super().__init__(
            f"order not placed (clOrdId {_names(cl_ord_ids)}): OKX has no such order and its"
            " expTime has passed on OKX's clock, so it can no longer be executed; it may be sent"
            " again"
        )


class OutcomeStillUnknown(UpstreamDisconnected):
    """Resolution ran out of time: whether the orders exist is still unknown."""

    def __init__(self, why: str, cl_ord_ids: Iterable[str | None]) -> None:
        """Say why, and name the orders to look up."""
        super().__init__(
            f"{why}; looked up clOrdId {_names(cl_ord_ids)} until SIGNPROXY_RESOLVE_TIMEOUT"
            " without a conclusion",
            outcome_unknown=True,
        )


class ClientOrderIdConflict(RequestRejected):
    """The client order id was used, within the de-duplication window, for a different order."""

    status = 409
    code = "SPX810"


class RetryMixed(RequestRejected):
    """A batch holds orders already sent (by client order id) together with new ones."""

    status = 409
    code = "SPX811"
