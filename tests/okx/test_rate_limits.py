"""OKX's published rate limits, asserted as OKX's docs print them (not as the emulator copies them)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from signproxy.emulator.endpoints import _ROUTES
from signproxy.okx.orders import ORDER_ENDPOINTS
from signproxy.okx.rate_limits import (
    RATE_LIMITS,
    SUB_ACCOUNT_LIMIT,
    SUB_ACCOUNT_PATHS,
    Scope,
    rate_limit,
)

# (method, path, N, per ms, rule, counted per order), copied by hand from each endpoint's
# "Rate Limit" and "Rate limit rule" lines at https://www.okx.com/docs-v5/en/.
PUBLISHED = [
    ("POST", "/api/v5/trade/order", 60, 2000, Scope.USER_INSTRUMENT, False),
    ("POST", "/api/v5/trade/batch-orders", 300, 2000, Scope.USER_INSTRUMENT, True),
    ("POST", "/api/v5/trade/amend-order", 60, 2000, Scope.USER_INSTRUMENT, False),
    ("POST", "/api/v5/trade/amend-batch-orders", 300, 2000, Scope.USER_INSTRUMENT, True),
    ("POST", "/api/v5/trade/cancel-order", 60, 2000, Scope.USER_INSTRUMENT, False),
    ("POST", "/api/v5/trade/cancel-batch-orders", 300, 2000, Scope.USER_INSTRUMENT, True),
    ("POST", "/api/v5/trade/order-algo", 20, 2000, Scope.USER_INSTRUMENT, False),
    ("POST", "/api/v5/trade/amend-algos", 20, 2000, Scope.USER_INSTRUMENT, False),
    ("POST", "/api/v5/trade/cancel-algos", 20, 2000, Scope.USER_INSTRUMENT, True),
    ("POST", "/api/v5/trade/close-position", 20, 2000, Scope.USER_INSTRUMENT, False),
    ("POST", "/api/v5/trade/cancel-all-after", 1, 1000, Scope.USER_TAG, False),
    ("POST", "/api/v5/trade/mass-cancel", 5, 2000, Scope.USER, False),
    ("GET", "/api/v5/trade/order", 60, 2000, Scope.USER_INSTRUMENT, False),
    ("GET", "/api/v5/trade/orders-pending", 60, 2000, Scope.USER, False),
    ("GET", "/api/v5/trade/orders-history", 40, 2000, Scope.USER, False),
    ("GET", "/api/v5/trade/fills", 60, 2000, Scope.USER, False),
    ("GET", "/api/v5/trade/orders-algo-pending", 20, 2000, Scope.USER, False),
    ("GET", "/api/v5/trade/account-rate-limit", 1, 1000, Scope.USER, False),
    ("GET", "/api/v5/account/balance", 10, 2000, Scope.USER, False),
    ("GET", "/api/v5/account/positions", 10, 2000, Scope.USER, False),
    ("GET", "/api/v5/account/config", 5, 2000, Scope.USER, False),
    ("POST", "/api/v5/account/set-leverage", 20, 2000, Scope.USER, False),
    ("GET", "/api/v5/asset/currencies", 6, 1000, Scope.USER, False),
    ("GET", "/api/v5/public/time", 10, 2000, Scope.IP, False),
    ("GET", "/api/v5/public/instruments", 20, 2000, Scope.IP_INST_TYPE, False),
    ("GET", "/api/v5/market/tickers", 20, 2000, Scope.IP, False),
    ("GET", "/api/v5/market/books", 40, 2000, Scope.IP, False),
    ("GET", "/api/v5/market/candles", 40, 2000, Scope.IP, False),
]


@pytest.mark.parametrize(("method", "path", "limit", "window", "scope", "per_order"), PUBLISHED)
def test_published_limit(method, path, limit, window, scope, per_order):
    """Each endpoint's row holds the number, window, rule and counting OKX publishes."""
    row = rate_limit(method, path)
    assert row is not None
    assert (row.limit, row.window_ms, row.scope, row.per_order) == (
        limit,
        window,
        scope,
        per_order,
    )


def test_sub_account_limit_is_1000_new_and_amended_orders():
    """The sub-account limit is OKX's 1000 per 2 s over place and amend, single and batch."""
    assert SUB_ACCOUNT_LIMIT == 1000
    assert {
        "/api/v5/trade/order",
        "/api/v5/trade/batch-orders",
        "/api/v5/trade/amend-order",
        "/api/v5/trade/amend-batch-orders",
    } == SUB_ACCOUNT_PATHS


def test_batches_fall_back_to_their_single_order_endpoint():
    """A batch endpoint names the single-order endpoint a one-order batch counts against."""
    assert rate_limit("POST", "/api/v5/trade/batch-orders").single == "/api/v5/trade/order"
    assert rate_limit("POST", "/api/v5/trade/cancel-batch-orders").single == (
        "/api/v5/trade/cancel-order"
    )


def test_every_row_cites_a_section_of_okx_docs():
    """Every row links to its section of OKX's API docs."""
    for row in RATE_LIMITS.values():
        assert re.fullmatch(r"https://www\.okx\.com/docs-v5/en/#[a-z0-9-]+", row.url), row


def test_the_emulator_and_client_endpoints_are_covered():
    """Every endpoint the emulator answers and every REST order endpoint has a limit."""
    for method, path in _ROUTES:
        assert rate_limit(method, path) is not None, (method, path)
    for path in ORDER_ENDPOINTS:
        if path.startswith("/api/v5/trade/"):
            assert rate_limit("POST", path) is not None, path


def test_the_docs_table_lists_every_row():
    """docs/rate-limits.md lists every endpoint of the table with its number."""
    text = (Path(__file__).parents[2] / "docs" / "rate-limits.md").read_text()
    for row in RATE_LIMITS.values():
        assert f"| {row.method} | `{row.path}` | {row.limit} " in text, row.group
