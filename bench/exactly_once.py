"""What exactly-once costs per order: the journal and the de-duplication, in-process and Redis.

For each configuration, starts nginx (or the Python stand-in) answering every order as OKX
would, and ``signproxy serve`` in front of it, then measures:

- CPU time the proxy spends per order (utime + stime from /proc) under load at concurrency 16;
- latency of one order at a time (median and p99, concurrency 1).

All configurations run at once and every round visits each in turn (medians over rounds), so a
shared machine's changing load touches them alike.

Configurations: ``none`` (journal off, de-duplication off), ``journal``, ``dedup-memory``,
``both`` (the defaults), ``both-redis`` (de-duplication in a local redis-server). Every order
has no client order id, so the proxy gives each its own and each is a new order.

    .venv/bin/python bench/exactly_once.py --rounds 3 --seconds 4

All traffic stays on 127.0.0.1; every round is bounded in time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
from pathlib import Path

import servers
from cpu import cpu_seconds
from load import Load, wrk_available
from servers import Processes, free_port

CONFIGS: dict[str, dict[str, str]] = {
    "none": {"SIGNPROXY_JOURNAL": "off", "SIGNPROXY_DEDUP_WINDOW": "0"},
    "journal": {"SIGNPROXY_DEDUP_WINDOW": "0"},
    "dedup-memory": {"SIGNPROXY_JOURNAL": "off"},
    "both": {},
    "both-redis": {"SIGNPROXY_REDIS_URL": "redis://127.0.0.1:{redis_port}/0"},
}


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4, help="each round's load")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--only", action="append", choices=sorted(CONFIGS), help="configs to run")
    return parser.parse_args()


def measure(
    procs: Processes, upstream: str, envs: dict[str, dict[str, str]], args: argparse.Namespace
) -> dict[str, dict[str, float]]:
    """CPU per order under load and latency at concurrency 1, configurations interleaved.

    Every configuration's proxy runs at once and each round visits them in turn, so a change in
    the machine's load during the run touches them all alike.
    """
    proxies = {}
    for name, env in envs.items():
        port = free_port()
        proxies[name] = (
            port,
            servers.start_signproxy(procs, port, upstream, name=name, extra_env=env),
        )
    load = Load(procs.workdir, use_wrk=wrk_available())
    single = Load(procs.workdir, use_wrk=False)
    cpu_us: dict[str, list[float]] = {name: [] for name in envs}
    p50: dict[str, list[float]] = {name: [] for name in envs}
    p99: dict[str, list[float]] = {name: [] for name in envs}
    for port, _ in proxies.values():
        load.run(port, args.connections, 1)  # warm-up
    for _ in range(args.rounds):
        for name, (port, proxy) in proxies.items():
            user0, system0 = cpu_seconds(proxy.pid)
            run = load.run(port, args.connections, args.seconds)
            user1, system1 = cpu_seconds(proxy.pid)
            if run["errors"]:
                raise SystemExit(f"{name}: {run['errors']} errors under load")
            cpu_us[name].append((user1 - user0 + system1 - system0) / run["requests"] * 1e6)
            one = single.run(port, 1, args.seconds)
            p50[name].append(one["p50_us"])
            p99[name].append(one["p99_us"])
    return {
        name: {
            "cpu_us_per_order": round(statistics.median(cpu_us[name]), 1),
            "p50_us": round(statistics.median(p50[name]), 1),
            "p99_us": round(statistics.median(p99[name]), 1),
        }
        for name in envs
    }


def main() -> None:
    """Measure each configuration; print one JSON line each and a table."""
    args = _arguments()
    wanted = args.only or list(CONFIGS)
    with tempfile.TemporaryDirectory(prefix="signproxy-once-") as tmp:
        os.chdir(tmp)  # no checkout's ./.env, no stray journal
        procs = Processes(Path(tmp))
        try:
            upstream = servers.start_upstream(procs)
            redis_port = free_port()
            if "both-redis" in wanted:
                redis = shutil.which("redis-server")
                if redis is None:
                    raise SystemExit("redis-server is not installed")
                procs.start(
                    "redis",
                    [
                        redis,
                        "--port",
                        str(redis_port),
                        "--bind",
                        "127.0.0.1",
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                        "--dir",
                        tmp,
                    ],
                    redis_port,
                )
            envs = {
                name: {k: v.format(redis_port=redis_port) for k, v in CONFIGS[name].items()}
                for name in wanted
            }
            results = measure(procs, upstream, envs, args)
            for name, row in results.items():
                print(json.dumps({"config": name, **row}), flush=True)
        finally:
            procs.close()
    base = results.get("none")
    print("| config | CPU per order | extra CPU | p50 | p99 |")
    print("|---|---|---|---|---|")
    for name, row in results.items():
        extra = f"{row['cpu_us_per_order'] - base['cpu_us_per_order']:+.1f} us" if base else "-"
        print(
            f"| {name} | {row['cpu_us_per_order']} us | {extra} |"
            f" {row['p50_us']} us | {row['p99_us']} us |"
        )


if __name__ == "__main__":
    main()
