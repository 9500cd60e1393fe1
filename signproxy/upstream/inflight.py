"""Upstream exchanges in flight: they outlive a client that goes away, and shutdown waits for them.

Once a request is on its way to OKX, its fate no longer depends on the client. The proxy's server
never cancels a handler whose client left (aiohttp's ``handler_cancellation=False``, see
:mod:`signproxy.runtime.serve`), so each exchange runs inline in its handler's own task and
finishes, and its outcome is written by the same observer as every other request's.

On shutdown :meth:`InFlight.drain` waits for every exchange up to the grace period; whatever is
still waiting for OKX then is cut off: its task is cancelled, the cancellation becomes
``SPX310`` for the client (outcome unknown for anything but GET), and the cut is logged.
A handler cancelled by anything else (the server's final shutdown) is logged as cut off too.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any, Protocol

import structlog

from signproxy.errors import UpstreamCutOff

if TYPE_CHECKING:
    from collections.abc import Coroutine

    from signproxy.upstream.client import UpstreamResponse


class Tracked(Protocol):
    """What the registry needs to know of an exchange to log it if it is cut off."""

    request_id: str
    method: str
    raw_path: str
    path: str | None


class InFlight:
    """The upstream exchanges now running, each in its handler's task."""

    def __init__(self) -> None:
        """Start with none."""
        self._tasks: dict[asyncio.Task[Any], tuple[Tracked, float]] = {}
        self._cut: set[asyncio.Task[Any]] = set()  # tasks drain() has cancelled
        self._log = structlog.get_logger("signproxy")

    def __len__(self) -> int:
        """The number of exchanges still waiting for OKX."""
        return len(self._tasks)

    async def send(
        self, exchange: Coroutine[Any, Any, UpstreamResponse], record: Tracked
    ) -> UpstreamResponse:
        """Await ``exchange`` (an upstream send) in the current task, registered for drain().

        Raises:
            UpstreamError: the exchange failed, or was cut off by shutdown (``UpstreamCutOff``).
            asyncio.CancelledError: cancelled by something other than drain(); logged.
        """
        current = asyncio.current_task()
        if current is None:  # pragma: no cover - send() is always awaited inside a task
            exchange.close()
            msg = "InFlight.send() needs a running task"
            raise RuntimeError(msg)
        started = time.perf_counter()
        self._tasks[current] = (record, started)
        try:
            return await exchange
        except asyncio.CancelledError:
            if current in self._cut:  # drain() cut it off and logged it
                self._cut.discard(current)
                if current.uncancel():  # cancelled for another reason too: that one wins
                    raise
                raise UpstreamCutOff(
                    "signproxy shut down before OKX answered",
                    outcome_unknown=record.method != "GET",
                ) from None
            self._log_cut(record, started)
            raise
        finally:
            self._tasks.pop(current, None)

    async def drain(self, grace: float) -> int:
        """Wait up to ``grace`` seconds for every exchange; cut off the rest. Returns the cut."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        while self._tasks and (left := deadline - loop.time()) > 0:
            await asyncio.wait(list(self._tasks), timeout=left)
        cut = list(self._tasks.items())
        for task, (record, started) in cut:
            self._log_cut(record, started)
            self._cut.add(task)
            task.cancel()
        if cut:
            await asyncio.wait([task for task, _ in cut], timeout=1.0)
        return len(cut)

    def _log_cut(self, record: Tracked, started: float) -> None:
        self._log.warning(
            "signproxy.cut_off",
            request_id=record.request_id,
            method=record.method,
            path=record.path or record.raw_path[:200],
            waited_ms=round((time.perf_counter() - started) * 1000, 3),
            outcome_unknown=record.method != "GET",
        )
