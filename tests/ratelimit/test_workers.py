"""SIGNPROXY_WORKERS without Redis: every worker keeps its share, so together they keep the limit."""

from __future__ import annotations

import aiohttp

from tests.support.fleet import Fleet

BALANCE = "/api/v5/account/balance"  # 10 per 2 s


async def test_two_workers_without_redis_never_exceed_the_limit(tmp_path):
    """Two workers on one port, no Redis: 30 balance calls in a burst, at most 10 reach OKX."""
    fleet = Fleet(tmp_path)
    try:
        await fleet.start(1, SIGNPROXY_WORKERS="2", SIGNPROXY_RATE_MAX_WAIT_MS="0")
        # A new connection per request lets the kernel hand requests to either worker.
        connector = aiohttp.TCPConnector(force_close=True)
        statuses = []
        async with aiohttp.ClientSession(connector=connector) as session:
            for _ in range(30):
                async with session.get(fleet.proxy_url(0) + BALANCE) as reply:
                    statuses.append(reply.status)
        assert set(statuses) <= {200, 429}
        arrivals = await fleet.arrivals()
        assert len([a for a in arrivals if a[2] == BALANCE]) == statuses.count(200) <= 10
        assert all(row[4] == "0" for row in arrivals)
        warnings = fleet.log_events(0, "signproxy.config_warning")
        assert any("share of every rate budget" in w["problem"] for w in warnings)
    finally:
        fleet.stop()
