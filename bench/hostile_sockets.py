"""Hostile sockets: a flood of idle and half-open connections against a proxy with 1,024 fds.

Starts the emulator and a ``signproxy serve`` in front of it under ``prlimit --nofile=1024``,
gives a bot one kept-alive connection, then opens ``--sockets`` connections of which half send
nothing and half send half a request head. Measures whether and how fast the bot is answered on
its connection during the flood, how long a new connection waits to be answered, and what the
proxy held and logged. Prints one JSON summary. Linux only (prlimit, /proc).

    python bench/hostile_sockets.py                   # 2,000 sockets, head deadline 10 s
    python bench/hostile_sockets.py --head-timeout 2
    python bench/hostile_sockets.py --unbounded       # head and keep-alive deadlines an hour

(The connection cap cannot be switched off: it always fits the file-descriptor limit.)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import time

import aiohttp
import servers

BALANCE = "/api/v5/account/balance?ccy=BTC"
OK = 200


async def open_hostile(port: int, count: int) -> list[socket.socket]:
    """Half idle sockets, half with half a request head."""
    loop = asyncio.get_running_loop()
    socks = []
    for index in range(count):
        sock = socket.socket()
        sock.setblocking(False)  # noqa: FBT003
        socks.append(sock)
        with contextlib.suppress(OSError, TimeoutError):
            await asyncio.wait_for(loop.sock_connect(sock, ("127.0.0.1", port)), 2)
            if index % 2:
                await loop.sock_sendall(sock, b"GET /api/v5/account/balance HTTP/1.1\r\nHost: 1")
    return socks


async def main() -> None:  # noqa: PLR0915 - one scenario, read top to bottom
    """Run once and print the summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=2000)
    parser.add_argument("--head-timeout", default="10")
    parser.add_argument("--unbounded", action="store_true", help="limits off (the old behaviour)")
    parser.add_argument("--wait", type=float, default=60.0, help="seconds a new connection tries")
    args = parser.parse_args()
    env = servers.signproxy_env(SIGNPROXY_RATE_LIMITS="on")  # as shipped
    emulator, emulator_url, _ = await servers.start_logging("emulator", "--port", "0", env=env)
    proxy_env = {
        **env,
        "SIGNPROXY_UPSTREAM": emulator_url,
        "SIGNPROXY_ALLOW_CUSTOM_UPSTREAM": "1",
        "SIGNPROXY_CLOCK_SYNC_INTERVAL": "0",
        "SIGNPROXY_HEAD_TIMEOUT": args.head_timeout,
    }
    if args.unbounded:
        proxy_env |= {
            "SIGNPROXY_HEAD_TIMEOUT": "3600",
            "SIGNPROXY_KEEPALIVE_TIMEOUT": "3600",
            "SIGNPROXY_MAX_CLIENT_CONNECTIONS": "1000000",
        }
    limited = ("prlimit", "--nofile=1024:1024", "--", *servers.SIGNPROXY)
    proxy, url, lines = await servers.start_logging(
        "serve", "--port", "0", env=proxy_env, program=limited
    )
    port = int(url.rsplit(":", 1)[1])
    summary: dict[str, object] = {"sockets": args.sockets, "unbounded": args.unbounded}
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) as bot:
            async with bot.get(url + "/-/health") as reply:
                await reply.read()
            flood_started = time.monotonic()
            hostile = await open_hostile(port, args.sockets)
            summary["flood_open_s"] = round(time.monotonic() - flood_started, 2)
            await asyncio.sleep(0.5)
            summary["proxy_fds_during_flood"] = len(os.listdir(f"/proc/{proxy.pid}/fd"))  # noqa: PTH208
            sent = time.monotonic()
            try:
                async with bot.get(url + BALANCE) as reply:
                    summary["kept_alive_status"] = reply.status
            except aiohttp.ClientError as exc:
                summary["kept_alive_status"] = type(exc).__name__
            summary["kept_alive_ms"] = round((time.monotonic() - sent) * 1000, 1)
            first_try = time.monotonic()
            answered: float | None = None
            fresh = aiohttp.TCPConnector(force_close=True)
            async with aiohttp.ClientSession(connector=fresh) as new:
                while answered is None and time.monotonic() - first_try < args.wait:
                    with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                        async with asyncio.timeout(2), new.get(url + BALANCE) as reply:
                            if reply.status == OK:
                                answered = round(time.monotonic() - first_try, 2)
                    await asyncio.sleep(0.1)
            summary["new_connection_answered_after_s"] = answered
            for sock in hostile:
                sock.close()
    finally:
        for process in (proxy, emulator):
            await servers.stop_logging(process)
    dropped: dict[str, int] = {}
    for entry in lines:
        if entry.get("event") == "signproxy.connection_dropped":
            dropped[entry["reason"]] = dropped.get(entry["reason"], 0) + 1
    listening = next(entry for entry in lines if entry["event"] == "signproxy.listening")
    summary["max_client_connections"] = listening.get("max_client_connections")
    summary["dropped_lines_logged"] = dropped
    summary["dropped_suppressed"] = sum(
        entry["suppressed"] for entry in lines if entry.get("event") == "signproxy.log_suppressed"
    )
    summary["log_bytes"] = sum(len(json.dumps(entry)) for entry in lines)
    print(json.dumps(summary))


if __name__ == "__main__":
    asyncio.run(main())
