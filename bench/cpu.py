"""CPU time signproxy spends per request: steadier than latency on a shared machine.

Starts nginx (or the Python stand-in) as the upstream and ``signproxy serve`` as a subprocess,
drives ``POST /api/v5/trade/order`` at it with wrk (or pyload.py), and reads the proxy's
utime+stime (its workers' too) from /proc before and after each round. Prints one JSON line per
round and the median:

    .venv/bin/python bench/cpu.py --rounds 5 --seconds 4
    .venv/bin/python bench/cpu.py --source /tmp/other-checkout   # A/B another version's code

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
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the proxy")
    return parser.parse_args()


def main() -> None:
    """Measure, print a JSON line per round and a summary line."""
    args = _arguments()
    with tempfile.TemporaryDirectory(prefix="signproxy-cpu-") as tmp:
        # `python -m signproxy` puts its working directory first on sys.path: started from a
        # checkout, it would run that checkout's code and silently ignore --source.
        os.chdir(tmp)
        procs = Processes(Path(tmp))
        try:
            upstream_port, proxy_port = free_port(), free_port()
            if servers.nginx_available():
                servers.start_nginx_upstream(procs, upstream_port)
            else:
                servers.start_python_upstream(procs, upstream_port)
            env = {"SIGNPROXY_WORKERS": str(args.workers)}
            env.update(item.split("=", 1) for item in args.env)
            if args.source is not None:
                env["PYTHONPATH"] = str(args.source.resolve())
            proxy = servers.start_signproxy(
                procs, proxy_port, f"http://127.0.0.1:{upstream_port}", extra_env=env
            )
            load = Load(Path(tmp), use_wrk=wrk_available())
            load.run(proxy_port, args.connections, 1)  # warm-up
            per_request = []
            for _ in range(args.rounds):
                user0, system0 = cpu_seconds(proxy.pid)
                run = load.run(proxy_port, args.connections, args.seconds)
                user1, system1 = cpu_seconds(proxy.pid)
                us = (user1 - user0 + system1 - system0) / run["requests"] * 1e6
                per_request.append(us)
                print(
                    json.dumps(
                        {
                            "cpu_us_per_request": round(us, 1),
                            "system_us": round((system1 - system0) / run["requests"] * 1e6, 1),
                            "rps": run["rps"],
                            "requests": run["requests"],
                            "errors": run["errors"],
                        }
                    )
                )
            summary = {
                "median_cpu_us_per_request": round(statistics.median(per_request), 1),
                "min": round(min(per_request), 1),
            }
            print(json.dumps(summary))
        finally:
            procs.close()


if __name__ == "__main__":
    main()
