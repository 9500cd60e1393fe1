"""CPU time per request of each of signproxy's threads: the event loop's and the journal writer's.

A sampling profiler counts a thread waiting for the GIL as busy, so it cannot say how much CPU
the journal's writer thread really takes; the kernel's per-thread counters can. Starts nginx (or
the Python stand-in) and ``signproxy serve`` with the defaults (plus ``--env``), runs wrk at
concurrency 16 for ``--seconds``, and prints each thread's utime + stime per request, from
``/proc/<pid>/task/<tid>/stat``:

    .venv/bin/python bench/threads.py [--seconds 8] [--env SIGNPROXY_DEDUP_WINDOW=0]

All traffic stays on 127.0.0.1; the run is bounded in time.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

import servers
from load import Load, wrk_available
from servers import Processes, free_port

_TICKS = os.sysconf("SC_CLK_TCK")


def per_thread(pid: int) -> dict[str, float]:
    """CPU seconds (utime + stime) of each thread of ``pid``: ``event loop`` is the main one.

    Python 3.11 does not give its threads names the kernel sees: the busy thread besides the
    event loop is the journal's writer (executor threads run only now and then).
    """
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        name = "event loop" if int(task.name) == pid else f"thread {task.name}"
        out[name] = (int(fields[11]) + int(fields[12])) / _TICKS
    return out


def main() -> None:
    """Measure once and print one JSON line: µs per request by thread."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the proxy")
    args = parser.parse_args()
    env = {"SIGNPROXY_RATE_LIMITS": "on", **dict(item.split("=", 1) for item in args.env)}
    with tempfile.TemporaryDirectory(prefix="signproxy-threads-") as tmp:
        procs = Processes(Path(tmp))
        load = Load(Path(tmp), use_wrk=wrk_available())
        try:
            upstream = servers.start_upstream(procs)
            port = free_port()
            proxy = servers.start_signproxy(procs, port, upstream, extra_env=env)
            load.run(port, 16, 2)  # warm up: connections, caches, the first collections
            before = per_thread(proxy.pid)
            requests = load.run(port, 16, args.seconds)["requests"]
            after = per_thread(proxy.pid)
        finally:
            procs.close()
    by_thread = {
        name: round((seconds - before.get(name, 0.0)) / requests * 1e6, 1)
        for name, seconds in after.items()
        if seconds > before.get(name, 0.0)
    }
    print(json.dumps({"env": env, "requests": requests, "cpu_us_by_thread": by_thread}))


if __name__ == "__main__":
    main()
