"""Keeping time with OKX: the clock the proxy signs with.

OKX refuses a request whose ``OK-ACCESS-TIMESTAMP`` is more than 30 s from its own clock (50102),
and a container on a laptop that slept can easily be minutes off. :class:`OkxClock` measures the
offset to OKX with the unsigned ``GET /api/v5/public/time`` (at startup, every
``SIGNPROXY_CLOCK_SYNC_INTERVAL`` seconds, and soon after a 50102) and signs with the local clock
plus that offset.

Each measurement takes a few samples and keeps the one with the smallest round trip, taking the
server's timestamp to be the midpoint of send and receive. Measurements are at least
``MIN_GAP_S`` apart whatever triggers them, and every sample is a single attempt (no retry of
the proxy's own) run in one of this worker's slots (:mod:`.time_slots`), so all workers
together stay under the endpoint's limit (10 requests / 2 s per IP) even when OKX fails.

While the clock cannot be measured, requests are still signed: with the last measured offset,
or the local clock before any. If that is more than 30 s off, OKX refuses them with 50102
(nothing is placed) and each 50102 asks for a new measurement.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import TYPE_CHECKING

import structlog

from signproxy.errors import UpstreamError
from signproxy.tasks import cancel_and_wait
from signproxy.upstream.time_slots import TimeSlots

if TYPE_CHECKING:
    from signproxy.upstream.client import Upstream

TIME_PATH = "/api/v5/public/time"
SAMPLES = 2  # both fit in one slot (time_slots.PER_SLOT)
SAMPLE_GAP_S = 0.2
MIN_GAP_S = 5.0
RETRY_AFTER_FAILURE_S = 15.0
# Startup waits this long at most for the first measurement before serving anyway.
STARTUP_BUDGET_S = 5.0
LARGE_OFFSET_MS = 1000
_REPORTED_CHANGE_MS = 250
# A sample that failed: OKX unreachable or odd, its slot over (TimeoutError), a malformed answer.
_SAMPLE_FAILURES = (UpstreamError, TimeoutError, ValueError, KeyError, IndexError, TypeError)


def _wall_ms() -> float:
    return time.time_ns() / 1_000_000


class OkxClock:
    """The local clock corrected by the last measured offset to OKX's clock.

    Attributes (read by health and metrics code):
        offset_ms: OKX's time minus local time, as last measured (0 until measured).
        measured: whether ``offset_ms`` comes from a successful measurement.
        rtt_ms: round trip of the sample the offset was taken from, or None.
    """

    def __init__(
        self, upstream: Upstream, *, interval: float, slots: TimeSlots | None = None
    ) -> None:
        """Measure through ``upstream`` every ``interval`` seconds (0: never; local clock).

        ``slots`` is the process's share of the time endpoint (shared with the ready probe).
        """
        self._upstream = upstream
        self._slots = slots or TimeSlots()
        self._interval = interval
        self.offset_ms = 0
        self.measured = False
        self.rtt_ms: float | None = None
        self._last_attempt = -MIN_GAP_S
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._log = structlog.get_logger("signproxy")

    def now_ms(self) -> int:
        """Return the time to sign with: local time plus the measured offset."""
        return time.time_ns() // 1_000_000 + self.offset_ms

    def timestamp_rejected(self) -> None:
        """OKX answered 50102 (timestamp expired): measure again soon (debounced)."""
        if self._interval > 0:
            self._wake.set()

    async def start(self) -> None:
        """Take the first measurement (bounded by ``STARTUP_BUDGET_S``), then keep measuring."""
        if self._interval <= 0:
            return
        try:
            async with asyncio.timeout(STARTUP_BUDGET_S):
                await self.measure()
        except TimeoutError:
            self._log.warning("signproxy.clock_unmeasured", reason="timeout", using="local clock")
        self._task = asyncio.create_task(self._run(), name="signproxy.clock_sync")

    async def stop(self) -> None:
        """Stop measuring."""
        await cancel_and_wait(self._task)
        self._task = None

    async def measure(self) -> bool:
        """Measure the offset now; on failure keep the previous one. Returns success."""
        self._last_attempt = time.monotonic()
        best: tuple[float, float] | None = None  # (rtt_ms, offset_ms)
        problem = "no sample"
        for index in range(SAMPLES):
            if index:
                await asyncio.sleep(SAMPLE_GAP_S)
            try:
                sample = await self._sample()
            except (
                UpstreamError,
                ValueError,
                KeyError,
                IndexError,
                TypeError,
                TimeoutError,
            ) as exc:
                problem = getattr(exc, "code", None) or type(exc).__name__
                continue
            if best is None or sample[0] < best[0]:
                best = sample
        if best is None:
            self._log.warning(
                "signproxy.clock_unmeasured",
                reason=problem,
                using="last offset" if self.measured else "local clock",
                offset_ms=self.offset_ms,
            )
            return False
        self._record(round(best[1]), best[0])
        return True

    def _record(self, offset_ms: int, rtt_ms: float) -> None:
        change = abs(offset_ms - self.offset_ms)
        first = not self.measured
        self.offset_ms, self.rtt_ms, self.measured = offset_ms, round(rtt_ms, 3), True
        if abs(offset_ms) >= LARGE_OFFSET_MS:
            self._log.warning(
                "signproxy.clock_offset_large", offset_ms=offset_ms, rtt_ms=self.rtt_ms
            )
        elif first or change >= _REPORTED_CHANGE_MS:
            self._log.info("signproxy.clock_synced", offset_ms=offset_ms, rtt_ms=self.rtt_ms)
        else:
            self._log.debug("signproxy.clock_synced", offset_ms=offset_ms, rtt_ms=self.rtt_ms)

    async def _sample(self) -> tuple[float, float]:
        return await self._slots.run(self._sample_now)

    async def _sample_now(self) -> tuple[float, float]:
        sent_wall = _wall_ms()
        sent = time.perf_counter()
        answer = await self._upstream.send(
            "GET", TIME_PATH, {"Accept": "application/json"}, b"", retries=0
        )
        rtt_ms = (time.perf_counter() - sent) * 1000
        if answer.status != 200:  # noqa: PLR2004
            raise ValueError(answer.status)
        server_ms = int(json.loads(answer.body)["data"][0]["ts"])
        return rtt_ms, server_ms - (sent_wall + rtt_ms / 2)

    async def _run(self) -> None:
        while True:
            wait = self._interval if self.measured else min(self._interval, RETRY_AFTER_FAILURE_S)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)
            # Debounce: however many 50102s arrive, measure at most once per MIN_GAP_S.
            await asyncio.sleep(max(0.0, self._last_attempt + MIN_GAP_S - time.monotonic()))
            self._wake.clear()
            await self.measure()
