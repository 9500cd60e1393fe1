"""CPU cost per request of the rate-budget check, in-process and with Redis.

Runs the ``rate-budget`` stage itself over place-order records (two budgets each: the account +
instrument budget and the sub-account budget), spread over 1000 instruments so every request
finds room (the cost of a request within budget, the common case), with a pipeline end that
answers at once. Reports the proxy process's CPU time per request (``time.process_time``) and,
for Redis, the redis-server's too (from /proc), and the median of the rounds:

    .venv/bin/python bench/ratelimit.py --requests 20000 --rounds 5

With Redis, a ``redis-server`` (Debian package) is started on a free port of 127.0.0.1 in a
temporary folder and stopped at the end. Requests run one at a time (a bot's order flow); all
traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from multidict import CIMultiDict
from prometheus_client import CollectorRegistry

from signproxy.okx.orders import ORDER_ENDPOINTS, orders_in
from signproxy.proxy.record import Answer, Exchange
from signproxy.proxy.selection import Selector
from signproxy.ratelimit.account_limit import SubAccountLimits
from signproxy.ratelimit.draws import account_id
from signproxy.ratelimit.metrics import RateMetrics
from signproxy.ratelimit.redis_store import RedisBudgets
from signproxy.ratelimit.setup import LocalBudgets
from signproxy.ratelimit.stage import Budgets, RateBudget
from signproxy.ratelimit.window import SlidingLog
from signproxy.settings.config import Settings
from signproxy.settings.credentials import Secret
from signproxy.settings.rates import RateSettings
from signproxy.state.redis import RedisLink

_TICKS = os.sysconf("SC_CLK_TCK")
_ANSWER = Answer(status=200, headers=CIMultiDict(), body=b"{}", elapsed_ms=0.0)
_PLACE = ORDER_ENDPOINTS["/api/v5/trade/order"]
_ENV = {
    "OKX_API_KEY": "bench-key-not-real-0001",
    "OKX_API_SECRET": "BENCH0SECRET0NOT0REAL00000000001",
    "OKX_API_PASSPHRASE": "bench-pass-01",
}


def _records(count: int, settings: Settings) -> list[Exchange]:
    account = settings.accounts.primary
    records = []
    for n in range(count):
        payload = {"instId": f"COIN{n % 1000}-USDT", "side": "buy", "sz": "1", "px": "1"}
        exchange = Exchange(f"r{n}", "POST", "/api/v5/trade/order", path="/api/v5/trade/order")
        exchange.account, exchange.endpoint, exchange.payload = account, _PLACE, payload
        exchange.orders = orders_in(payload, _PLACE)
        records.append(exchange)
    return records


async def _answer(_exchange: Exchange) -> Answer:
    return _ANSWER


async def _round(stage: RateBudget, records: list[Exchange]) -> float:
    started = time.process_time()
    for exchange in records:
        await stage.run(exchange, _answer)
    return (time.process_time() - started) / len(records) * 1e6


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _stage(budgets: Budgets, settings: Settings) -> RateBudget:
    metrics = RateMetrics(CollectorRegistry())
    limits = SubAccountLimits()
    # The sub-account budget is still drawn on, but high enough for every round (OKX's top
    # tier is 10,000 per 2 s; the bench sends more than that).
    limits.set(account_id(_ENV["OKX_API_KEY"]), 10**7)
    return RateBudget(budgets, RateSettings(), metrics, limits, Selector(settings.accounts))


async def _bench(kind: str, requests: int, rounds: int, url: str | None, pid: int | None) -> None:
    settings = Settings.from_env(_ENV)
    link = None
    if url is None:
        budgets: Budgets = LocalBudgets(SlidingLog(margin_ms=100))
    else:
        link = RedisLink(Secret(url))
        await link.start()
        budgets = RedisBudgets(link, SlidingLog(margin_ms=100), margin_ms=100)
    stage = _stage(budgets, settings)
    per_request = []
    for number in range(rounds):
        records = _records(requests, settings)
        redis_before = _cpu(pid) if pid else 0.0
        wall = time.perf_counter()
        proxy_us = await _round(stage, records)
        wall_us = (time.perf_counter() - wall) / requests * 1e6
        redis_us = (_cpu(pid) - redis_before) / requests * 1e6 if pid else 0.0
        per_request.append(proxy_us)
        row = {"store": kind, "round": number, "proxy_cpu_us": round(proxy_us, 1)}
        if pid:
            row["redis_cpu_us"] = round(redis_us, 1)
        row["wall_us"] = round(wall_us, 1)
        print(json.dumps(row))
        await asyncio.sleep(2.2)  # let the windows empty: every round starts alike
    median = round(statistics.median(per_request), 1)
    print(json.dumps({"store": kind, "median_proxy_cpu_us": median}))
    if link is not None:
        await link.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    """Run both stores' rounds and print one JSON line per round, then the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(_bench("in-process", args.requests, args.rounds, None, None))
    binary = shutil.which("redis-server")
    if binary is None:
        print(json.dumps({"store": "redis", "skipped": "redis-server is not installed"}))
        return
    port = _free_port()
    with tempfile.TemporaryDirectory() as folder:
        server = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", folder],
            stdout=subprocess.DEVNULL,
        )
        try:
            time.sleep(0.5)
            url = f"redis://127.0.0.1:{port}/0"
            asyncio.run(_bench("redis", args.requests, args.rounds, url, server.pid))
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
