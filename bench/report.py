"""The benchmark's report: Markdown tables, every figure with its ratio to its reference.

docs/benchmark.md shows the tables as they are printed.
"""

from __future__ import annotations

from typing import Any

from measure import ratio

# The targets of issue 18, as (limit, the comparison that passes).
CPU_LIMIT = 1.15
P50_LIMIT = 1.0
P99_LIMIT = 1.2
WARM_LIMIT = 1.8
SEEDS_LIMIT = 3.0
RSS_LIMIT_MB = 80


def _row(cells: list[Any]) -> str:
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def _verdict(ok: bool | None) -> str:  # noqa: FBT001 - a table cell
    return "n/a" if ok is None else ("met" if ok else "**not met**")


def _cpu(results: dict[str, Any], lines: list[str]) -> dict[str, Any]:
    cpu = results["cpu"]
    bare = cpu["bare signer"]["cpu_us"]["median"]
    proxy = cpu["signproxy"]["cpu_us"]["median"]
    lines += [
        (
            f"**CPU time per request at c=16** (µs, median of {results['rounds']} interleaved"
            " rounds, min-max in brackets; each variant turns one feature off with its variable)"
        ),
        "",
        _row(["target", "µs / request", "vs bare signer", "feature's cost (µs)", "req/s"]),
        _row(["---", "---:", "---:", "---:", "---:"]),
    ]
    variables = {f"without {f['name']}": f"{f['variable']}={f['off']}" for f in results["features"]}
    for name, row in cpu.items():
        us = row["cpu_us"]
        label = f"{name} (`{variables[name]}`)" if name in variables else name
        cost = "" if name in ("bare signer", "signproxy") else f"{proxy - us['median']:.1f}"
        lines.append(
            _row(
                [
                    label,
                    f"{us['median']} [{us['min']}-{us['max']}]",
                    f"{ratio(us['median'], bare)}",
                    cost,
                    f"{row['rps']['median']:,.0f}",
                ]
            )
        )
    if results["features_absent"]:
        lines += [
            "",
            "Not measured here (no such variable in this checkout, or it does not take the value"
            " that turns the feature off: the feature is not on by default): "
            + ", ".join(f"`{name}`" for name in results["features_absent"]),
        ]
    lines.append("")
    return {"cpu_vs_bare": ratio(proxy, bare)}


def _latency(results: dict[str, Any], lines: list[str]) -> dict[str, Any]:
    latency = results["latency"]
    bare = latency["bare signer"]
    lines += [
        (
            "**Latency at c=1** (µs; one keep-alive connection, blocking client; medians of the"
            " rounds; added = target minus direct in the same round)"
        ),
        "",
        _row(
            [
                "target",
                "p50",
                "p99",
                "added p50",
                "added p99",
                "added p50 vs bare's",
                "added p99 vs bare's",
            ]
        ),
        _row(["---", "---:", "---:", "---:", "---:", "---:", "---:"]),
    ]
    for name, row in latency.items():
        added = [
            row[key]["median"] if key in row else "" for key in ("added_p50_us", "added_p99_us")
        ]
        vs = ["", ""]
        if "added_p50_us" in row and name != "bare signer":
            vs = [
                ratio(row["added_p50_us"]["median"], bare["added_p50_us"]["median"]),
                ratio(row["added_p99_us"]["median"], bare["added_p99_us"]["median"]),
            ]
        lines.append(
            _row(
                [
                    name,
                    f"{row['p50_us']['median']} [{row['p50_us']['min']}-{row['p50_us']['max']}]",
                    f"{row['p99_us']['median']} [{row['p99_us']['min']}-{row['p99_us']['max']}]",
                    *added,
                    *vs,
                ]
            )
        )
    tcp, unix = latency["signproxy"], latency["signproxy over the Unix socket"]
    out = {
        "added_p50_vs_bare": ratio(tcp["added_p50_us"]["median"], bare["added_p50_us"]["median"]),
        "added_p99_vs_bare": ratio(tcp["added_p99_us"]["median"], bare["added_p99_us"]["median"]),
        "unix_p50_vs_tcp": ratio(unix["p50_us"]["median"], tcp["p50_us"]["median"]),
        "unix_p99_vs_tcp": ratio(unix["p99_us"]["median"], tcp["p99_us"]["median"]),
    }
    lines += [
        "",
        (
            "Over the Unix socket vs TCP loopback, both through signproxy:"
            f" p50 x{out['unix_p50_vs_tcp']}, p99 x{out['unix_p99_vs_tcp']}."
        ),
        "",
    ]
    return out


def _memory(results: dict[str, Any], lines: list[str]) -> dict[str, Any]:
    lines += [
        (
            "**Workers, throughput and memory** (RSS after at least 100,000 requests; with workers,"
            " the sum of the parent and its workers)"
        ),
        "",
        _row(["signproxy", "req/s c=16", "CPU µs / request", "RSS (MB)", "PSS (MB)", "requests"]),
        _row(["---", "---:", "---:", "---:", "---:", "---:"]),
    ]
    for name, row in results["memory"].items():
        lines.append(
            _row(
                [
                    name,
                    f"{row['rps_c16']:,.0f}",
                    row["cpu_us"]["median"],
                    row["rss_mb"],
                    row.get("pss_mb", ""),
                    f"{row['requests']:,}",
                ]
            )
        )
    lines += ["", f"Bare signer's RSS at the end: {results['bare_rss_mb']} MB.", ""]
    return {"rss_mb_1_worker": results["memory"]["1 worker"]["rss_mb"]}


def _scenarios(results: dict[str, Any], lines: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    seeds = results.get("tls")
    if seeds:
        lines += [
            (
                f"**Seeds-style bot** (`requests.post` without a session: a new connection per"
                f" request; upstream TLS behind {seeds['rtt_ms']} ms of round trip;"
                f" {seeds['direct']['requests']} requests each)"
            ),
            "",
            _row(["path", "mean (ms)", "p50 (ms)", "p99 (ms)", "failures", "direct / this"]),
            _row(["---", "---:", "---:", "---:", "---:", "---:"]),
        ]
        for name in ("direct", "signproxy", "bare signer"):
            if name in seeds:
                run = seeds[name]
                lines.append(
                    _row(
                        [
                            name,
                            run["mean_ms"],
                            run["p50_ms"],
                            run["p99_ms"],
                            run["failures"],
                            ratio(seeds["direct"]["mean_ms"], run["mean_ms"]),
                        ]
                    )
                )
        out["seeds_speedup"] = ratio(seeds["direct"]["mean_ms"], seeds["signproxy"]["mean_ms"])
        lines.append("")
    kept = results.get("warm")
    if kept:
        bots = kept["bots"]
        lines += [
            (
                f"**Keep-alive bot, one order every {kept['gap_s']:g} s** (upstream TLS behind"
                f" {kept['rtt_ms']} ms of round trip, connections idle for"
                f" {kept['idle_close_s']:g} s closed; {bots['direct']['orders']} orders each, the"
                " bots run at once, staggered)"
            ),
            "",
            _row(["path", "mean (ms)", "median (ms)", "max (ms)", "direct / this"]),
            _row(["---", "---:", "---:", "---:", "---:"]),
        ]
        for name, run in bots.items():
            lines.append(
                _row(
                    [
                        name,
                        run["mean_ms"],
                        run["median_ms"],
                        run["max_ms"],
                        ratio(bots["direct"]["mean_ms"], run["mean_ms"]),
                    ]
                )
            )
        out["warm_speedup"] = ratio(bots["direct"]["mean_ms"], bots["signproxy"]["mean_ms"])
        lines.append("")
    return out


def report(results: dict[str, Any]) -> str:
    """Render the results; the targets' verdicts come last (and go into ``results``)."""
    lines = [
        (
            f"{results['when']}: {results['machine']}, Python {results['python']}, upstream"
            f" {results['upstream']}, c=16 load from {results['load']}, c=1 from a blocking Python"
            f" client; {results.get('duration_s', '?')} s in all"
        ),
        "",
    ]
    figures = {}
    figures.update(_cpu(results, lines))
    figures.update(_latency(results, lines))
    figures.update(_memory(results, lines))
    figures.update(_scenarios(results, lines))
    signatures = results.get("signatures")
    if signatures:
        lines += [
            (
                f"Signatures: {signatures['requests']:,} requests through signproxy to the"
                f" verifying emulator, {signatures['rejected']} rejected (last OKX code"
                f" {signatures['last_okx_code']!r})."
            ),
            "",
        ]
    checks = [
        ("CPU per request vs bare signer", figures.get("cpu_vs_bare"), f"<= {CPU_LIMIT}",
         lambda v: v <= CPU_LIMIT),
        ("added p50 at c=1 vs bare signer's", figures.get("added_p50_vs_bare"), f"<= {P50_LIMIT}",
         lambda v: v <= P50_LIMIT),
        ("added p99 at c=1 vs bare signer's", figures.get("added_p99_vs_bare"), f"<= {P99_LIMIT}",
         lambda v: v <= P99_LIMIT),
        ("Unix socket p50 vs TCP loopback", figures.get("unix_p50_vs_tcp"), "report", None),
        ("keep-alive bot: direct / signproxy", figures.get("warm_speedup"), f">= {WARM_LIMIT}",
         lambda v: v >= WARM_LIMIT),
        ("seeds-style bot: direct / signproxy", figures.get("seeds_speedup"), f">= {SEEDS_LIMIT}",
         lambda v: v >= SEEDS_LIMIT),
        ("RSS after 100,000 requests, 1 worker (MB)", figures.get("rss_mb_1_worker"),
         f"<= {RSS_LIMIT_MB}", lambda v: v <= RSS_LIMIT_MB),
    ]  # fmt: skip
    lines += ["**Targets**", "", _row(["figure", "value", "target", ""]),
              _row(["---", "---:", "---", "---"])]  # fmt: skip
    verdicts = {}
    for name, value, target, passes in checks:
        ok = None if value is None or passes is None else passes(value)
        verdicts[name] = {"value": value, "target": target, "met": ok}
        lines.append(_row([name, value, target, _verdict(ok) if passes else ""]))
    results["figures"] = verdicts
    return "\n".join(lines)
