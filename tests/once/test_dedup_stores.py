"""The de-duplication stores: claims shared through a real Redis, and the in-process fallback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from signproxy.once.dedup import Ending, Stored
from signproxy.once.dedup_memory import MemoryStore
from signproxy.once.dedup_redis import RedisStore
from signproxy.settings.credentials import Secret
from signproxy.state.redis import RedisLink
from tests.support.redis_server import RedisServer

ANSWER = Stored(200, b'{"code":"0","data":[{"clOrdId":"a1","ordId":"9","sCode":"0"}]}', {})


@pytest.fixture
async def two_hosts(redis_url: str) -> AsyncIterator[tuple[RedisStore, RedisStore]]:
    """Two stores with their own Redis links, as two proxy hosts would have."""
    links = [RedisLink(Secret(redis_url)) for _ in range(2)]
    for link in links:
        await link.start()
    try:
        yield RedisStore(links[0], 60), RedisStore(links[1], 60)
    finally:
        for link in links:
            await link.stop()


async def test_a_claim_is_seen_by_the_other_host(two_hosts: tuple[RedisStore, RedisStore]) -> None:
    """Host B finds host A's claim in flight, waits for it, then gets A's answer."""
    host_a, host_b = two_hosts
    assert (await host_a.claim("main", [("a1", "fp")], "A")).kind == "new"
    found = await host_b.claim("main", [("a1", "fp")], "B")
    assert (found.kind, found.owner, found.state) == ("existing", "A", "inflight")
    waiting = asyncio.create_task(host_b.wait("main", "a1", "A", 5))
    await host_a.finish("main", "A", Ending(["a1"], [], "done", ANSWER))
    ended = await waiting
    assert (ended.state, ended.stored) == ("done", ANSWER)


async def test_conflicts_mixes_and_accounts(two_hosts: tuple[RedisStore, RedisStore]) -> None:
    """Another order under a claimed id conflicts; a batch with one claimed id is mixed."""
    host_a, host_b = two_hosts
    await host_a.claim("main", [("a1", "fp1")], "A")
    assert (await host_b.claim("main", [("a1", "fp2")], "B")).cl_ord_id == "a1"
    assert (await host_b.claim("main", [("a1", "fp1"), ("a2", "x")], "B")).kind == "mixed"
    assert (await host_b.claim("other", [("a1", "fp2")], "B")).kind == "new"  # per account


async def test_released_ids_may_be_claimed_again(two_hosts: tuple[RedisStore, RedisStore]) -> None:
    """An id whose order was not placed is released on every host at once."""
    host_a, host_b = two_hosts
    await host_a.claim("main", [("a1", "fp")], "A")
    await host_a.finish("main", "A", Ending([], ["a1"], "done", ANSWER))
    assert (await host_b.claim("main", [("a1", "fp")], "B")).kind == "new"


async def test_without_redis_the_in_process_claims_take_over(redis_control: RedisServer) -> None:
    """Redis stopped: claims go to the fallback store and de-duplicate within the process."""
    link = RedisLink(Secret(redis_control.url))
    await link.start()
    try:
        store = RedisStore(link, 60)
        redis_control.stop()
        assert (await store.claim("main", [("a1", "fp")], "A")).kind == "new"
        assert not link.available
        await store.finish("main", "A", Ending(["a1"], [], "done", ANSWER))
        replay = await store.claim("main", [("a1", "fp")], "B")
        assert (replay.kind, replay.stored) == ("existing", ANSWER)
    finally:
        await link.stop()


async def test_memory_claims_expire_with_the_window() -> None:
    """After the window an id is free again."""
    store = MemoryStore(0.05)
    await store.claim("main", [("a1", "fp")], "A")
    await store.finish("main", "A", Ending(["a1"], [], "done", ANSWER))
    await asyncio.sleep(0.1)
    assert (await store.claim("main", [("a1", "fp2")], "B")).kind == "new"
    assert len(store) == 1
