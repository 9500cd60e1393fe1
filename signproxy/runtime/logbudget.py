"""A per-second budget for log lines that clients cause, with a summary of what was dropped.

A client can make the proxy log: every refusal has its canonical line, every malformed request
one from aiohttp, every dropped connection one. Left unbounded, one local process could fill
the disk with lines that say the same thing. Each kind of line gets at most
:data:`LINES_PER_SECOND` per second; the rest are counted, and one
``signproxy.log_suppressed`` line (kind, count) says how many were dropped in that second.
Metrics still count every event: only the log is thinned.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import structlog

if TYPE_CHECKING:
    from collections.abc import Callable

LINES_PER_SECOND = 20


class LogBudget:
    """Admits at most ``per_second`` lines of each kind per second; counts the rest."""

    def __init__(
        self, per_second: int = LINES_PER_SECOND, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """Start with full budgets; ``clock`` is injectable for tests."""
        self._per_second = per_second
        self._clock = clock
        # kind -> [second the window started, lines admitted, lines suppressed]
        self._windows: dict[str, list[float]] = {}

    def reset(self) -> None:
        """Forget every window (a fresh log configuration starts with full budgets)."""
        self._windows.clear()

    def admit(self, kind: str) -> bool:
        """True when a line of ``kind`` may be written now; False counts it as suppressed."""
        now = self._clock()
        window = self._windows.get(kind)
        if window is None or now - window[0] >= 1.0:
            if window is not None and window[2]:
                self._summarize(kind, int(window[2]))
            self._windows[kind] = [now, 1, 0]
            return True
        if window[1] < self._per_second:
            window[1] += 1
            return True
        if not window[2]:
            self._flush_later(kind)
        window[2] += 1
        return False

    def _flush_later(self, kind: str) -> None:
        # The summary must come even if the flood stops: written a second later at the latest.
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        loop.call_later(1.0, self._flush, kind)

    def _flush(self, kind: str) -> None:
        window = self._windows.get(kind)
        if window is not None and window[2] and self._clock() - window[0] >= 1.0:
            self._summarize(kind, int(window[2]))
            window[2] = 0

    @staticmethod
    def _summarize(kind: str, suppressed: int) -> None:
        structlog.get_logger("signproxy").warning(
            "signproxy.log_suppressed",
            kind=kind,
            suppressed=suppressed,
            per_second=LINES_PER_SECOND,
        )


# One budget per process: the middleware's refusal lines, aiohttp's malformed-request lines
# (see logs.py) and the connection gate's lines.
CLIENT_FAULTS = LogBudget()
