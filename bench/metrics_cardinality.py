"""Metrics cardinality: 20,000 answers with random OKX codes to random paths. How many series?

Starts an upstream that answers every request with a random numeric ``code`` (and a random
status among 200/404/418/503), a ``signproxy serve`` in front of it, sends ``--requests``
requests to made-up paths, then reads ``/-/metrics``. Prints one JSON summary.

    python bench/metrics_cardinality.py
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random

import aiohttp
import servers
from aiohttp import web
from slow_readers import start_proxy


async def random_upstream() -> tuple[web.AppRunner, str]:
    """An upstream answering random codes and statuses."""
    rng = random.Random(20_000)  # noqa: S311 - test data, not secrets

    async def answer(_request: web.Request) -> web.Response:
        code = str(rng.randrange(0, 100_000_000))
        status = rng.choice((200, 200, 404, 418, 503))
        return web.json_response({"code": code, "msg": "", "data": []}, status=status)

    return await servers.serve_in_process(answer)


async def main() -> None:
    """Run once and print the summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    upstream, url = await random_upstream()
    proxy, port, _lines = await start_proxy(url, {})
    base = f"http://127.0.0.1:{port}"
    try:
        before = servers.rss_mb(proxy.pid)
        queue = iter(range(args.requests))

        async def worker(session: aiohttp.ClientSession) -> None:
            for index in queue:
                async with session.get(f"{base}/api/v5/public/p{index}?id={index}") as reply:
                    await reply.read()

        async with aiohttp.ClientSession() as session:
            await asyncio.gather(*(worker(session) for _ in range(args.concurrency)))
            async with session.get(base + "/-/metrics") as reply:
                text = await reply.text()
        after = servers.rss_mb(proxy.pid)
    finally:
        await servers.stop_logging(proxy)
        await upstream.cleanup()
    series = [line for line in text.splitlines() if line.startswith("signproxy_")]
    requests_series = [line for line in series if line.startswith("signproxy_requests_total{")]
    print(
        json.dumps(
            {
                "answers": args.requests,
                "series_total": len(series),
                "signproxy_requests_total_series": len(requests_series),
                "metrics_bytes": len(text.encode()),
                "rss_mb_before": round(before, 1),
                "rss_mb_after": round(after, 1),
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
