"""How long one signed request takes through signproxy, against the bundled emulator.

Starts `signproxy emulator` and `signproxy serve` (in front of it) as subprocesses on 127.0.0.1,
then sends N sequential requests over one keep-alive connection each way, interleaved in rounds:
directly to the emulator (signed by this script) and through the proxy (unsigned). Prints the
median, p90 and p99 of each and the difference. Bounded: N requests per path, then it stops.

    python bench/emulator_latency.py [--requests 2000] [--method GET|POST]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time

import aiohttp
from subprocs import percentile, start_emulator_and_proxy

from signproxy.okx.signing import Signer, iso_timestamp

ORDER = b'{"instId":"BTC-USDT","tdMode":"cash","side":"buy","ordType":"limit","px":"1","sz":"1"}'


async def main() -> None:
    """Run the measurement and print the result as a table and a JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--method", choices=("GET", "POST"), default="POST")
    args = parser.parse_args()
    pair = await start_emulator_and_proxy()
    key, secret, passphrase = pair.key, pair.secret, pair.passphrase
    emulator_url, proxy_url = pair.emulator_url, pair.proxy_url
    signer = Signer(secret)
    target = "/api/v5/trade/order" if args.method == "POST" else "/api/v5/account/balance?ccy=BTC"
    body = ORDER if args.method == "POST" else b""
    timings: dict[str, list[float]] = {"direct": [], "proxy": []}
    try:
        async with aiohttp.ClientSession() as direct, aiohttp.ClientSession() as via:

            async def once(name: str) -> None:
                started = time.perf_counter()
                if name == "direct":
                    stamp = iso_timestamp(time.time_ns() // 1_000_000)
                    headers = {
                        "OK-ACCESS-KEY": key,
                        "OK-ACCESS-PASSPHRASE": passphrase,
                        "OK-ACCESS-TIMESTAMP": stamp,
                        "OK-ACCESS-SIGN": signer.sign_request(stamp, args.method, target, body),
                        "Content-Type": "application/json",
                    }
                    response = direct.request(
                        args.method, emulator_url + target, data=body or None, headers=headers
                    )
                else:
                    response = via.request(
                        args.method,
                        proxy_url + target,
                        data=body or None,
                        headers={"Content-Type": "application/json"},
                    )
                async with response as resp:
                    answer = await resp.json()
                if answer["code"] != "0":
                    raise SystemExit(f"{name}: unexpected answer {answer}")
                timings[name].append((time.perf_counter() - started) * 1e6)

            for _ in range(100):  # warm-up, not recorded
                await once("direct")
                await once("proxy")
            timings = {"direct": [], "proxy": []}
            rounds, per_round = divmod(args.requests, 100)
            for _ in range(max(rounds, 1)):
                for name in ("direct", "proxy"):
                    for _ in range(100 if rounds else per_round):
                        await once(name)
    finally:
        await pair.stop()
    result = {
        name: {
            "requests": len(values),
            "median_us": round(statistics.median(values), 1),
            "p90_us": round(percentile(values, 0.90), 1),
            "p99_us": round(percentile(values, 0.99), 1),
        }
        for name, values in timings.items()
    }
    result["added_median_us"] = round(
        result["proxy"]["median_us"] - result["direct"]["median_us"], 1
    )
    print(
        f"{args.method} {target}, {args.requests} sequential requests each, keep-alive, 127.0.0.1"
    )
    print(f"{'path':<8}{'median µs':>12}{'p90 µs':>10}{'p99 µs':>10}")
    for name in ("direct", "proxy"):
        row = result[name]
        print(f"{name:<8}{row['median_us']:>12}{row['p90_us']:>10}{row['p99_us']:>10}")
    print(f"added by signproxy at median: {result['added_median_us']} µs")
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
