"""Requests waiting for room in a budget take turns, in arrival order, within one process.

Without turns, every waiting request would wake when room comes and ask the store at once: a
herd of store calls (Redis round trips) for each unit freed, the winners chosen by chance, and
the one that wins delayed behind the others' calls. With turns, only the first in line asks;
when it leaves (with its unit, refused, or past its wait) the next one asks at once. A burst of
freed units is handed out one store call apart, first come first served.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


class WaitingRoom:
    """One line per budget key; :meth:`turn` waits until the caller is first in its line."""

    def __init__(self) -> None:
        """Start with no one waiting."""
        self._lines: dict[str, deque[asyncio.Future[None]]] = {}

    def waiting(self, key: str) -> int:
        """How many requests are in ``key``'s line (the one whose turn it is included)."""
        line = self._lines.get(key)
        return 0 if line is None else len(line)

    @contextlib.asynccontextmanager
    async def turn(self, key: str, within: float) -> AsyncIterator[None]:
        """Wait (at most ``within`` seconds) until first in ``key``'s line, then hold the turn.

        Raises:
            TimeoutError: the turn did not come in time (the caller left the line).
        """
        line = self._lines.setdefault(key, deque())
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        line.append(mine)
        if line[0] is mine:
            mine.set_result(None)
        try:
            await asyncio.wait_for(mine, max(within, 0.0))
            yield
        finally:
            with contextlib.suppress(ValueError):
                line.remove(mine)
            if line:
                first = line[0]
                if not first.done():
                    first.set_result(None)
            elif self._lines.get(key) is line:
                del self._lines[key]
