"""OKX's counting rules (which budgets a request draws on) and the sliding log that keeps them."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from signproxy.okx.orders import ORDER_ENDPOINTS, orders_in
from signproxy.ratelimit.draws import Draw, Request, draws_for, instrument_key
from signproxy.ratelimit.window import SlidingLog, worker_share


def _orders(path, payload):
    return orders_in(payload, ORDER_ENDPOINTS[path])


def _post(path, payload, account="acct1"):
    request = Request("POST", path, account, {}, _orders(path, payload))
    draws = draws_for(request, ip_key="host")
    assert draws is not None
    return draws


def test_place_draws_on_account_and_instrument_and_the_sub_account():
    """A place order draws 1 from account+instrument (60/2 s) and 1 from the sub-account (1000)."""
    first, sub = _post("/api/v5/trade/order", {"instId": "BTC-USDT", "side": "buy"})
    assert (first.limit, first.window_ms, first.cost, first.instrument) == (60, 2000, 1, "BTC-USDT")
    assert (sub.limit, sub.cost) == (1000, 1)
    other = _post("/api/v5/trade/order", {"instId": "ETH-USDT"})[0]
    assert other.key != first.key
    assert _post("/api/v5/trade/order", {"instId": "BTC-USDT"}, account="acct2")[0].key != first.key


def test_place_amend_and_cancel_are_independent():
    """Place, amend and cancel of one instrument draw on three different budgets."""
    order = {"instId": "BTC-USDT", "ordId": "1"}
    keys = {
        _post(path, order)[0].key
        for path in (
            "/api/v5/trade/order",
            "/api/v5/trade/amend-order",
            "/api/v5/trade/cancel-order",
        )
    }
    assert len(keys) == 3


def test_cancel_does_not_count_against_the_sub_account_limit():
    """Only new and amended orders count against the sub-account limit."""
    assert len(_post("/api/v5/trade/cancel-order", {"instId": "BTC-USDT", "ordId": "1"})) == 1


def test_a_batch_counts_each_order_per_instrument():
    """A batch draws per instrument, one unit per order, and the sub-account per order."""
    batch = [{"instId": "BTC-USDT"}] * 3 + [{"instId": "ETH-USDT"}] * 2
    draws = _post("/api/v5/trade/batch-orders", batch)
    by_instrument = {d.instrument: d for d in draws if d.instrument}
    assert by_instrument["BTC-USDT"].cost == 3
    assert by_instrument["ETH-USDT"].cost == 2
    assert {d.limit for d in by_instrument.values()} == {300}
    assert draws[-1].cost == 5
    assert draws[-1].limit == 1000


def test_a_batch_of_one_counts_against_the_single_order_limit():
    """A one-order batch draws on the single-order endpoint's budget (60), as OKX counts it."""
    single = _post("/api/v5/trade/order", {"instId": "BTC-USDT"})[0]
    batch_of_one = _post("/api/v5/trade/batch-orders", [{"instId": "BTC-USDT"}])[0]
    assert batch_of_one.key == single.key
    assert batch_of_one.limit == 60


def test_options_count_per_instrument_family():
    """Option orders of one family share one budget; other instruments count per instId."""
    assert instrument_key("BTC-USD-250328-90000-C", None) == "BTC-USD"
    assert instrument_key("BTC-USD-250328-80000-P", None) == "BTC-USD"
    assert instrument_key("BTC-USD-250328", None) == "BTC-USD-250328"
    assert instrument_key("BTC-USDT-SWAP", None) == "BTC-USDT-SWAP"


def test_public_endpoints_count_per_ip_and_private_reads_per_account():
    """Public data counts per IP (and instType where OKX says so); balance per account."""
    (time_draw,) = draws_for(Request("GET", "/api/v5/public/time", "acct1", {}), ip_key="host")
    (other_account,) = draws_for(Request("GET", "/api/v5/public/time", "acct2", {}), ip_key="host")
    assert time_draw.key == other_account.key
    assert time_draw.limit == 10
    spot, swap = (
        draws_for(Request("GET", "/api/v5/public/instruments", "a", {"instType": t}), ip_key="h")
        for t in ("SPOT", "SWAP")
    )
    assert spot[0].key != swap[0].key
    (balance,) = draws_for(Request("GET", "/api/v5/account/balance", "acct1", {}), ip_key="h")
    assert "acct1" in balance.key
    assert balance.limit == 10


def test_order_details_count_per_instrument_and_unknown_endpoints_are_unlimited():
    """GET trade/order counts per instId from the query; endpoints not in the table: None."""
    (draw,) = draws_for(
        Request("GET", "/api/v5/trade/order", "a", {"instId": "BTC-USDT"}), ip_key="h"
    )
    assert draw.instrument == "BTC-USDT"
    assert draws_for(Request("GET", "/api/v5/users/subaccount/list", "a", {}), ip_key="h") is None


def test_cancel_all_after_counts_per_tag():
    """cancel-all-after allows 1 per second per account and tag."""
    path = "/api/v5/trade/cancel-all-after"
    (plain,) = draws_for(Request("POST", path, "a", {}, tag=None), ip_key="h")
    (tagged,) = draws_for(Request("POST", path, "a", {}, tag="bot1"), ip_key="h")
    assert (plain.limit, plain.window_ms) == (1, 1000)
    assert plain.key != tagged.key


def _draw(limit=3, cost=1, key="k", window_ms=2000):
    return Draw(key, limit, window_ms, cost, "POST trade/order", "BTC-USDT")


class FakeClock:
    """A clock in seconds that moves only when the test moves it."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        """The current time."""
        return self.now


def test_the_log_waits_until_the_oldest_unit_leaves_the_window():
    """Over the limit, nothing is taken and the wait is until the oldest unit leaves."""
    clock = FakeClock()
    log = SlidingLog(margin_ms=100, clock=clock)
    for _ in range(3):
        assert log.take([_draw()]).ok
    clock.now += 0.5
    refused = log.take([_draw()])
    assert not refused.ok
    assert round(refused.wait_ms) == 2100 - 500
    assert refused.remaining == (0,)
    clock.now += 1.6
    assert log.take([_draw()]).ok


def test_draws_are_taken_all_or_none():
    """When one budget of a request is full, the others are not taken either."""
    clock = FakeClock()
    log = SlidingLog(clock=clock)
    full, free = _draw(limit=1, key="full"), _draw(limit=5, key="free")
    assert log.take([full]).ok
    assert not log.take([free, full]).ok
    assert log.take([free]).remaining == (4,)


def test_a_hold_refuses_until_it_ends():
    """A budget on hold (OKX said 50011) lets nothing through until the hold ends."""
    clock = FakeClock()
    log = SlidingLog(clock=clock)
    log.hold("k", 2000)
    held = log.take([_draw()])
    assert not held.ok
    assert round(held.wait_ms) == 2000
    clock.now += 2.0
    assert log.take([_draw()]).ok


@settings(max_examples=60, deadline=None)
@given(
    gaps=st.lists(st.integers(min_value=0, max_value=400), min_size=20, max_size=200),
    costs=st.lists(st.integers(min_value=1, max_value=4), min_size=20, max_size=200),
)
def test_no_window_ever_holds_more_than_the_limit(gaps, costs):
    """Whatever the arrival pattern, no 2 s window holds more than the limit of taken units."""
    clock = FakeClock()
    log = SlidingLog(clock=clock)
    taken = []
    for gap, cost in zip(gaps, costs, strict=False):
        clock.now += gap / 1000
        if log.take([_draw(limit=7, cost=cost)]).ok:
            taken.append((clock.now, cost))
    for start, _ in taken:
        inside = sum(c for at, c in taken if start <= at < start + 2.0)
        assert inside <= 7


def test_worker_shares_add_up_to_the_limit():
    """Workers' shares of a limit add up to exactly the limit, small limits included."""
    for limit in (1, 2, 5, 10, 60, 300, 1000):
        for count in (1, 2, 3, 4, 7):
            assert sum(worker_share(i, count)(limit) for i in range(count)) == limit
