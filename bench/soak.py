"""Soak run: many requests through a real ``signproxy serve`` process against the emulator.

Everything runs on 127.0.0.1: the emulator and the proxy as two subprocesses (so the proxy's
resident memory and open file descriptors are measured alone, from /proc/PID), and this script
as the client, sending a fixed number of requests at a fixed concurrency. It stops by itself
(after ``--requests`` or ``--max-seconds``), then stops the proxy with SIGTERM.

    .venv/bin/python bench/soak.py --requests 100000 --concurrency 32

Targets: zero unexpected errors, no growth in open file descriptors, RSS growth under 20 MB
(measured from after a warm-up to the end). Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import aiohttp
from servers import Processes, free_port, start_emulator, start_signproxy
from yarl import URL

RSS_TARGET_KB = 20 * 1024
# The proxy keeps idle upstream connections for aiohttp's keep-alive time (15 s); the clock sync
# uses one every 60 s. Descriptors are counted after that, as the least seen over a window.
POOL_IDLE_S = 16.0
FD_WINDOW_S = 20.0
# clOrdIds are unique across the warm-up and the run: OKX (and the emulator) refuse a repeated
# one with 51016, which would count as an error.
_CL_ORD_IDS = itertools.count()
ORDER = {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "limit", "px": "1"}


def proc_stats(pid: int) -> tuple[int, int]:
    """Open file descriptors and resident memory (kB) of a process."""
    fds = sum(1 for _ in Path(f"/proc/{pid}/fd").iterdir())
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return fds, int(line.split()[1])
    msg = "no VmRSS"
    raise RuntimeError(msg)


class Client:
    """Sends the request mix and counts outcomes."""

    def __init__(self, base: str, session: aiohttp.ClientSession) -> None:
        """Send to the proxy at ``base``."""
        self.base = base
        self.session = session
        self.outcomes: Counter[str] = Counter()

    async def one(self, n: int) -> None:
        """Send request number ``n`` of the mix (balance, order, config, batch of two)."""
        kind = n % 4
        cl = f"soak{next(_CL_ORD_IDS)}"
        if kind == 0:
            method, target, body = "GET", "/api/v5/account/balance?ccy=USDT", None
        elif kind == 1:
            method, target, body = (
                "POST",
                "/api/v5/trade/order",
                {**ORDER, "sz": "1", "clOrdId": cl},
            )
        elif kind == 2:  # noqa: PLR2004
            method, target, body = "GET", "/api/v5/account/config", None
        else:
            items = [{**ORDER, "sz": "2", "clOrdId": f"{cl}a"}, {**ORDER, "sz": "3"}]
            method, target, body = "POST", "/api/v5/trade/batch-orders", items
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if data else {}
        try:
            async with self.session.request(
                method, URL(self.base + target, encoded=True), data=data, headers=headers
            ) as response:
                payload = await response.read()
                code = json.loads(payload).get("code") if payload[:1] == b"{" else None
                ok = response.status == 200 and code == "0"  # noqa: PLR2004
                self.outcomes["ok" if ok else f"{response.status}/{code}"] += 1
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.outcomes[type(exc).__name__] += 1

    async def run(self, total: int, concurrency: int, deadline: float) -> None:
        """Send ``total`` requests from ``concurrency`` workers, stopping at ``deadline``."""
        counter = itertools.count()

        async def worker() -> None:
            while time.monotonic() < deadline and (n := next(counter)) < total:
                await self.one(n)

        await asyncio.gather(*(worker() for _ in range(concurrency)))


async def settled_stats(pid: int) -> tuple[int, int]:
    """Open fds (least over FD_WINDOW_S, once pooled connections idled out) and RSS (kB)."""
    await asyncio.sleep(POOL_IDLE_S)
    fds: list[int] = []
    end = time.monotonic() + FD_WINDOW_S
    while time.monotonic() < end:
        fds.append(proc_stats(pid)[0])
        await asyncio.sleep(0.5)
    return min(fds), proc_stats(pid)[1]


async def run_session(base: str, total: int, args: argparse.Namespace, deadline: float) -> Client:
    """One client session: ``total`` requests, then close its connections."""
    connector = aiohttp.TCPConnector(limit=args.concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        client = Client(base, session)
        await client.run(total, args.concurrency, deadline)
    # Give the proxy a moment to see the client's connections close.
    await asyncio.sleep(1.0)
    return client


async def soak(base: str, pid: int, args: argparse.Namespace) -> dict[str, object]:
    """Warm up, measure, run, measure (both measures with no client connection open)."""
    deadline = time.monotonic() + args.max_seconds
    warm = await run_session(base, args.warmup, args, deadline)
    fds_before, rss_before = await settled_stats(pid)
    samples: list[int] = []
    started = time.perf_counter()
    runner = asyncio.create_task(run_session(base, args.requests, args, deadline))
    while not runner.done():
        await asyncio.wait([runner], timeout=5)
        samples.append(proc_stats(pid)[1])
    client = await runner
    seconds = time.perf_counter() - started - 1.0
    fds_after, rss_after = await settled_stats(pid)
    sent = sum(client.outcomes.values())
    return {
        "requests": sent,
        "concurrency": args.concurrency,
        "seconds": round(seconds, 1),
        "requests_per_s": round(sent / seconds),
        "outcomes": dict(client.outcomes),
        "warmup_outcomes": dict(warm.outcomes),
        "fds_before": fds_before,
        "fds_after": fds_after,
        "rss_kb_before": rss_before,
        "rss_kb_after": rss_after,
        "rss_kb_growth": rss_after - rss_before,
        "rss_kb_max_during": max(samples, default=rss_after),
    }


def main() -> int:
    """Run the soak and print a JSON report; exit 1 if a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--warmup", type=int, default=5_000)
    parser.add_argument("--max-seconds", type=float, default=1800)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="signproxy-soak-") as tmp:
        procs = Processes(Path(tmp))
        try:
            emulator_port, proxy_port = free_port(), free_port()
            start_emulator(procs, emulator_port)
            proxy = start_signproxy(procs, proxy_port, f"http://127.0.0.1:{emulator_port}")
            base = f"http://127.0.0.1:{proxy_port}"
            report = asyncio.run(soak(base, proxy.pid, args))
            proxy.send_signal(signal.SIGTERM)
            report["proxy_exit"] = proxy.wait(timeout=30)
        finally:
            procs.close()
        levels: Counter[str] = Counter()
        for line in Path(tmp, "signproxy.log").read_text().splitlines():
            record = json.loads(line)
            # The emulator is not an OKX host: the proxy says so once at startup, as it should.
            if record.get("event") == "signproxy.custom_upstream":
                continue
            if record.get("level") in ("warning", "error", "critical"):
                levels[f"{record['level']}:{record.get('event')}"] += 1
        report["proxy_warnings_and_errors"] = dict(levels)
    numbers = {k: v for k, v in report.items() if isinstance(v, int)}
    outcomes = Counter(report["outcomes"])  # type: ignore[arg-type]
    unexpected = numbers["requests"] - outcomes["ok"]
    report["unexpected_errors"] = unexpected
    passed = (
        unexpected == 0
        and numbers["requests"] >= args.requests
        and numbers["fds_after"] <= numbers["fds_before"]
        and numbers["rss_kb_growth"] < RSS_TARGET_KB
        and numbers["proxy_exit"] == 0
        and not levels
    )
    report["targets_met"] = passed
    print(json.dumps(report, indent=2))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
