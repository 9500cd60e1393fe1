"""Where the signing timestamp comes from.

The handler asks a :class:`Clock` for the time right before it signs, so tests (and the OKX
clock-offset correction) can supply another time without patching anything.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Gives the current time in milliseconds since the Unix epoch."""

    def now_ms(self) -> int:
        """Return the time to sign with."""
        ...


class SystemClock:
    """The local clock, uncorrected."""

    __slots__ = ()

    def now_ms(self) -> int:
        """Return the local time in milliseconds since the epoch."""
        return time.time_ns() // 1_000_000
