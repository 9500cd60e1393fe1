"""Readiness: a registry of named checks, and the upstream check's memory of the last exchange.

A check is any callable returning ``(ok, detail)``; it must be cheap and must not do I/O, since
orchestrators ask every few seconds. Other parts of the proxy plug theirs in by name::

    app[READINESS].add("clock", lambda: (True, "offset -12 ms, measured 4 s ago"))

Adding a check under an existing name replaces it (that is how the real clock check replaces
the default :func:`local_clock`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from aiohttp import web

from signproxy.errors import ErrorKind

if TYPE_CHECKING:
    from collections.abc import Callable

    from signproxy.proxy.record import Exchange as ProxyExchange

CheckResult = tuple[bool, str]


class ReadinessCheck(Protocol):
    """Answers whether one part of the proxy is ready, and says why in a short detail."""

    def __call__(self) -> CheckResult:
        """Return ``(ok, detail)``; never raise (if it does, the check counts as not ready)."""
        ...


class Readiness:
    """The named checks behind ``/-/ready``; ready when every one of them is."""

    def __init__(self) -> None:
        """Start with no checks."""
        self._checks: dict[str, ReadinessCheck] = {}

    def add(self, name: str, check: ReadinessCheck) -> None:
        """Register ``check`` under ``name``, replacing any check of that name."""
        self._checks[name] = check

    def evaluate(self) -> tuple[bool, dict[str, CheckResult]]:
        """Run every check; returns whether all passed, and each one's result by name."""
        results: dict[str, CheckResult] = {}
        for name, check in self._checks.items():
            try:
                results[name] = check()
            except Exception as exc:  # noqa: BLE001 - a broken check means "not ready", not a 500
                results[name] = (False, f"check failed: {type(exc).__name__}")
        return all(ok for ok, _ in results.values()), results

    def is_ready(self) -> bool:
        """Whether every check passes."""
        return self.evaluate()[0]


READINESS = web.AppKey("signproxy.readiness", Readiness)


def configuration_loaded(warnings: int) -> ReadinessCheck:
    """The settings were parsed and validated (the app could not exist otherwise)."""
    detail = "loaded" + (f" with {warnings} warning(s) in the log" if warnings else "")

    def check() -> CheckResult:
        return True, detail

    return check


def local_clock() -> CheckResult:
    """The default clock check: signing uses the local clock, uncorrected (the fallback)."""
    return True, "local clock in use (no OKX offset measured)"


class SyncedClock(Protocol):
    """A clock kept in step with OKX (see :class:`signproxy.upstream.okx_clock.OkxClock`)."""

    offset_ms: int
    measured: bool


def clock_check(clock: SyncedClock) -> ReadinessCheck:
    """Check the clock: ready once serving, measured or on the local-clock fallback.

    The first measurement is attempted, bounded, before the proxy listens, so by the time this
    runs either the offset is known or the fallback is in force.
    """

    def check() -> CheckResult:
        if clock.measured:
            return True, f"offset to OKX {clock.offset_ms} ms (measured)"
        return (
            True,
            "local clock in use (offset to OKX not measured; see signproxy.clock_unmeasured)",
        )

    return check


@dataclass(frozen=True, slots=True)
class Exchange:
    """The outcome of one exchange with OKX."""

    ok: bool
    detail: str
    at: float  # time.monotonic()


class UpstreamHealth:
    """Remembers the outcome of the last exchange with OKX (a proxied request or a probe)."""

    __slots__ = ("_now", "last")

    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        """Start with nothing known; ``now`` is a monotonic clock in seconds."""
        self._now = now
        self.last: Exchange | None = None

    def record(self, *, ok: bool, detail: str) -> Exchange:
        """Remember an exchange's outcome, and return it."""
        self.last = Exchange(ok, detail, self._now())
        return self.last

    def record_answer(self, status: int) -> Exchange:
        """OKX answered ``status``: reachable, unless it is a server error (e.g. maintenance)."""
        return self.record(ok=status < 500, detail=f"OKX answered HTTP {status}")  # noqa: PLR2004

    def observe(self, exchange: ProxyExchange) -> None:
        """Learn from a finished request: an upstream error, or an answer from OKX."""
        error = exchange.error
        if error is not None and error.kind is ErrorKind.UPSTREAM:
            self.record(ok=False, detail=f"{error.code}: {error.message}")
        elif exchange.upstream_ms is not None:
            self.record_answer(exchange.status or 0)

    def age(self) -> float | None:
        """Seconds since the last exchange, or None if there was none."""
        return None if self.last is None else self._now() - self.last.at

    def check(self) -> CheckResult:
        """The readiness check: was OKX reachable at the last exchange?"""
        last = self.last
        if last is None:
            return False, "not checked yet"
        return last.ok, f"{last.detail} {self._now() - last.at:.0f} s ago"
