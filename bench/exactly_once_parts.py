"""What each exactly-once part costs per order, measured in one process (steadier than end to end).

Runs each part's real code over N orders and reports CPU time per order (``time.process_time``:
every thread of the process, the journal's writer included) and wall time per order:

- ``clordid``: making an id and inserting it into the body;
- ``dedup-memory``: fingerprint, claim and end of an attempt in the in-process store;
- ``dedup-redis``: the same in a local ``redis-server`` (two round trips; Redis's own CPU is not
  counted);
- ``journal``: intent (awaited, as a request waits for it), the answer kept for retries and the
  outcome, one order at a time, and 16 at a time.

    .venv/bin/python bench/exactly_once_parts.py --orders 3000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import servers  # noqa: F401 - puts the repository root on sys.path
from servers import ORDER_BODY, free_port, wait_for_port

from signproxy.journal.writer import Journal
from signproxy.okx.clordid import IdMaker, insert_ids
from signproxy.okx.orders import ORDER_ENDPOINTS, orders_in
from signproxy.once.dedup import Stored
from signproxy.once.dedup_memory import MemoryStore
from signproxy.once.dedup_redis import RedisStore
from signproxy.proxy.record import Exchange
from signproxy.proxy.stages.dedup import _ending, _items
from signproxy.settings.credentials import Secret
from signproxy.state.redis import RedisLink

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

_BODY = ORDER_BODY.encode()
_ANSWER = Stored(200, b'{"code":"0","msg":"","data":[]}', {})
_ENDPOINT = ORDER_ENDPOINTS["/api/v5/trade/order"]


def _exchange(number: int) -> Exchange:
    exchange = Exchange(str(number), "POST", _ENDPOINT.path, endpoint=_ENDPOINT)
    exchange.payload = {"clOrdId": f"bench{number}", **json.loads(_BODY)}
    exchange.orders = orders_in(exchange.payload, _ENDPOINT)
    exchange.account_name, exchange.status, exchange.okx_code = "default", 200, "0"
    return exchange


async def _timed(orders: int, work: Callable[[], Awaitable[None]]) -> dict[str, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    await work()
    return {
        "cpu_us": round((time.process_time() - cpu) / orders * 1e6, 1),
        "wall_us": round((time.perf_counter() - wall) / orders * 1e6, 1),
    }


async def _dedup(store: MemoryStore | RedisStore, exchanges: list[Exchange]) -> None:
    for exchange in exchanges:
        items = _items(exchange)
        owner = "o" + exchange.request_id
        await store.claim("default", items, owner)
        await store.finish("default", owner, _ending([i for i, _ in items], exchange, _ANSWER))


async def main() -> None:
    """Measure each part; print one JSON line each."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=3000)
    args = parser.parse_args()
    n = args.orders
    exchanges = [_exchange(number) for number in range(n)]
    make = IdMaker("spx")

    async def clordid() -> None:
        for _ in range(n):
            insert_ids(_BODY, {0: make()}, "clOrdId")

    results = {"clordid": await _timed(n, clordid)}
    results["dedup-memory"] = await _timed(n, lambda: _dedup(MemoryStore(300), exchanges))
    with tempfile.TemporaryDirectory(prefix="signproxy-parts-") as tmp:
        redis = shutil.which("redis-server")
        if redis is not None:
            port = free_port()
            argv = [redis, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
            server = subprocess.Popen(  # noqa: ASYNC220 - started once, before measuring
                [*argv, "--dir", tmp], stdout=subprocess.DEVNULL
            )
            try:
                wait_for_port(port, server)  # type: ignore[arg-type]
                link = RedisLink(Secret(f"redis://127.0.0.1:{port}/0"))
                await link.start()
                store = RedisStore(link, 300)
                results["dedup-redis"] = await _timed(n, lambda: _dedup(store, exchanges))
                await link.stop()
            finally:
                server.terminate()
                server.wait(10)
        for concurrency in (1, 16):
            journal = Journal(Path(tmp) / f"journal-{concurrency}.sqlite", 86_400)
            await journal.start()

            async def one(exchange: Exchange, journal: Journal = journal) -> None:
                await journal.intent(exchange)
                if exchange.journal_key is not None:  # as de-duplication keeps each answer
                    journal.keep_answer(exchange.journal_key, _ANSWER.dumps())
                journal.request_finished(exchange)

            async def run(journal: Journal = journal, step: int = concurrency) -> None:
                for start in range(0, n, step):
                    await asyncio.gather(*(one(e) for e in exchanges[start : start + step]))
                await journal.close()

            results[f"journal-c{concurrency}"] = await _timed(n, run)
    for name, row in results.items():
        print(json.dumps({"part": name, **row}))


if __name__ == "__main__":
    asyncio.run(main())
