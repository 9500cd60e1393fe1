"""The in-process budget store: a sliding log per budget, taken all-or-none.

A sliding log remembers when each unit of a budget was taken and lets a new unit in only while
fewer than ``limit`` units were taken in the last ``window`` (plus a safety margin). So no window
of that length, wherever it starts, ever holds more than ``limit``: OKX does not say whether its
"N per 2 s" is a fixed or a sliding window, and this is safe under either reading. A token bucket
is not: it lets a full bucket and a refill through within one window.

Within one process every call runs on the event loop without awaiting, so a take is atomic. The
store is also the fallback while Redis is unreachable.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from signproxy.ratelimit.draws import Draw

_SWEEP_EVERY = 4096  # takes between sweeps of idle budgets
_MAX_WINDOW_MS = 2000  # the longest window in the table


@dataclass(frozen=True, slots=True)
class Taken:
    """The outcome of one attempt to take a request's draws.

    Attributes:
        wait_ms: 0 when every draw was taken; else how long until all of them could be
            (nothing was taken then).
        remaining: what is left of each draw's budget (after taking, when taken).
    """

    wait_ms: float
    remaining: tuple[int, ...]

    @property
    def ok(self) -> bool:
        """Every draw was taken."""
        return self.wait_ms <= 0


class _Log:
    __slots__ = ("entries", "used")

    def __init__(self) -> None:
        self.entries: deque[tuple[float, int]] = deque()  # (taken at, ms; units)
        self.used = 0

    def expire(self, horizon: float) -> None:
        entries = self.entries
        while entries and entries[0][0] <= horizon:
            self.used -= entries.popleft()[1]

    def wait_for(self, need: int, window: float, now: float) -> float:
        """How long until ``need`` more units have left the window."""
        freed = 0
        for at, units in self.entries:
            freed += units
            if freed >= need:
                return at + window - now
        return window  # unreachable while cost <= limit


class SlidingLog:
    """Budgets in this process's memory.

    ``share`` divides every limit: workers of one proxy without Redis each keep ``1/count`` of
    it (see :func:`worker_share`), so together they never exceed OKX's limit.
    """

    def __init__(
        self,
        *,
        margin_ms: float = 0.0,
        share: Callable[[int], int] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``margin_ms`` lengthens every window (network jitter); ``clock`` is in seconds."""
        self._logs: dict[str, _Log] = {}
        self._holds: dict[str, float] = {}
        self._margin = margin_ms
        self._share = share or (lambda limit: limit)
        self._clock = clock
        self._takes = 0

    def limit_of(self, draw: Draw) -> int:
        """The limit this store applies to ``draw`` (its share of OKX's)."""
        return self._share(draw.limit)

    def take(self, draws: Sequence[Draw], *, at: float | None = None) -> Taken:
        """Take every draw, or none and say how long to wait.

        ``at`` (seconds, on this log's clock) is when the request arrived, if not now.
        """
        now = (self._clock() if at is None else at) * 1000
        self._takes += 1
        if self._takes % _SWEEP_EVERY == 0:
            self.forget_idle(now)
        wait = 0.0
        remaining = []
        logs = []
        for draw in draws:
            log = self._logs.get(draw.key)
            if log is None:
                log = self._logs[draw.key] = _Log()
            window = draw.window_ms + self._margin
            log.expire(now - window)
            limit = self.limit_of(draw)
            held_until = self._holds.get(draw.key)
            if held_until is not None:
                if held_until > now:
                    wait = max(wait, held_until - now)
                else:
                    del self._holds[draw.key]
            if log.used + draw.cost > limit:
                wait = max(wait, log.wait_for(log.used + draw.cost - limit, window, now))
            remaining.append(limit - log.used)
            logs.append(log)
        if wait > 0:
            return Taken(wait, tuple(remaining))
        for index, (draw, log) in enumerate(zip(draws, logs, strict=True)):
            log.entries.append((now, draw.cost))
            log.used += draw.cost
            remaining[index] -= draw.cost
        return Taken(0.0, tuple(remaining))

    def hold(self, key: str, ms: float) -> None:
        """Let nothing through ``key`` for ``ms`` (OKX said 50011 / 50061 anyway)."""
        until = self._clock() * 1000 + ms
        self._holds[key] = max(self._holds.get(key, 0.0), until)

    def forget_idle(self, now: float) -> None:
        """Drop budgets with nothing in their window (bounded memory for many instruments)."""
        for log in self._logs.values():
            log.expire(now - _MAX_WINDOW_MS - self._margin)
        for key in [k for k, log in self._logs.items() if not log.entries]:
            if self._holds.get(key, 0.0) <= now:
                del self._logs[key]
                self._holds.pop(key, None)


def worker_share(index: int, count: int) -> Callable[[int], int]:
    """Worker ``index`` of ``count``'s share of a limit: the shares add up to the limit exactly.

    A limit smaller than the number of workers leaves some workers a share of 0: those refuse
    that endpoint (429) rather than let the workers together exceed it. Use Redis instead.
    """

    def share(limit: int) -> int:
        base, extra = divmod(limit, count)
        return base + (1 if index < extra else 0)

    return share
