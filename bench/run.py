"""signproxy's benchmark: direct vs nginx as a plain proxy vs signproxy, and the TLS scenario.

Run it with ``bench/run.sh`` (installs nginx, wrk and the Python packages when missing) or, with
everything installed, ``.venv/bin/python bench/run.py``. All traffic stays on 127.0.0.1; each
load run is bounded in time. Prints a table and writes ``bench/results/latest.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import servers
import tls
from load import Load, wrk_available
from report import table
from servers import Processes, free_port

TARGET_REQUESTS = 100_000  # signproxy's RSS is read after at least this many requests


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10, help="each throughput run (c=16)")
    parser.add_argument("--latency-seconds", type=float, default=5, help="each c=1 run")
    parser.add_argument("--tls-requests", type=int, default=100, help="per TLS-scenario side")
    parser.add_argument("--rtt-ms", type=float, default=10, help="round trip the relay adds")
    parser.add_argument("--workers", type=int, default=0, help="also run SIGNPROXY_WORKERS=N")
    parser.add_argument("--python-only", action="store_true", help="use no nginx and no wrk")
    parser.add_argument("--out", type=Path, default=servers.HERE / "results")
    return parser.parse_args()


def measure(load: Load, port: int, args: argparse.Namespace) -> dict[str, Any]:
    """Warm up, then latency at concurrency 1 and throughput at concurrency 16."""
    load.run(port, 16, 1)
    return {
        "c1": load.run(port, 1, args.latency_seconds),
        "c16": load.run(port, 16, args.seconds),
    }


def verify_signatures(procs: Processes, load: Load) -> dict[str, Any]:
    """Through signproxy to the verifying emulator: every request must pass OKX's checks."""
    emulator_port, proxy_port = free_port(), free_port()
    servers.start_emulator(procs, emulator_port)
    proxy = servers.start_signproxy(
        procs, proxy_port, f"http://127.0.0.1:{emulator_port}", name="signproxy-emulator"
    )
    run = load.run(proxy_port, 16, 2)
    request = urllib.request.Request(
        f"http://127.0.0.1:{proxy_port}{servers.ORDER_PATH}",
        data=servers.ORDER_BODY.encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - http://127.0.0.1
        code = json.loads(answer.read())["code"]
    procs.stop(proxy)
    return {"requests": run["requests"], "rejected": run["errors"], "last_okx_code": code}


def tls_scenario(procs: Processes, args: argparse.Namespace, tls_port: int) -> dict[str, Any]:
    """The seeds-style client, direct through the delaying relay vs through signproxy."""
    ca = procs.workdir / "certs" / "ca.pem"
    relay_port, proxy_port = free_port(), free_port()
    relay_argv = [
        servers.sys.executable,
        str(servers.HERE / "relay.py"),
        str(relay_port),
        str(tls_port),
        str(args.rtt_ms),
    ]
    procs.start("relay", relay_argv, relay_port)
    proxy = servers.start_signproxy(
        procs,
        proxy_port,
        f"https://127.0.0.1:{relay_port}",
        name="signproxy-tls",
        extra_env={"SSL_CERT_FILE": str(ca)},
    )
    result = tls.compare(relay_port, proxy_port, ca, args.tls_requests)
    procs.stop(proxy)
    return {"rtt_ms": args.rtt_ms, **result}


def top_up(load: Load, port: int, done: int, rate: float) -> int:
    """Send more requests until signproxy has served at least TARGET_REQUESTS."""
    while done < TARGET_REQUESTS:
        seconds = min(60.0, max(1.0, (TARGET_REQUESTS - done) / max(rate, 1.0) * 1.1))
        done += load.run(port, 16, seconds)["requests"]
    return done


def main() -> None:
    """Run every measurement, print the table, write the JSON."""
    args = _arguments()
    use_nginx = servers.nginx_available() and not args.python_only
    load = Load(Path(tempfile.mkdtemp(prefix="signproxy-bench-")), use_wrk=wrk_available())
    load.use_wrk = load.use_wrk and not args.python_only
    load.tool = "wrk" if load.use_wrk else "python"
    procs = Processes(Path(tempfile.mkdtemp(prefix="signproxy-bench-")))
    results: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": f"{platform.machine()}, {servers.os.cpu_count()} cpus, {platform.platform()}",
        "python": platform.python_version(),
        "upstream": "nginx" if use_nginx else "python",
        "load": load.tool,
    }
    try:
        have_tls = shutil.which("openssl") is not None
        cert_dir = procs.workdir / "certs"
        if have_tls:
            tls.make_certificates(cert_dir)
        up_port, tls_port = free_port(), free_port() if have_tls else None
        start_upstream = (
            servers.start_nginx_upstream if use_nginx else servers.start_python_upstream
        )
        start_upstream(procs, up_port, tls_port, cert_dir if have_tls else None)
        targets: dict[str, Any] = {"direct": measure(load, up_port, args)}
        if use_nginx:
            nginx_port = free_port()
            servers.start_nginx_proxy(procs, nginx_port, up_port)
            targets["nginx"] = measure(load, nginx_port, args)
        runs = [("signproxy", {})]
        if args.workers > 1:
            runs.append((f"signproxy-{args.workers}w", {"SIGNPROXY_WORKERS": str(args.workers)}))
        for name, extra_env in runs:
            port = free_port()
            proc = servers.start_signproxy(
                procs, port, f"http://127.0.0.1:{up_port}", name=name, extra_env=extra_env
            )
            result = measure(load, port, args)
            served = top_up(
                load,
                port,
                sum(run["requests"] for run in result.values()) + 1,
                result["c16"]["rps"],
            )
            result["rss_mb"] = round(servers.rss_mb(proc.pid), 1)
            result["requests_served"] = served
            targets[name] = result
            procs.stop(proc)
        results["targets"] = targets
        results["signatures"] = verify_signatures(procs, load)
        if tls_port is not None:
            results["tls"] = tls_scenario(procs, args, tls_port)
    finally:
        procs.close()
    text = table(results)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "latest.md").write_text(text + "\n")
    stamp = results["when"].replace(":", "")
    (args.out / f"bench-{stamp}.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
