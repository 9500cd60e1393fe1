"""Connections kept warm: the first order after a quiet minute must not pay for a handshake.

A new connection to OKX costs a TCP and a TLS handshake (two or three round trips) before the
order's own round trip. Servers close keep-alive connections left idle, and the proxy's pool
drops its own after ``SIGNPROXY_UPSTREAM_IDLE_TIMEOUT``; a bot that trades once a minute would
pay the handshakes on every order. :class:`Warmer` keeps at least one pooled connection per
upstream host open and usable:

- at start it opens one to every account's host;
- every ``idle_timeout / 2`` seconds it sends ``GET /api/v5/public/time`` (unsigned, cheap)
  to each host, so the pooled connection is never idle long enough to be closed by either side;
  like the clock's, these requests wait for this worker's slot (:mod:`.time_slots`), so all of
  them together stay under OKX's 10 requests / 2 s per IP;
- it watches the connection its last request used; when the server closes it (its own idle
  timeout, a request limit, a deploy), it sends one at once, which opens a new one in the
  background, at most once per ``MIN_GAP_S`` per host.

The requests are the proxy's own, never a client's: nothing a bot sent is ever sent again. They
go through the same session and pool as the orders, which is what makes them useful.
"""

from __future__ import annotations

import asyncio
import math
from typing import TYPE_CHECKING

import aiohttp
import structlog
from yarl import URL

from signproxy.tasks import cancel_and_wait
from signproxy.upstream.okx_clock import TIME_PATH
from signproxy.upstream.time_slots import TimeSlots

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from signproxy.upstream.client import Upstream

# How often the watched connection is looked at (a flag read, no I/O).
WATCH_S = 0.5
# A host is touched at most this often, however often its connections close.
MIN_GAP_S = 1.0


class Warmer:
    """Keeps one pooled connection per upstream host alive; see the module docstring."""

    def __init__(
        self,
        upstream: Upstream,
        hosts: Callable[[], Iterable[str]],
        *,
        idle_timeout: float,
        opened_elsewhere: Iterable[str] = (),
        slots: TimeSlots | None = None,
    ) -> None:
        """Warm the base URLs ``hosts()`` returns (read each round: a reload may change them).

        ``opened_elsewhere`` are hosts another part of the proxy has just connected to (the
        clock's first measurement): their first request waits a period, so that a start with
        many workers does not add one more ``/public/time`` each to the clock's samples.
        ``slots`` are this worker's share of OKX's limit on the time endpoint, shared with the
        clock and the readiness probe (:mod:`signproxy.upstream.time_slots`).
        """
        self._upstream = upstream
        self._hosts = hosts
        self._period = idle_timeout / 2
        self._timeout = aiohttp.ClientTimeout(total=max(self._period, MIN_GAP_S))
        self._watched: dict[str, asyncio.BaseTransport | None] = {}
        self._last: dict[str, float] = {}
        self._failing: set[str] = set()
        self._opened_elsewhere = frozenset(opened_elsewhere)
        self._slots = slots or TimeSlots()
        self._task: asyncio.Task[None] | None = None
        self._log = structlog.get_logger("signproxy")
        self.touches = 0  # requests sent, for tests and curiosity

    async def start(self) -> None:
        """Start warming in the background (the first connections open right away)."""
        now = asyncio.get_running_loop().time()
        for host in self._opened_elsewhere:
            self._last[host] = now  # not watched yet: not taken for closed before a period
        self._task = asyncio.create_task(self._run(), name="signproxy.keep_warm")

    async def stop(self) -> None:
        """Stop warming."""
        await cancel_and_wait(self._task)
        self._task = None

    def _due(self, host: str, now: float) -> bool:
        since = now - self._last.get(host, -math.inf)
        if since >= self._period:
            return True
        if host not in self._watched:  # opened elsewhere, not touched yet: wait for the period
            return False
        transport = self._watched[host]
        closed = transport is None or transport.is_closing()
        return closed and since >= MIN_GAP_S

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            due = [host for host in dict.fromkeys(self._hosts()) if self._due(host, now)]
            for host in due:
                self._last[host] = now
            if due:
                await asyncio.gather(*(self._touch(host) for host in due))
            await asyncio.sleep(WATCH_S)

    async def _touch(self, host: str) -> None:
        self.touches += 1
        try:
            transport = await self._slots.run(lambda: self._request(host))
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            self._watched[host] = None
            if host not in self._failing:  # once per episode: the clock and requests say more
                self._failing.add(host)
                self._log.info("signproxy.keep_warm_failed", host=host, error=type(exc).__name__)
            return
        self._watched[host] = transport
        self._failing.discard(host)

    async def _request(self, host: str) -> asyncio.BaseTransport | None:
        url = URL(host + TIME_PATH, encoded=True)
        async with self._upstream.session.get(
            url,
            headers={"Accept": "application/json"},
            timeout=self._timeout,
            allow_redirects=False,
        ) as response:
            # Taken before the body is read: reading it to the end releases the connection.
            connection = response.connection
            transport = connection.transport if connection is not None else None
            await response.read()
        return transport
