"""How long one relayed WebSocket message takes through signproxy, against the bundled emulator.

Starts `signproxy emulator` and `signproxy serve` (in front of it) as subprocesses on 127.0.0.1,
opens one private WebSocket directly to the emulator (logged in by this script) and one through
the proxy (logged in by the proxy), then does N sequential round trips on each, interleaved in
rounds of 100: send a message, wait for its answer. Prints the median, p90 and p99 of each and
the difference. Bounded: N round trips per path, then it stops.

    python bench/ws_latency.py [--round-trips 1000] [--message ping|order]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time

import aiohttp
from subprocs import percentile, start_emulator_and_proxy

from signproxy.okx.signing import Signer

ORDER = {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "limit", "px": "1"}


async def login(
    sockets: dict[str, aiohttp.ClientWebSocketResponse], key: str, secret: str, passphrase: str
) -> None:
    """Log in directly (signed here) and through the proxy (a dummy login it replaces)."""
    stamp = str(time.time_ns() // 1_000_000_000)
    signed = {"apiKey": key, "passphrase": passphrase, "timestamp": stamp}
    signed["sign"] = Signer(secret).sign_ws_login(stamp)
    await sockets["direct"].send_str(json.dumps({"op": "login", "args": [signed]}))
    await sockets["proxy"].send_str('{"op":"login","args":[]}')
    for name, ws in sockets.items():
        answer = json.loads(await ws.receive_str(timeout=10))
        if answer.get("code") != "0":
            raise SystemExit(f"{name}: login failed {answer}")


async def measure(
    sockets: dict[str, aiohttp.ClientWebSocketResponse], kind: str, round_trips: int
) -> dict[str, list[float]]:
    """Time sequential round trips on each socket, interleaved in rounds of 100."""
    timings: dict[str, list[float]] = {"direct": [], "proxy": []}
    counter = 0

    async def once(name: str) -> None:
        nonlocal counter
        counter += 1
        message = "ping"
        if kind == "order":
            message = json.dumps(
                {"id": str(counter), "op": "order", "args": [{**ORDER, "sz": "1"}]}
            )
        ws = sockets[name]
        started = time.perf_counter()
        await ws.send_str(message)
        reply = await ws.receive_str(timeout=10)
        timings[name].append((time.perf_counter() - started) * 1e6)
        if reply != "pong" and json.loads(reply).get("code") != "0":
            raise SystemExit(f"{name}: unexpected answer {reply}")

    for _ in range(100):  # warm-up, not recorded
        await once("direct")
        await once("proxy")
    timings["direct"].clear()
    timings["proxy"].clear()
    rounds, rest = divmod(round_trips, 100)
    for size in [100] * rounds + ([rest] if rest else []):
        for name in ("direct", "proxy"):
            for _ in range(size):
                await once(name)
    return timings


def report(timings: dict[str, list[float]], kind: str, round_trips: int) -> None:
    """Print the table and a JSON line."""
    result: dict[str, object] = {
        name: {
            "round_trips": len(values),
            "median_us": round(statistics.median(values), 1),
            "p90_us": round(percentile(values, 0.90), 1),
            "p99_us": round(percentile(values, 0.99), 1),
        }
        for name, values in timings.items()
    }
    added = statistics.median(timings["proxy"]) - statistics.median(timings["direct"])
    result["added_median_us"] = round(added, 1)
    print(f"WebSocket {kind!r} round trips, {round_trips} each, /ws/v5/private, 127.0.0.1")
    print(f"{'path':<8}{'median µs':>12}{'p90 µs':>10}{'p99 µs':>10}")
    for name in ("direct", "proxy"):
        values = timings[name]
        print(
            f"{name:<8}{statistics.median(values):>12.1f}"
            f"{percentile(values, 0.9):>10.1f}{percentile(values, 0.99):>10.1f}"
        )
    print(f"added by signproxy at median: {added:.1f} µs")
    print(json.dumps(result))


async def main() -> None:
    """Start both servers, measure, stop them, report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--round-trips", type=int, default=1000)
    parser.add_argument("--message", choices=("ping", "order"), default="ping")
    args = parser.parse_args()
    pair = await start_emulator_and_proxy()
    key, secret, passphrase = pair.key, pair.secret, pair.passphrase
    emulator_url, proxy_url = pair.emulator_url, pair.proxy_url
    try:
        async with aiohttp.ClientSession() as session:
            sockets = {
                "direct": await session.ws_connect("ws" + emulator_url[4:] + "/ws/v5/private"),
                "proxy": await session.ws_connect("ws" + proxy_url[4:] + "/ws/v5/private"),
            }
            await login(sockets, key, secret, passphrase)
            timings = await measure(sockets, args.message, args.round_trips)
            for ws in sockets.values():
                await ws.close()
    finally:
        await pair.stop()
    report(timings, args.message, args.round_trips)


if __name__ == "__main__":
    asyncio.run(main())
