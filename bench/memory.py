"""Resident memory of signproxy after 100,000 orders, per configuration, with CPU per request.

Starts nginx (or the Python stand-in) as the upstream and one ``signproxy serve`` per
configuration (the defaults as shipped, plus each ``--env`` set), sends ``--requests`` orders
at concurrency 16 to each in turn (wrk, or pyload.py), and prints RSS, PSS, the requests served
and CPU time per request. The benchmark's orders carry no ``clOrdId``: each gets its own, so
each is a new de-duplication claim held for the window (the worst case for memory).

    .venv/bin/python bench/memory.py
    .venv/bin/python bench/memory.py --env SIGNPROXY_DEDUP_WINDOW=0 --env SIGNPROXY_JOURNAL=off

All traffic stays on 127.0.0.1; every run is bounded by its request count.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import servers
from cpu import cpu_seconds
from load import Load, wrk_available
from servers import Processes, free_port

DEFAULTS = {"SIGNPROXY_RATE_LIMITS": "on"}  # as it ships (servers.signproxy_env turns them off)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        help="a configuration to measure besides the defaults: NAME=VALUE[,NAME=VALUE]",
    )
    return parser.parse_args()


def _measure(procs: Processes, load: Load, upstream: str, env: dict[str, str], n: int) -> dict:
    port = free_port()
    proxy = servers.start_signproxy(procs, port, upstream, name="signproxy", extra_env=env)
    rss_start = servers.rss_mb(proxy.pid)
    user0, sys0 = cpu_seconds(proxy.pid)
    done = 0
    started = time.monotonic()
    while done < n:
        done += load.run(port, 16, min(30.0, max(1.0, (n - done) / 1500)))["requests"]
    user1, sys1 = cpu_seconds(proxy.pid)
    result = {
        "env": env,
        "requests": done,
        "seconds": round(time.monotonic() - started, 1),
        "rss_start_mb": round(rss_start, 1),
        "rss_mb": round(servers.rss_mb(proxy.pid), 1),
        "pss_mb": round(servers.rss_mb(proxy.pid, "Pss"), 1),
        "cpu_us": round((user1 + sys1 - user0 - sys0) / done * 1e6, 1),
    }
    procs.stop(proxy)
    return result


def main() -> None:
    """Measure the defaults and each ``--env`` configuration; print a JSON line for each."""
    args = _arguments()
    configurations = [DEFAULTS] + [
        DEFAULTS | dict(pair.split("=", 1) for pair in spec.split(",")) for spec in args.env
    ]
    with tempfile.TemporaryDirectory(prefix="signproxy-memory-") as tmp:
        procs = Processes(Path(tmp))
        load = Load(Path(tmp), use_wrk=wrk_available())
        try:
            upstream = servers.start_upstream(procs)
            for env in configurations:
                print(
                    json.dumps(_measure(procs, load, upstream, env, args.requests)),
                    flush=True,
                )
        finally:
            procs.close()


if __name__ == "__main__":
    main()
