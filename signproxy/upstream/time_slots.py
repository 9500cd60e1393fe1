"""Sharing OKX's limit on ``GET /api/v5/public/time`` (10 requests / 2 s per IP) among workers.

The clock measurement and the readiness probe both ask OKX's time; with several workers on one
host they share one IP, and each attempt can be two requests (aiohttp resends a GET once when a
kept-alive connection turns out to be closed). So every such attempt waits for a slot:

- time is cut into slots of :data:`SLOT_S` seconds, aligned on the wall clock, which all the
  workers of a host share; worker ``i`` of ``n`` owns the slots whose number is ``i`` mod ``n``;
- in its own slot a worker starts at most :data:`PER_SLOT` attempts, none with a retry of the
  proxy's own, and each is cut off (cancelled) before the slot ends.

A slot thus holds at most 2 x 2 = 4 requests, and any 2 s window touches at most two slots:
at most 8 requests in any 2 s for the whole proxy, under OKX's 10. (A step of the wall clock
during an attempt can shift one slot; the bound then holds for every window not spanning it.)
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

T = TypeVar("T")

SLOT_S = 2.0
PER_SLOT = 2
MIN_LEFT_S = 0.5  # an attempt starts only with this much of its slot left
_END_MARGIN_S = 0.05


class TimeSlots:
    """Runs attempts on OKX's time endpoint only inside this worker's own slots."""

    def __init__(
        self, index: int = 0, count: int = 1, *, wall: Callable[[], float] = time.time
    ) -> None:
        """Worker ``index`` of ``count`` (0 of 1 without workers); ``wall`` is injectable."""
        self._index = index
        self._count = count
        self._wall = wall
        self._slot = -1
        self._used = 0

    async def run(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """Wait for a free place in an own slot, then run ``attempt`` until the slot ends.

        Raises:
            TimeoutError: the attempt did not finish inside its slot (it was cancelled).
        """
        while True:
            now = self._wall()
            slot = math.floor(now / SLOT_S)
            end = (slot + 1) * SLOT_S
            if slot != self._slot:
                self._slot, self._used = slot, 0
            if (
                slot % self._count == self._index
                and self._used < PER_SLOT
                and end - now > MIN_LEFT_S
            ):
                self._used += 1
                async with asyncio.timeout(end - now - _END_MARGIN_S):
                    return await attempt()
            ahead = (self._index - slot - 1) % self._count  # own slots after this one
            await asyncio.sleep((slot + 1 + ahead) * SLOT_S - now + 0.001)
