"""Slow readers: clients that ask for big answers and never read them. How much memory is held?

Starts an upstream that answers every GET with a JSON body of ``--answer-mb`` MB, a
``signproxy serve`` in front of it, then ``--clients`` raw connections that each send one GET
and never read. The proxy's resident memory (VmRSS) is sampled every 50 ms: before, while the
clients stay (``--hold`` s), and after they leave. Prints one JSON summary.

    python bench/slow_readers.py                      # the defaults: 20 clients, 30 MB answers
    python bench/slow_readers.py --unbounded          # the same with the limits switched off

``--unbounded`` sets the write timeout to an hour and the held-bytes budget to 64 GiB, which is
how the proxy behaved before they existed. Linux only (reads /proc).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import time
from typing import Any

import servers
from aiohttp import web

MIB = 1024 * 1024


async def big_upstream(answer_mb: int) -> tuple[web.AppRunner, str]:
    """An upstream answering every request with one ``answer_mb`` MB JSON envelope."""
    item = b'{"instId":"BTC-USDT","instType":"SPOT","tickSz":"0.1","lotSz":"0.00000001"},'
    count = answer_mb * MIB // len(item)
    body = b'{"code":"0","msg":"","data":[' + item * count + b'{"instId":"END"}]}'

    async def answer(_request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    return await servers.serve_in_process(answer)


async def start_proxy(
    upstream: str, extra: dict[str, str]
) -> tuple[asyncio.subprocess.Process, int, list[dict[str, Any]]]:
    """``signproxy serve`` for ``upstream``; returns it, its port, and its log lines (growing)."""
    env = servers.signproxy_env(
        SIGNPROXY_UPSTREAM=upstream,
        SIGNPROXY_ALLOW_CUSTOM_UPSTREAM="1",
        SIGNPROXY_CLOCK_SYNC_INTERVAL="0",
        SIGNPROXY_RATE_LIMITS="on",  # as shipped
        **extra,
    )
    process, url, lines = await servers.start_logging("serve", "--port", "0", env=env)
    return process, int(url.rsplit(":", 1)[1]), lines


def slow_client(port: int) -> socket.socket:
    """A connection that asks for the big answer and will never read it."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(
        b"GET /api/v5/public/instruments?instType=SPOT HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    )
    return sock


async def sample(pid: int, seconds: float) -> list[tuple[float, float]]:
    """(seconds since start, RSS MB) every 50 ms for ``seconds``."""
    samples: list[tuple[float, float]] = []
    started = time.monotonic()
    while (elapsed := time.monotonic() - started) < seconds:
        samples.append((elapsed, servers.rss_mb(pid)))
        await asyncio.sleep(0.05)
    return samples


async def main() -> None:
    """Run once and print the summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--answer-mb", type=int, default=30)
    parser.add_argument("--hold", type=float, default=10.0, help="seconds the clients stay")
    parser.add_argument("--after", type=float, default=10.0, help="seconds sampled after")
    parser.add_argument("--unbounded", action="store_true", help="limits off (the old behaviour)")
    args = parser.parse_args()
    extra = {"SIGNPROXY_MAX_RESPONSE_BYTES": str((args.answer_mb + 2) * MIB)}
    if args.unbounded:
        extra |= {
            "SIGNPROXY_WRITE_TIMEOUT": "3600",
            "SIGNPROXY_MAX_HELD_BYTES": str(64 * 1024 * MIB),
        }
    upstream, url = await big_upstream(args.answer_mb)
    proxy, port, lines = await start_proxy(url, extra)
    try:
        await asyncio.sleep(1.0)
        baseline = servers.rss_mb(proxy.pid)
        clients = [slow_client(port) for _ in range(args.clients)]
        during = await sample(proxy.pid, args.hold)
        for client in clients:
            client.close()
        after = await sample(proxy.pid, args.after)
    finally:
        await servers.stop_logging(proxy)
        await upstream.cleanup()
    peak = max(rss for _, rss in during + after)
    settled = next((t for t, rss in after if rss <= baseline + 10), None)
    dropped: dict[str, int] = {}
    for entry in lines:
        if entry.get("event") == "signproxy.connection_dropped":
            dropped[entry["reason"]] = dropped.get(entry["reason"], 0) + 1
    not_held = sum(1 for entry in lines if entry.get("error") == "SPX304")
    print(
        json.dumps(
            {
                "clients": args.clients,
                "answer_mb": args.answer_mb,
                "limits": "off" if args.unbounded else "on",
                "baseline_rss_mb": round(baseline, 1),
                "peak_rss_mb": round(peak, 1),
                "rss_mb_when_clients_left": round(after[0][1], 1),
                "rss_mb_end": round(after[-1][1], 1),
                "seconds_to_baseline_plus_10mb_after_leaving": None
                if settled is None
                else round(settled, 2),
                "dropped_logged": dropped,
                "answers_not_held_spx304_logged": not_held,
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
