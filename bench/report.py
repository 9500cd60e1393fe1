"""The benchmark's table (Markdown, so docs/benchmark.md can show it as it is) and its ratios."""

from __future__ import annotations

from typing import Any


def ratios(targets: dict[str, Any], name: str) -> dict[str, Any]:
    """Compare a signproxy run with direct and nginx: added latency, throughput shares."""
    proxy, direct = targets[name], targets["direct"]
    out: dict[str, Any] = {
        "added_p50_us": round(proxy["c1"]["p50_us"] - direct["c1"]["p50_us"], 1),
        "added_p99_us": round(proxy["c1"]["p99_us"] - direct["c1"]["p99_us"], 1),
        "rps_vs_direct": round(proxy["c16"]["rps"] / direct["c16"]["rps"], 3),
    }
    if "nginx" in targets:
        nginx = targets["nginx"]
        out["added_p50_us_vs_nginx"] = round(proxy["c1"]["p50_us"] - nginx["c1"]["p50_us"], 1)
        out["rps_vs_nginx"] = round(proxy["c16"]["rps"] / nginx["c16"]["rps"], 3)
    return out


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def table(results: dict[str, Any]) -> str:
    """Render every measurement as a Markdown table, with the ratios below it."""
    targets = results["targets"]
    lines = [
        (
            f"{results['when']}: {results['machine']}, Python {results['python']},"
            f" upstream {results['upstream']}, c=16 load from {results['load']},"
            " c=1 latency from a blocking Python client"
        ),
        "",
        _row(["", "p50 c=1 (µs)", "p99 c=1 (µs)", "req/s c=16", "RSS (MB)", "errors"]),
        _row(["---", "---:", "---:", "---:", "---:", "---:"]),
    ]
    for name, run in targets.items():
        rss = f"{run['rss_mb']} after {run['requests_served']:,} req" if "rss_mb" in run else ""
        lines.append(
            _row(
                [
                    name,
                    f"{run['c1']['p50_us']}",
                    f"{run['c1']['p99_us']}",
                    f"{run['c16']['rps']:,.0f}",
                    rss,
                    f"{run['c1']['errors'] + run['c16']['errors']}",
                ]
            )
        )
    lines.append("")
    for name in targets:
        if name.startswith("signproxy"):
            ratio = ratios(targets, name)
            results.setdefault("ratios", {})[name] = ratio
            text = ", ".join(f"{key} {value}" for key, value in ratio.items())
            lines.append(f"- {name}: {text}")
    signatures = results.get("signatures")
    if signatures:
        lines.append(
            f"- signatures: {signatures['requests']:,} requests through signproxy to the"
            f" verifying emulator, {signatures['rejected']} rejected"
            f" (last OKX code {signatures['last_okx_code']!r})"
        )
    scenario = results.get("tls")
    if scenario:
        direct, proxied = scenario["direct"], scenario["signproxy"]
        lines += [
            "",
            (
                "TLS scenario: requests.post without a session, upstream over TLS with"
                f" {scenario['rtt_ms']} ms round trip, {direct['requests']} requests each"
            ),
            "",
            _row(["", "mean (ms)", "p50 (ms)", "p99 (ms)", "failures"]),
            _row(["---", "---:", "---:", "---:", "---:"]),
        ]
        for name, run in (("direct (HTTPS)", direct), ("through signproxy", proxied)):
            lines.append(
                _row(
                    [
                        name,
                        str(run["mean_ms"]),
                        str(run["p50_ms"]),
                        str(run["p99_ms"]),
                        str(run["failures"]),
                    ]
                )
            )
        lines += ["", f"- through signproxy: {scenario['speedup']}x faster per request"]
    return "\n".join(lines)
