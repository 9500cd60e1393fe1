"""Load generators: wrk with a POST order body, or the Python fallback (pyload.py).

Latency at concurrency 1 is always measured by pyload.py's blocking-socket client: on this
2-core VM, wrk 4.1's c=1 p99 swung between 1.5 ms and 54 ms against an nginx whose p50 is 18 us,
while the blocking client saw a steady 55-65 us p99 against the same nginx (its own cost is about
10 us per request, the same for every target). Throughput at c=16 comes from wrk when installed.

Both report the same dict: requests, seconds, rps, p50_us, p99_us, errors (anything but a 2xx
answer, or a socket error), and which tool measured it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from typing import TYPE_CHECKING, Any

from servers import HERE, INSTRUMENTS, ORDER_BODY, ORDER_PATH

if TYPE_CHECKING:
    from pathlib import Path

# wrk's done() hook prints exact percentiles (in microseconds) as one JSON line.
_WRK_SCRIPT = """
wrk.method = "POST"
wrk.path = "%(path)s"
wrk.headers["Content-Type"] = "application/json"
counter = 0
math.randomseed(os.time() + os.clock() * 1000000)
run = math.random(1, 999999999)
request = function()
  counter = counter + 1
  local body = string.gsub('%(body)s', "BTC%%-USDT", "B" .. (counter %% %(instruments)d) .. "-USDT")
  body = string.gsub(body, "bench1", "b" .. run .. "x" .. counter)
  return wrk.format(nil, nil, nil, body)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%%d,"duration_us":%%d,"p50_us":%%d,"p99_us":%%d,"errors":%%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def wrk_available() -> bool:
    """Whether Debian's wrk is installed."""
    return shutil.which("wrk") is not None


class Load:
    """Runs one measurement against a URL with wrk when it is there, else with pyload.py."""

    def __init__(self, workdir: Path, *, use_wrk: bool) -> None:
        """Write wrk's script into ``workdir`` when wrk is used."""
        self.use_wrk = use_wrk
        self.tool = "wrk" if use_wrk else "python"
        self._script = workdir / "post-order.lua"
        self._script.write_text(
            _WRK_SCRIPT % {"path": ORDER_PATH, "body": ORDER_BODY, "instruments": INSTRUMENTS}
        )

    def run(self, port: int | str, connections: int, seconds: float) -> dict[str, Any]:
        """Send POST orders to 127.0.0.1:port (or a Unix socket's path, c=1 only)."""
        if self.use_wrk and connections > 1 and isinstance(port, int):
            return self._wrk(port, connections, seconds)
        return self._python(port, connections, seconds)

    def _wrk(self, port: int | str, connections: int, seconds: float) -> dict[str, Any]:
        argv = [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--latency",
            "-s",
            str(self._script),
            f"http://127.0.0.1:{port}{ORDER_PATH}",
        ]
        out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=600).stdout
        line = next(line for line in out.splitlines() if line.startswith("WRKJSON "))
        raw = json.loads(line.removeprefix("WRKJSON "))
        secs = raw["duration_us"] / 1e6
        return {
            "requests": raw["requests"],
            "seconds": round(secs, 3),
            "rps": round(raw["requests"] / secs, 1),
            "p50_us": raw["p50_us"],
            "p99_us": raw["p99_us"],
            "errors": raw["errors"],
            "tool": "wrk",
        }

    def _python(self, port: int | str, connections: int, seconds: float) -> dict[str, Any]:
        argv = [sys.executable, str(HERE / "pyload.py"), str(port), str(connections), str(seconds)]
        out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=600).stdout
        return {**json.loads(out), "tool": "python"}
