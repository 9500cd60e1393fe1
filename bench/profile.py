"""Where signproxy's CPU goes, next to the bare signer's: py-spy profiles, per request.

Starts nginx (or the Python stand-in) as the upstream, the bare signer and ``signproxy serve``,
and records each with py-spy (``pip install py-spy``; needs ptrace rights, e.g. root) while wrk
(or pyload.py) drives it at concurrency 16. Samples are counted per 1,000 requests, so the two
can be compared although they serve different rates; a sample is 1 / ``--rate`` seconds of
wall time. Prints a Markdown table of the parts that differ:

    .venv/bin/python bench/profile.py [--seconds 10] [--rate 250]

All traffic stays on 127.0.0.1; each profile is bounded in time.
"""

from __future__ import annotations

import argparse
import collections
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import servers
from load import Load, wrk_available
from servers import Processes, free_port

# (label, frame function name): a sample counts for a part when the function is on its stack.
PARTS = (
    ("handler: middleware, stages, answer", "Application._handle"),
    ("client: ClientSession._request", "ClientSession._request"),
    ("server: parse and route", "RequestHandler.data_received"),
    ("router: UrlDispatcher.resolve", "UrlDispatcher.resolve"),
    ("handler proper: signproxy's pipeline", "ProxyHandler.handle"),
    ("handler proper: the bare signer's", "forward"),
    ("log line and metrics, after the answer", "_finish"),
)
_FUNCTION = re.compile(r" \(.*")


def profile(
    pid: int, seconds: float, rate: int, out: Path, *, gil: bool = False
) -> subprocess.Popen[bytes]:
    """Start py-spy on ``pid`` for ``seconds``, raw (collapsed) stacks to ``out``.

    ``gil``: sample only the thread holding the GIL (py-spy ``--gil``), so a thread waiting for
    the GIL (the event loop while the journal's writer runs, or the reverse) is not counted busy.
    """
    argv = [
        shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy"),
        "record", "-p", str(pid), "-d", str(round(seconds)), "-r", str(rate),
        "-f", "raw", "-o", str(out), "--nonblocking", *(["--gil"] if gil else []),
    ]  # fmt: skip
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def per_request(path: Path, requests: int) -> dict[str, float]:
    """Samples per 1,000 requests: in all, busy (not in the loop's native code), each part."""
    counts: collections.Counter[str] = collections.Counter()
    for line in path.read_text().splitlines():
        stack, _, number = line.rpartition(" ")
        frames = [_FUNCTION.sub("", frame) for frame in stack.split(";")]
        samples = int(number)
        counts["all"] += samples
        if frames[-1] != "Runner.run":  # the event loop's own native work, and its waits
            counts["busy"] += samples
        # Time in the proxy's own code itself (or the bare signer's), not in what it calls.
        leaf = stack.rpartition(";")[2]
        if "signproxy/" in leaf or "bare_signer" in leaf:
            counts["own code (self time)"] += samples
            counts["own: " + re.sub(r" \((?:.*/)?([^/:]*)(?::\d+)?\)", r" (\1)", leaf)] += samples
        names = set(frames)
        for label, function in PARTS:
            if function in names:
                counts[label] += samples
    return {key: round(value * 1000 / requests, 1) for key, value in counts.items()}


def main() -> None:
    """Profile both, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rate", type=int, default=250, help="samples per second")
    parser.add_argument("--gil", action="store_true", help="sample only the GIL's holder")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="signproxy-profile-"))
    procs = Processes(workdir)
    load = Load(workdir, use_wrk=wrk_available())
    rows = {}
    try:
        upstream = servers.start_upstream(procs)
        for name in ("bare signer", "signproxy"):
            port = free_port()
            if name == "bare signer":
                proc = servers.start_bare_signer(procs, port, upstream)
            else:  # as it ships: rate budgets on (the load spreads over instruments)
                proc = servers.start_signproxy(
                    procs, port, upstream, extra_env={"SIGNPROXY_RATE_LIMITS": "on"}
                )
            load.run(port, 16, 1)  # warm-up
            out = workdir / f"{name.replace(' ', '-')}.txt"
            spy = profile(proc.pid, args.seconds, args.rate, out, gil=args.gil)
            time.sleep(0.3)
            run = load.run(port, 16, args.seconds)
            spy.wait(timeout=args.seconds + 30)
            rows[name] = per_request(out, run["requests"])
            rows[name]["req/s"] = run["rps"]
            procs.stop(proc)
    finally:
        procs.close()
    keys = ["req/s", "all", "busy", "own code (self time)", *(label for label, _ in PARTS)]
    print(f"py-spy samples per 1,000 requests at c=16 (1 sample = {1000 / args.rate:g} ms)")
    print("| part | bare signer | signproxy | difference |")
    print("| --- | ---: | ---: | ---: |")
    own = sorted(
        (key for key in rows["signproxy"] if key.startswith("own: ")),
        key=lambda key: -rows["signproxy"][key],
    )
    for key in keys + own[:12]:
        bare, proxy = rows["bare signer"].get(key, 0.0), rows["signproxy"].get(key, 0.0)
        print(f"| {key} | {bare} | {proxy} | {round(proxy - bare, 1)} |")


if __name__ == "__main__":
    main()
