"""OKX's published REST rate limits, as data: one row per endpoint, with the page it comes from.

Pure: no I/O. Every number below is copied from the endpoint's own "Rate Limit: N requests per
2 seconds" and "Rate limit rule: ..." lines in OKX's API docs (https://www.okx.com/docs-v5/en/,
anchor in ``source``), looked up for issue 15 and listed in docs/rate-limits.md. The rules that
are not per endpoint (overview, "Rate limits"):

- public endpoints count per IP; private ones per User ID (each sub-account its own);
- place, amend and cancel count per User ID + Instrument ID (options: + Instrument Family), each
  independently, and REST shares them with the WebSocket ops;
- a batch counts per order; a batch of one order counts against the single-order limit;
- in parallel, a sub-account may send 1000 new + amended orders per 2 s (``50061``), more for
  VIP5+ accounts with a good fill ratio (``GET /api/v5/trade/account-rate-limit``).

An endpoint missing here is not limited by the proxy (it is counted in a metric instead).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

DOCS = "https://www.okx.com/docs-v5/en/"
WINDOW_MS = 2000  # "per 2 seconds", OKX's usual window


class Scope(enum.Enum):
    """Whose budget a request draws on (OKX's "Rate limit rule")."""

    USER = "user"  # User ID
    USER_INSTRUMENT = "user+instId"  # User ID + Instrument ID (options: Instrument Family)
    USER_TAG = "user+tag"  # User ID + tag (cancel-all-after)
    IP = "ip"
    IP_INSTRUMENT = "ip+instId"
    IP_INST_TYPE = "ip+instType"


@dataclass(frozen=True, slots=True)
class RateLimit:
    """One endpoint's published limit.

    Attributes:
        method, path: the REST call.
        limit: requests (or orders, when ``per_order``) allowed per ``window_ms``.
        scope: how the budget is keyed.
        per_order: a batch endpoint, counted per order.
        single: for a batch endpoint, the single-order endpoint a one-order batch counts against.
        source: the anchor of the endpoint's section in OKX's docs.
    """

    method: str
    path: str
    limit: int
    window_ms: int
    scope: Scope
    source: str
    per_order: bool = False
    single: str | None = None

    @property
    def group(self) -> str:
        """A short stable name for metrics and messages (``POST trade/order``)."""
        return f"{self.method} {self.path.removeprefix('/api/v5/')}"

    @property
    def url(self) -> str:
        """Where OKX publishes this limit."""
        return DOCS + "#" + self.source


_TRADE = "order-book-trading-trade-"
_ALGO = "order-book-trading-algo-trading-"
_MARKET = "order-book-trading-market-data-"
_ACCOUNT = "trading-account-rest-api-"
_PUBLIC = "public-data-rest-api-"
_FUNDING = "funding-account-rest-api-"
_U, _UI, _IP = Scope.USER, Scope.USER_INSTRUMENT, Scope.IP
_S = 1000  # "per second"

_ROWS = (
    # Trade: place, amend and cancel (shared with the WebSocket ops of the same name).
    RateLimit("POST", "/api/v5/trade/order", 60, WINDOW_MS, _UI, _TRADE + "post-place-order"),
    RateLimit(
        "POST", "/api/v5/trade/batch-orders", 300, WINDOW_MS, _UI,
        _TRADE + "post-place-multiple-orders", per_order=True, single="/api/v5/trade/order",
    ),  # fmt: skip
    RateLimit("POST", "/api/v5/trade/amend-order", 60, WINDOW_MS, _UI, _TRADE + "post-amend-order"),
    RateLimit(
        "POST", "/api/v5/trade/amend-batch-orders", 300, WINDOW_MS, _UI,
        _TRADE + "post-amend-multiple-orders", per_order=True, single="/api/v5/trade/amend-order",
    ),  # fmt: skip
    RateLimit(
        "POST", "/api/v5/trade/cancel-order", 60, WINDOW_MS, _UI, _TRADE + "post-cancel-order"
    ),
    RateLimit(
        "POST", "/api/v5/trade/cancel-batch-orders", 300, WINDOW_MS, _UI,
        _TRADE + "post-cancel-multiple-orders", per_order=True, single="/api/v5/trade/cancel-order",
    ),  # fmt: skip
    RateLimit(
        "POST", "/api/v5/trade/close-position", 20, WINDOW_MS, _UI, _TRADE + "post-close-positions"
    ),
    RateLimit("POST", "/api/v5/trade/mass-cancel", 5, WINDOW_MS, _U, _TRADE + "post-mass-cancel-order"),
    RateLimit(
        "POST", "/api/v5/trade/cancel-all-after", 1, _S, Scope.USER_TAG,
        _TRADE + "post-cancel-all-after",
    ),  # fmt: skip
    RateLimit("POST", "/api/v5/trade/order-precheck", 5, WINDOW_MS, _U, _TRADE + "post-order-precheck"),
    # Trade: look-ups.
    RateLimit("GET", "/api/v5/trade/order", 60, WINDOW_MS, _UI, _TRADE + "get-order-details"),
    RateLimit("GET", "/api/v5/trade/orders-pending", 60, WINDOW_MS, _U, _TRADE + "get-order-list"),
    RateLimit(
        "GET", "/api/v5/trade/orders-history", 40, WINDOW_MS, _U,
        _TRADE + "get-order-history-last-7-days",
    ),  # fmt: skip
    RateLimit(
        "GET", "/api/v5/trade/orders-history-archive", 20, WINDOW_MS, _U,
        _TRADE + "get-order-history-last-3-months",
    ),  # fmt: skip
    RateLimit(
        "GET", "/api/v5/trade/fills", 60, WINDOW_MS, _U,
        _TRADE + "get-transaction-details-last-3-days",
    ),  # fmt: skip
    RateLimit(
        "GET", "/api/v5/trade/fills-history", 10, WINDOW_MS, _U,
        _TRADE + "get-transaction-details-last-3-months",
    ),  # fmt: skip
    RateLimit("GET", "/api/v5/trade/account-rate-limit", 1, _S, _U, _TRADE + "get-account-rate-limit"),
    # Algo orders. cancel-algos: the current docs say "20 orders per 2 seconds" (older pages
    # said requests); counting orders is the safe reading of the two.
    RateLimit("POST", "/api/v5/trade/order-algo", 20, WINDOW_MS, _UI, _ALGO + "post-place-algo-order"),
    RateLimit(
        "POST", "/api/v5/trade/cancel-algos", 20, WINDOW_MS, _UI,
        _ALGO + "post-cancel-algo-order", per_order=True,
    ),  # fmt: skip
    RateLimit("POST", "/api/v5/trade/amend-algos", 20, WINDOW_MS, _UI, _ALGO + "post-amend-algo-order"),
    RateLimit("GET", "/api/v5/trade/order-algo", 20, WINDOW_MS, _U, _ALGO + "get-algo-order-details"),
    RateLimit(
        "GET", "/api/v5/trade/orders-algo-pending", 20, WINDOW_MS, _U, _ALGO + "get-algo-order-list"
    ),
    RateLimit(
        "GET", "/api/v5/trade/orders-algo-history", 20, WINDOW_MS, _U,
        _ALGO + "get-algo-order-history",
    ),  # fmt: skip
    # Trading account.
    RateLimit("GET", "/api/v5/account/balance", 10, WINDOW_MS, _U, _ACCOUNT + "get-balance"),
    RateLimit("GET", "/api/v5/account/positions", 10, WINDOW_MS, _U, _ACCOUNT + "get-positions"),
    RateLimit(
        "GET", "/api/v5/account/positions-history", 10, WINDOW_MS, _U,
        _ACCOUNT + "get-positions-history",
    ),  # fmt: skip
    RateLimit(
        "GET", "/api/v5/account/account-position-risk", 10, WINDOW_MS, _U,
        _ACCOUNT + "get-account-and-position-risk",
    ),  # fmt: skip
    RateLimit(
        "GET", "/api/v5/account/bills", 5, _S, _U, _ACCOUNT + "get-bills-details-last-7-days"
    ),
    RateLimit(
        "GET", "/api/v5/account/config", 5, WINDOW_MS, _U, _ACCOUNT + "get-account-configuration"
    ),
    RateLimit(
        "POST", "/api/v5/account/set-position-mode", 5, WINDOW_MS, _U,
        _ACCOUNT + "set-position-mode",
    ),  # fmt: skip
    RateLimit("POST", "/api/v5/account/set-leverage", 20, WINDOW_MS, _U, _ACCOUNT + "set-leverage"),
    RateLimit("GET", "/api/v5/account/leverage-info", 20, WINDOW_MS, _U, _ACCOUNT + "get-leverage"),
    RateLimit(
        "GET", "/api/v5/account/max-size", 20, WINDOW_MS, _U,
        _ACCOUNT + "get-maximum-order-quantity",
    ),  # fmt: skip
    RateLimit(
        "GET", "/api/v5/account/max-avail-size", 20, WINDOW_MS, _U,
        _ACCOUNT + "get-maximum-available-balance-equity",
    ),  # fmt: skip
    RateLimit("GET", "/api/v5/account/trade-fee", 5, WINDOW_MS, _U, _ACCOUNT + "get-fee-rates"),
    RateLimit(
        "GET", "/api/v5/account/instruments", 20, WINDOW_MS, _U, _ACCOUNT + "get-instruments"
    ),
    # Funding account (the asset endpoints allow N per second).
    RateLimit("GET", "/api/v5/asset/currencies", 6, _S, _U, _FUNDING + "get-currencies"),
    RateLimit("GET", "/api/v5/asset/balances", 6, _S, _U, _FUNDING + "get-balance"),
    # Public data and market data: per IP.
    RateLimit("GET", "/api/v5/public/time", 10, WINDOW_MS, _IP, _PUBLIC + "get-system-time"),
    RateLimit(
        "GET", "/api/v5/public/instruments", 20, WINDOW_MS, Scope.IP_INST_TYPE,
        _PUBLIC + "get-instruments",
    ),  # fmt: skip
    RateLimit(
        "GET", "/api/v5/public/funding-rate", 10, WINDOW_MS, Scope.IP_INSTRUMENT,
        _PUBLIC + "get-funding-rate",
    ),  # fmt: skip
    RateLimit(
        "GET", "/api/v5/public/mark-price", 10, WINDOW_MS, Scope.IP_INSTRUMENT,
        _PUBLIC + "get-mark-price",
    ),  # fmt: skip
    RateLimit(
        "GET", "/api/v5/public/open-interest", 20, WINDOW_MS, Scope.IP_INSTRUMENT,
        _PUBLIC + "get-open-interest",
    ),  # fmt: skip
    RateLimit("GET", "/api/v5/public/price-limit", 20, WINDOW_MS, _IP, _PUBLIC + "get-limit-price"),
    RateLimit("GET", "/api/v5/market/tickers", 20, WINDOW_MS, _IP, _MARKET + "get-tickers"),
    RateLimit("GET", "/api/v5/market/ticker", 20, WINDOW_MS, _IP, _MARKET + "get-ticker"),
    RateLimit("GET", "/api/v5/market/books", 40, WINDOW_MS, _IP, _MARKET + "get-order-book"),
    RateLimit("GET", "/api/v5/market/candles", 40, WINDOW_MS, _IP, _MARKET + "get-candlesticks"),
    RateLimit(
        "GET", "/api/v5/market/history-candles", 20, WINDOW_MS, _IP,
        _MARKET + "get-candlesticks-history",
    ),  # fmt: skip
    RateLimit("GET", "/api/v5/market/trades", 100, WINDOW_MS, _IP, _MARKET + "get-trades"),
)

RATE_LIMITS: dict[tuple[str, str], RateLimit] = {(r.method, r.path): r for r in _ROWS}
"""Every published limit the proxy keeps, by (method, path)."""

SUB_ACCOUNT_LIMIT = 1000
"""New + amended orders per 2 s per sub-account, in parallel with the per-instrument limits
(overview, "Sub-account rate limit"; refused with ``50061``)."""
SUB_ACCOUNT_SOURCE = "overview-rate-limits-sub-account-rate-limit"
SUB_ACCOUNT_PATHS = frozenset(
    {
        "/api/v5/trade/order",
        "/api/v5/trade/batch-orders",
        "/api/v5/trade/amend-order",
        "/api/v5/trade/amend-batch-orders",
    }
)
"""The endpoints (and their WebSocket twins) whose orders count against the sub-account limit."""
ACCOUNT_RATE_LIMIT_PATH = "/api/v5/trade/account-rate-limit"
RATE_LIMITED = "50011"  # HTTP 429 (sometimes 200): over an endpoint's limit
SUB_ACCOUNT_LIMITED = "50061"  # over the sub-account's new + amend limit


def rate_limit(method: str, path: str) -> RateLimit | None:
    """The published limit of ``method path``, or None when the proxy keeps none for it."""
    return RATE_LIMITS.get((method, path))
