"""The Redis store against a real redis-server: atomic takes, holds, restarts, the fallback."""

from __future__ import annotations

import asyncio

from signproxy.ratelimit.draws import Draw
from signproxy.ratelimit.redis_store import PREFIX, RedisBudgets
from signproxy.ratelimit.window import SlidingLog
from signproxy.settings.credentials import Secret
from signproxy.state.redis import RedisLink


def _draw(key="{a:t}|POST trade/order|BTC-USDT", limit=5, cost=1):
    return Draw(key, limit, 2000, cost, "POST trade/order", "BTC-USDT")


async def _store(url: str, fallbacks: list[int] | None = None) -> tuple[RedisBudgets, RedisLink]:
    link = RedisLink(Secret(url), probe_interval=0.05)
    await link.start()
    counter = fallbacks if fallbacks is not None else []
    store = RedisBudgets(link, SlidingLog(), on_fallback=lambda: counter.append(1))
    return store, link


async def test_two_stores_share_one_budget(redis_url):
    """Two proxies' stores on one Redis take from one budget: 5 in total, then a wait."""
    first, link1 = await _store(redis_url)
    second, link2 = await _store(redis_url)
    try:
        results = await asyncio.gather(*(store.take([_draw()]) for store in (first, second) * 4))
        assert sum(r.ok for r in results) == 5
        refused = [r for r in results if not r.ok]
        assert all(0 < r.wait_ms <= 2000 for r in refused)
        assert all(r.remaining == (0,) for r in refused)
    finally:
        await link1.stop()
        await link2.stop()


async def test_takes_are_all_or_none_and_count_units(redis_url):
    """A batch's cost is taken whole, and nothing is taken when one budget lacks room."""
    store, link = await _store(redis_url)
    try:
        assert (await store.take([_draw(cost=4)])).remaining == (1,)
        other = _draw(key="{a:t}|POST trade/order|ETH-USDT")
        refused = await store.take([other, _draw(cost=2)])
        assert not refused.ok
        assert (await store.take([other])).remaining == (4,)
        client = link.client
        assert await client.zcard(PREFIX + other.key) == 1
        assert 0 < await client.pttl(PREFIX + other.key) <= 2000
    finally:
        await link.stop()


async def test_a_hold_is_seen_by_every_store(redis_url):
    """A budget held by one proxy (OKX said 50011) refuses in the others too."""
    first, link1 = await _store(redis_url)
    second, link2 = await _store(redis_url)
    try:
        await first.hold(_draw().key, 1500)
        held = await second.take([_draw()])
        assert not held.ok
        assert 1000 < held.wait_ms <= 1500
    finally:
        await link1.stop()
        await link2.stop()


async def test_redis_down_falls_back_and_a_restart_reloads_the_script(redis_control):
    """Redis stopped: decisions in-process (counted); started again: Redis, script reloaded."""
    fallbacks: list[int] = []
    store, link = await _store(redis_control.url, fallbacks)
    try:
        assert (await store.take([_draw()])).ok
        redis_control.stop()
        assert (await store.take([_draw()])).ok  # the failing call itself falls back
        assert not link.available
        assert len(fallbacks) == 1
        redis_control.start()  # an empty Redis: the script must be loaded again
        for _ in range(100):  # bounded: the link's probe finds Redis again
            if link.available:
                break
            await asyncio.sleep(0.05)
        assert link.available
        assert (await store.take([_draw()])).remaining == (4,)
        assert len(fallbacks) == 1
    finally:
        await link.stop()
