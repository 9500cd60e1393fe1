"""The link to Redis: one asyncio client per process, and whether Redis can be used right now.

Features that share state across a fleet (rate budgets, order de-duplication, the halt switch)
use :attr:`RedisLink.client` while :attr:`RedisLink.available`, and fall back to their
in-process state otherwise. Whoever sees a Redis command fail calls :meth:`RedisLink.failed`;
the link then logs the episode once, answers ``available = False``, and pings in the background
until Redis answers again (logged once more). ``/-/ready`` shows a degraded proxy as ready: it
still serves, on in-process state.

redis-py's asyncio client (``redis.asyncio``) is used rather than a hand-written protocol: it is
the maintained client, pools connections, and runs Lua scripts atomically (``EVALSHA``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING

import redis.asyncio as aioredis
import structlog
from redis.exceptions import RedisError

from signproxy.settings.redis import redis_display
from signproxy.tasks import cancel_and_wait

if TYPE_CHECKING:
    from signproxy.ops.readiness import CheckResult
    from signproxy.settings.credentials import Secret

# Short timeouts: a request waiting on an unreachable Redis must fall back quickly.
COMMAND_TIMEOUT_S = 0.5
PROBE_INTERVAL_S = 1.0

RedisErrors = (RedisError, OSError, TimeoutError)
"""What a Redis command raises when Redis cannot be used (catch these, then :meth:`failed`)."""


class RedisLink:
    """One Redis client for the process and the reachability of Redis."""

    def __init__(self, url: Secret, *, probe_interval: float = PROBE_INTERVAL_S) -> None:
        """Remember ``url``; the client is made by :meth:`start` inside the event loop."""
        self._url = url
        self.display = redis_display(url)
        self._probe_interval = probe_interval
        self._client: aioredis.Redis | None = None
        self._available = False
        self._down_since: float | None = None
        self._probe: asyncio.Task[None] | None = None
        self._log = structlog.get_logger("signproxy")

    @property
    def client(self) -> aioredis.Redis:
        """The client (use it only while :attr:`available`; catch :data:`RedisErrors`)."""
        if self._client is None:
            msg = "RedisLink.start() was not awaited"
            raise RuntimeError(msg)
        return self._client

    @property
    def available(self) -> bool:
        """Redis answered the last command or probe."""
        return self._available

    async def start(self) -> None:
        """Make the client and try Redis once; an unreachable Redis does not stop the proxy."""
        self._client = aioredis.Redis.from_url(
            self._url.reveal(),
            socket_timeout=COMMAND_TIMEOUT_S,
            socket_connect_timeout=COMMAND_TIMEOUT_S,
            retry_on_timeout=False,
            decode_responses=False,
        )
        try:
            await self._client.ping()
        except RedisErrors as exc:
            self.failed(exc)
        else:
            self._available = True
            self._log.info("signproxy.redis_connected", redis=self.display)

    async def stop(self) -> None:
        """Stop probing and close the client's connections."""
        await cancel_and_wait(self._probe)
        self._probe = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def failed(self, exc: BaseException) -> None:
        """A Redis command failed: degrade to in-process state until a probe succeeds."""
        self._available = False
        if self._down_since is None:
            self._down_since = time.monotonic()
            # The error's type only: its text may hold the URL, and so the password.
            self._log.warning(
                "signproxy.redis_unavailable", redis=self.display, error=type(exc).__name__
            )
        if self._probe is None or self._probe.done():
            self._probe = asyncio.get_running_loop().create_task(self._probe_until_back())

    async def _probe_until_back(self) -> None:
        # Connections pooled before the outage point at a server that is gone: dropped now, so
        # the first commands after Redis returns do not fail on them (a second, false episode).
        with contextlib.suppress(*RedisErrors):
            await self.client.connection_pool.disconnect()
        while True:
            await asyncio.sleep(self._probe_interval)
            try:
                await self.client.ping()
            except RedisErrors:
                continue
            down_for = time.monotonic() - (self._down_since or time.monotonic())
            self._down_since = None
            self._available = True
            self._log.info("signproxy.redis_back", redis=self.display, down_s=round(down_for, 3))
            return

    def check(self) -> CheckResult:
        """The readiness check: always ready; says when the proxy runs degraded."""
        if self._available:
            return True, f"connected to {self.display}"
        since = self._down_since
        ago = "" if since is None else f" for {time.monotonic() - since:.0f} s"
        return True, f"degraded: {self.display} unreachable{ago}; using in-process state"
