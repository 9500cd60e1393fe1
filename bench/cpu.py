"""CPU time signproxy spends per request: steadier than latency on a shared machine.

Starts nginx (or the Python stand-in) as the upstream and ``signproxy serve`` as a subprocess,
drives ``POST /api/v5/trade/order`` at it with wrk (or pyload.py), and reads the proxy's
utime+stime (its workers' too) from /proc before and after each round. Prints one JSON line per
round and the median:

    .venv/bin/python bench/cpu.py --rounds 5 --seconds 4
    .venv/bin/python bench/cpu.py --source /tmp/other-checkout   # another version's code
    .venv/bin/python bench/cpu.py --against /tmp/other-checkout  # A/B, interleaved

``--against`` starts a second proxy from another checkout next to the first, and the rounds
alternate between them (A B, B A, ...), so both see the same disturbances of a shared machine;
the summary adds the median of the per-round differences (B - A).

All traffic stays on 127.0.0.1; every round is bounded in time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
from pathlib import Path

import servers
from load import Load, wrk_available
from servers import Processes, free_port

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> tuple[float, float]:
    """(utime, stime) of ``pid`` and of its children (the workers), in seconds."""
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(child) for child in children.read_text().split()]
    user = system = 0
    for one in pids:
        # Fields after the command name (which may hold spaces) start at index 2: state.
        fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        user += int(fields[11])
        system += int(fields[12])
    return user / _TICKS, system / _TICKS


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=4, help="each round's load")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1, help="SIGNPROXY_WORKERS")
    parser.add_argument("--source", type=Path, help="a checkout whose signproxy/ to run")
    parser.add_argument("--against", type=Path, help="B: another checkout, rounds interleaved")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the proxy")
    return parser.parse_args()


def _round(load: Load, pid: int, port: int, args: argparse.Namespace) -> dict[str, float]:
    user0, system0 = cpu_seconds(pid)
    run = load.run(port, args.connections, args.seconds)
    user1, system1 = cpu_seconds(pid)
    return {
        "cpu_us_per_request": round((user1 - user0 + system1 - system0) / run["requests"] * 1e6, 1),
        "system_us": round((system1 - system0) / run["requests"] * 1e6, 1),
        "rps": run["rps"],
        "requests": run["requests"],
        "errors": run["errors"],
    }


def main() -> None:
    """Measure, print a JSON line per round and a summary line."""
    args = _arguments()
    sources = {"A": args.source}
    if args.against is not None:
        sources["B"] = args.against
    with tempfile.TemporaryDirectory(prefix="signproxy-cpu-") as tmp:
        # `python -m signproxy` puts its working directory first on sys.path: started from a
        # checkout, it would run that checkout's code and silently ignore --source.
        os.chdir(tmp)
        procs = Processes(Path(tmp))
        try:
            upstream_port = free_port()
            if servers.nginx_available():
                servers.start_nginx_upstream(procs, upstream_port)
            else:
                servers.start_python_upstream(procs, upstream_port)
            proxies = {}
            for name, source in sources.items():
                env = {"SIGNPROXY_WORKERS": str(args.workers)}
                env.update(item.split("=", 1) for item in args.env)
                if source is not None:
                    env["PYTHONPATH"] = str(source.resolve())
                port = free_port()
                proxy = servers.start_signproxy(
                    procs,
                    port,
                    f"http://127.0.0.1:{upstream_port}",
                    name=f"signproxy-{name}",
                    extra_env=env,
                )
                proxies[name] = (proxy.pid, port)
            load = Load(Path(tmp), use_wrk=wrk_available())
            for _, port in proxies.values():
                load.run(port, args.connections, 1)  # warm-up
            per_request: dict[str, list[float]] = {name: [] for name in proxies}
            for number in range(args.rounds):
                names = list(proxies) if number % 2 == 0 else list(reversed(proxies))
                for name in names:
                    row = _round(load, *proxies[name], args)
                    per_request[name].append(row["cpu_us_per_request"])
                    print(json.dumps({"version": name, **row}), flush=True)
            print(json.dumps(_summary(per_request)))
        finally:
            procs.close()


def _summary(per_request: dict[str, list[float]]) -> dict[str, float]:
    if len(per_request) == 1:
        (only,) = per_request.values()
        return {
            "median_cpu_us_per_request": round(statistics.median(only), 1),
            "min": round(min(only), 1),
        }
    a, b = per_request["A"], per_request["B"]
    return {
        "median_A": round(statistics.median(a), 1),
        "median_B": round(statistics.median(b), 1),
        "median_B_minus_A": round(statistics.median(y - x for x, y in zip(a, b, strict=True)), 1),
        "ratio_B_A": round(statistics.median(b) / statistics.median(a), 3),
    }


if __name__ == "__main__":
    main()
