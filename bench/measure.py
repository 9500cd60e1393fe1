"""Side-by-side measurements, in interleaved rounds so the machine's noise hits every target.

CPU time per request: the target's utime+stime (its workers' too) from /proc around a c=16 run,
divided by the requests it served. Latency: a c=1 run of the blocking client, p50 and p99.
Each figure is the median over the rounds; the spread (min and max) is kept as the noise.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cpu import cpu_seconds

if TYPE_CHECKING:
    from load import Load


@dataclass
class Target:
    """Something to measure: a process (for CPU) and where it listens (a port or a socket)."""

    name: str
    pid: int | None
    where: int | str
    samples: dict[str, list[float]] = field(default_factory=dict)

    def add(self, key: str, value: float) -> None:
        """Record one round's ``key``."""
        self.samples.setdefault(key, []).append(value)

    def summary(self, key: str) -> dict[str, float]:
        """Median and spread of ``key`` over the rounds."""
        values = self.samples[key]
        return {
            "median": round(statistics.median(values), 1),
            "min": round(min(values), 1),
            "max": round(max(values), 1),
            "rounds": len(values),
        }


def cpu_rounds(load: Load, targets: list[Target], rounds: int, seconds: float) -> None:
    """CPU µs per request at c=16 for every target, ``rounds`` times, round-robin."""
    for target in targets:
        load.run(target.where, 16, 1)  # warm-up: connections, caches, the first GC
    for number in range(rounds):
        # Every other round in reverse order: no target always follows the same neighbour.
        for target in targets if number % 2 == 0 else targets[::-1]:
            assert target.pid is not None
            user0, system0 = cpu_seconds(target.pid)
            run = load.run(target.where, 16, seconds)
            user1, system1 = cpu_seconds(target.pid)
            if run["errors"]:
                msg = f"{target.name}: {run['errors']} errors at c=16"
                raise RuntimeError(msg)
            target.add("cpu_us", (user1 - user0 + system1 - system0) / run["requests"] * 1e6)
            target.add("rps", run["rps"])
            target.add("requests", run["requests"])


def latency_rounds(load: Load, targets: list[Target], rounds: int, seconds: float) -> None:
    """p50 and p99 at c=1 for every target, ``rounds`` times, round-robin.

    The first target is the upstream itself (direct): each other target's added latency is
    taken against the direct run of the same round, then the median over the rounds.
    """
    for target in targets:
        load.run(target.where, 1, 0.5)  # warm-up
    direct = targets[0]
    for number in range(rounds):
        # Direct first; the others in reverse order every other round, so that no target
        # always follows the same neighbour (that alone moved a median by 5-10%).
        others = targets[1:] if number % 2 == 0 else targets[:0:-1]
        for target in [direct, *others]:
            run = load.run(target.where, 1, seconds)
            if run["errors"]:
                msg = f"{target.name}: {run['errors']} errors at c=1"
                raise RuntimeError(msg)
            target.add("p50_us", run["p50_us"])
            target.add("p99_us", run["p99_us"])
            target.add("requests", run["requests"])
        for target in targets[1:]:
            target.add("added_p50_us", target.samples["p50_us"][-1] - direct.samples["p50_us"][-1])
            target.add("added_p99_us", target.samples["p99_us"][-1] - direct.samples["p99_us"][-1])


def ratio(numerator: float, denominator: float) -> float | None:
    """Numerator / denominator to 3 places, or None when the denominator is not positive."""
    return round(numerator / denominator, 3) if denominator > 0 else None


def summarize(targets: list[Target], keys: tuple[str, ...]) -> dict[str, Any]:
    """Every target's summary for each of ``keys`` it has."""
    return {
        target.name: {key: target.summary(key) for key in keys if key in target.samples}
        for target in targets
    }
