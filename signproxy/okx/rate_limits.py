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
from dataclasses import dataclass, field

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

    group: str = field(init=False, compare=False)
    """A short stable name for metrics and messages (``POST trade/order``)."""

    def __post_init__(self) -> None:
        """Name the group once (it is read on every request)."""
        object.__setattr__(self, "group", f"{self.method} {self.path.removeprefix('/api/v5/')}")

    @property
    def url(self) -> str:
        """Where OKX publishes this limit."""
        return DOCS + "#" + self.source


# The published limits. Columns: method, path after /api/v5/, limit, window, OKX's rule (see
# Scope), what is counted ("orders": each order of a batch), and the section of OKX's docs
# (prefixes below). cancel-algos: the current docs say "20 orders per 2 seconds" (older pages
# said requests); counting orders is the safe reading. account/instruments is per User ID +
# instType at OKX; one budget per user here (stricter).
_TABLE = """
POST trade/order                    60 2s user+instId req    trade:post-place-order
POST trade/batch-orders            300 2s user+instId orders trade:post-place-multiple-orders
POST trade/amend-order              60 2s user+instId req    trade:post-amend-order
POST trade/amend-batch-orders      300 2s user+instId orders trade:post-amend-multiple-orders
POST trade/cancel-order             60 2s user+instId req    trade:post-cancel-order
POST trade/cancel-batch-orders     300 2s user+instId orders trade:post-cancel-multiple-orders
POST trade/close-position           20 2s user+instId req    trade:post-close-positions
POST trade/mass-cancel               5 2s user        req    trade:post-mass-cancel-order
POST trade/cancel-all-after          1 1s user+tag    req    trade:post-cancel-all-after
POST trade/order-precheck            5 2s user        req    trade:post-order-precheck
GET  trade/order                    60 2s user+instId req    trade:get-order-details
GET  trade/orders-pending           60 2s user        req    trade:get-order-list
GET  trade/orders-history           40 2s user        req    trade:get-order-history-last-7-days
GET  trade/orders-history-archive   20 2s user        req    trade:get-order-history-last-3-months
GET  trade/fills                    60 2s user        req    trade:get-transaction-details-last-3-days
GET  trade/fills-history            10 2s user        req    trade:get-transaction-details-last-3-months
GET  trade/account-rate-limit        1 1s user        req    trade:get-account-rate-limit
POST trade/order-algo               20 2s user+instId req    algo:post-place-algo-order
POST trade/cancel-algos             20 2s user+instId orders algo:post-cancel-algo-order
POST trade/amend-algos              20 2s user+instId req    algo:post-amend-algo-order
GET  trade/order-algo               20 2s user        req    algo:get-algo-order-details
GET  trade/orders-algo-pending      20 2s user        req    algo:get-algo-order-list
GET  trade/orders-algo-history      20 2s user        req    algo:get-algo-order-history
GET  account/balance                10 2s user        req    account:get-balance
GET  account/positions              10 2s user        req    account:get-positions
GET  account/positions-history      10 2s user        req    account:get-positions-history
GET  account/account-position-risk  10 2s user        req    account:get-account-and-position-risk
GET  account/bills                   5 1s user        req    account:get-bills-details-last-7-days
GET  account/config                  5 2s user        req    account:get-account-configuration
POST account/set-position-mode       5 2s user        req    account:set-position-mode
POST account/set-leverage           20 2s user        req    account:set-leverage
GET  account/leverage-info          20 2s user        req    account:get-leverage
GET  account/max-size               20 2s user        req    account:get-maximum-order-quantity
GET  account/max-avail-size         20 2s user        req    account:get-maximum-available-balance-equity
GET  account/trade-fee               5 2s user        req    account:get-fee-rates
GET  account/instruments            20 2s user        req    account:get-instruments
GET  asset/currencies                6 1s user        req    funding:get-currencies
GET  asset/balances                  6 1s user        req    funding:get-balance
GET  public/time                    10 2s ip          req    public:get-system-time
GET  public/instruments             20 2s ip+instType req    public:get-instruments
GET  public/funding-rate            10 2s ip+instId   req    public:get-funding-rate
GET  public/mark-price              10 2s ip+instId   req    public:get-mark-price
GET  public/open-interest           20 2s ip+instId   req    public:get-open-interest
GET  public/price-limit             20 2s ip          req    public:get-limit-price
GET  market/tickers                 20 2s ip          req    market:get-tickers
GET  market/ticker                  20 2s ip          req    market:get-ticker
GET  market/books                   40 2s ip          req    market:get-order-book
GET  market/candles                 40 2s ip          req    market:get-candlesticks
GET  market/history-candles         20 2s ip          req    market:get-candlesticks-history
GET  market/trades                 100 2s ip          req    market:get-trades
"""  # noqa: E501 - one row per line reads as the table it is
_SECTIONS = {
    "trade:": "order-book-trading-trade-",
    "algo:": "order-book-trading-algo-trading-",
    "market:": "order-book-trading-market-data-",
    "account:": "trading-account-rest-api-",
    "public:": "public-data-rest-api-",
    "funding:": "funding-account-rest-api-",
}
_WINDOWS = {"1s": 1000, "2s": WINDOW_MS}
# A batch of one order counts against the single-order endpoint's limit.
_SINGLE_OF_BATCH = {
    "trade/batch-orders": "trade/order",
    "trade/amend-batch-orders": "trade/amend-order",
    "trade/cancel-batch-orders": "trade/cancel-order",
}


def _parse(table: str) -> tuple[RateLimit, ...]:
    rows = []
    for line in table.strip().splitlines():
        method, path, limit, window, scope, counted, section = line.split()
        prefix, _, anchor = section.partition(":")
        single = _SINGLE_OF_BATCH.get(path)
        rows.append(
            RateLimit(
                method,
                "/api/v5/" + path,
                int(limit),
                _WINDOWS[window],
                Scope(scope),
                _SECTIONS[prefix + ":"] + anchor,
                per_order=counted == "orders",
                single=None if single is None else "/api/v5/" + single,
            )
        )
    return tuple(rows)


_ROWS = _parse(_TABLE)

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
