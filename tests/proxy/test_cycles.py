"""A finished request leaves nothing for the garbage collector: reference counting frees it."""

from __future__ import annotations

import asyncio
import gc

from signproxy.proxy.record import Exchange
from tests.conftest import Harness

ORDER = '{"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "limit", "px": "1", "sz": "1"}'


async def test_finished_requests_leave_no_cycle(proxy: Harness) -> None:
    """Answered and refused requests' records are not kept alive by a reference cycle."""
    await proxy.get("/api/v5/account/balance")  # warm: first-use caches are not per request
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        await proxy.get("/api/v5/account/balance")
        await proxy.post("/api/v5/trade/order", ORDER)
        await proxy.post("/api/v5/trade/order", "{not json")
        await asyncio.sleep(0.05)  # each record is finished on the loop's turn after its answer
        gc.collect()
        records = [item for item in gc.garbage if isinstance(item, Exchange)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert records == []
