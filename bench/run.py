"""signproxy's benchmark: every figure side by side with the bare signer, printed as a ratio.

Run it with ``bench/run.sh`` (installs nginx, wrk and the Python packages when missing) or, with
everything installed, ``.venv/bin/python bench/run.py``. All traffic stays on 127.0.0.1; each
load run is bounded in time. Prints a Markdown report and writes ``bench/results/latest.json``.

The reference is ``bench/bare_signer.py``: the same stack (aiohttp server and client, uvloop,
one session) doing nothing but sign and relay, against the same upstream, in the same run.
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

import features
import servers
import tls
import warm
from load import Load, wrk_available
from measure import Target, cpu_rounds, latency_rounds, summarize
from report import report
from servers import Processes, free_port

TARGET_REQUESTS = 100_000  # signproxy's RSS is read after at least this many requests
# signproxy as it ships: servers.signproxy_env turns rate budgets off for the other scripts.
DEFAULTS = {"SIGNPROXY_RATE_LIMITS": "on"}


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds per figure")
    parser.add_argument("--seconds", type=float, default=3, help="each c=16 CPU run")
    parser.add_argument("--latency-seconds", type=float, default=2, help="each c=1 run")
    parser.add_argument("--workers", type=int, default=2, help="also run SIGNPROXY_WORKERS=N")
    parser.add_argument("--tls-requests", type=int, default=100, help="per seeds-scenario side")
    parser.add_argument("--rtt-ms", type=float, default=10, help="round trip the relay adds")
    parser.add_argument("--warm-orders", type=int, default=4, help="orders per keep-warm bot")
    parser.add_argument("--warm-gap", type=float, default=8, help="seconds between its orders")
    parser.add_argument("--idle-close", type=float, default=5, help="relay's idle close, s")
    parser.add_argument("--python-only", action="store_true", help="use no nginx and no wrk")
    parser.add_argument("--out", type=Path, default=servers.HERE / "results")
    return parser.parse_args()


def verify_signatures(procs: Processes, load: Load) -> dict[str, Any]:
    """Through signproxy to the verifying emulator: every request must pass OKX's checks."""
    emulator_port, proxy_port = free_port(), free_port()
    servers.start_emulator(procs, emulator_port)
    # About signatures only: the emulator does not report a VIP-sized sub-account limit, and a
    # rate budget's 429 would count as a rejection here.
    proxy = servers.start_signproxy(
        procs,
        proxy_port,
        f"http://127.0.0.1:{emulator_port}",
        name="signproxy-emulator",
        extra_env={"SIGNPROXY_RATE_LIMITS": "off"},
    )
    run = load.run(proxy_port, 16, 2)
    # The orders above repeat one clOrdId (OKX answers 51016 after the first, with HTTP 200); a
    # bad signature would be HTTP 401 (50113), counted as rejected. One last signed GET: code 0.
    request = urllib.request.Request(f"http://127.0.0.1:{proxy_port}/api/v5/account/balance")
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - http://127.0.0.1
        code = json.loads(answer.read())["code"]
    procs.stop(proxy)
    return {"requests": run["requests"], "rejected": run["errors"], "last_okx_code": code}


def top_up(load: Load, port: int, done: int, rate: float) -> int:
    """Send more requests until the target has served at least TARGET_REQUESTS."""
    while done < TARGET_REQUESTS:
        seconds = min(60.0, max(1.0, (TARGET_REQUESTS - done) / max(rate, 1.0) * 1.1))
        done += load.run(port, 16, seconds)["requests"]
    return done


def tls_scenarios(
    procs: Processes, args: argparse.Namespace, tls_port: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The seeds-style bot (new HTTPS connection per request) and the keep-warm bot."""
    ca = procs.workdir / "certs" / "ca.pem"
    relay_port, idle_relay_port = free_port(), free_port()
    relay = [servers.sys.executable, str(servers.HERE / "relay.py")]
    procs.start("relay", [*relay, str(relay_port), str(tls_port), str(args.rtt_ms)], relay_port)
    procs.start(
        "relay-idle",
        [*relay, str(idle_relay_port), str(tls_port), str(args.rtt_ms), str(args.idle_close)],
        idle_relay_port,
    )
    trust = {"SSL_CERT_FILE": str(ca)}
    started: dict[str, int] = {}
    for name, upstream_port, env in (
        ("signproxy-tls", relay_port, {}),
        # Kept below the relay's idle close, as SIGNPROXY_UPSTREAM_IDLE_TIMEOUT is meant to be.
        ("signproxy-warm", idle_relay_port, {"SIGNPROXY_UPSTREAM_IDLE_TIMEOUT": "4"}),
        (
            "signproxy-cold",
            idle_relay_port,
            {"SIGNPROXY_UPSTREAM_IDLE_TIMEOUT": "4", "SIGNPROXY_UPSTREAM_KEEP_WARM": "0"},
        ),
    ):
        port = started[name] = free_port()
        servers.start_signproxy(
            procs,
            port,
            f"https://127.0.0.1:{upstream_port}",
            name=name,
            extra_env=DEFAULTS | trust | env,
        )
    for name, upstream_port in (("bare-tls", relay_port), ("bare-warm", idle_relay_port)):
        port = started[name] = free_port()
        servers.start_bare_signer(
            procs, port, f"https://127.0.0.1:{upstream_port}", name=name, extra_env=trust
        )
    seeds = tls.compare(
        relay_port, started["signproxy-tls"], ca, args.tls_requests, started["bare-tls"]
    )
    kept = warm.compare(
        {
            "direct": f"https://127.0.0.1:{idle_relay_port}{servers.ORDER_PATH}",
            "signproxy": f"http://127.0.0.1:{started['signproxy-warm']}{servers.ORDER_PATH}",
            "signproxy, keep-warm off": (
                f"http://127.0.0.1:{started['signproxy-cold']}{servers.ORDER_PATH}"
            ),
            "bare signer": f"http://127.0.0.1:{started['bare-warm']}{servers.ORDER_PATH}",
        },
        ca,
        args.warm_orders,
        args.warm_gap,
    )
    kept_info = {"rtt_ms": args.rtt_ms, "idle_close_s": args.idle_close, "gap_s": args.warm_gap}
    return {"rtt_ms": args.rtt_ms, **seeds}, {**kept_info, "bots": kept}


def cpu_and_latency(
    procs: Processes, load: Load, args: argparse.Namespace, up_port: int
) -> dict[str, Any]:
    """The bare signer, signproxy and signproxy minus each feature: CPU, latency, memory."""
    upstream = f"http://127.0.0.1:{up_port}"
    base_env = servers.signproxy_env(SIGNPROXY_UPSTREAM=upstream)
    present, absent = features.available({**base_env, "SIGNPROXY_ALLOW_CUSTOM_UPSTREAM": "1"})
    socket_dir = Path(tempfile.mkdtemp(prefix="spb-", dir="/tmp"))
    unix_path = str(socket_dir / "signproxy.sock")
    bare_port, proxy_port = free_port(), free_port()
    bare = servers.start_bare_signer(procs, bare_port, upstream)
    proxy = servers.start_signproxy(
        procs, proxy_port, upstream, extra_env=DEFAULTS | {"SIGNPROXY_UNIX_SOCKET": unix_path}
    )
    cpu_targets = [
        Target("bare signer", bare.pid, bare_port),
        Target("signproxy", proxy.pid, proxy_port),
    ]
    variants = []
    for feature in present:
        port = free_port()
        variant = servers.start_signproxy(
            procs,
            port,
            upstream,
            name=f"off-{feature.variable}",
            extra_env=DEFAULTS | {feature.variable: feature.off},
        )
        variants.append(variant)
        cpu_targets.append(Target(f"without {feature.name}", variant.pid, port))
    if present:
        # Every feature off at once: what is left is the proxy's own floor (guard, pipeline,
        # record, upstream client), so the gap to the bare signer is split in two.
        port = free_port()
        offs = {feature.variable: feature.off for feature in present}
        variant = servers.start_signproxy(
            procs, port, upstream, name="off-all", extra_env=DEFAULTS | offs
        )
        variants.append(variant)
        cpu_targets.append(Target("with every feature above off", variant.pid, port))
    cpu_rounds(load, cpu_targets, args.rounds, args.seconds)
    for variant in variants:
        procs.stop(variant)
    latency_targets = [
        Target("direct", None, up_port),
        Target("bare signer", bare.pid, bare_port),
        Target("signproxy", proxy.pid, proxy_port),
        Target("signproxy over the Unix socket", proxy.pid, unix_path),
    ]
    latency_rounds(load, latency_targets, args.rounds, args.latency_seconds)
    served = sum(cpu_targets[1].samples["requests"]) + sum(
        sum(t.samples["requests"]) for t in latency_targets[2:]
    )
    rate = cpu_targets[1].summary("rps")["median"]
    memory = {
        "1 worker": {
            "requests": top_up(load, proxy_port, served, rate),
            "rss_mb": round(servers.rss_mb(proxy.pid), 1),
            "pss_mb": round(servers.rss_mb(proxy.pid, "Pss"), 1),
            "rps_c16": rate,
            "cpu_us": cpu_targets[1].summary("cpu_us"),
        }
    }
    procs.stop(proxy)
    if args.workers > 1:
        port = free_port()
        workers = servers.start_signproxy(
            procs,
            port,
            upstream,
            name=f"signproxy-{args.workers}w",
            # Without Redis each worker keeps its share of every budget and reads no account
            # limit of its own: the workers' figure is about throughput and memory.
            extra_env={"SIGNPROXY_WORKERS": str(args.workers), "SIGNPROXY_RATE_LIMITS": "off"},
        )
        target = Target(f"signproxy, {args.workers} workers", workers.pid, port)
        cpu_rounds(load, [target], args.rounds, args.seconds)
        rate = target.summary("rps")["median"]
        memory[f"{args.workers} workers (rate budgets off)"] = {
            "requests": top_up(load, port, sum(target.samples["requests"]), rate),
            "rss_mb": round(servers.rss_mb(workers.pid), 1),
            "pss_mb": round(servers.rss_mb(workers.pid, "Pss"), 1),
            "rps_c16": rate,
            "cpu_us": target.summary("cpu_us"),
        }
        procs.stop(workers)
    shutil.rmtree(socket_dir, ignore_errors=True)
    return {
        "cpu": summarize(cpu_targets, ("cpu_us", "rps")),
        "features": [{"name": f.name, "variable": f.variable, "off": f.off} for f in present],
        "features_absent": [f.variable for f in absent],
        "latency": summarize(latency_targets, ("p50_us", "p99_us", "added_p50_us", "added_p99_us")),
        "memory": memory,
        "bare_rss_mb": round(servers.rss_mb(bare.pid), 1),
    }


def main() -> None:
    """Run every measurement, print the report, write the JSON."""
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
        "rounds": args.rounds,
    }
    started = time.monotonic()
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
        results.update(cpu_and_latency(procs, load, args, up_port))
        results["signatures"] = verify_signatures(procs, load)
        if tls_port is not None:
            results["tls"], results["warm"] = tls_scenarios(procs, args, tls_port)
    finally:
        procs.close()
    results["duration_s"] = round(time.monotonic() - started)
    text = report(results)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "latest.md").write_text(text + "\n")
    stamp = results["when"].replace(":", "")
    (args.out / f"bench-{stamp}.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
