"""The halt state shared through Redis: one key every proxy of the fleet polls.

Polling a key (every :data:`~signproxy.switches.halt.POLL_S`) rather than pub/sub: a proxy
that was away when a halt was published still finds it, and there is no subscription to keep
alive. A failure marks the link degraded (:class:`~signproxy.state.redis.RedisLink`) and is
raised as :class:`OSError`; the board then keeps its last state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from signproxy.state.redis import RedisErrors
from signproxy.switches.halt import HaltState

if TYPE_CHECKING:
    from signproxy.state.redis import RedisLink

KEY = "signproxy:halt"


class RedisHalt:
    """Reads and writes the fleet's halt state in Redis."""

    def __init__(self, link: RedisLink, key: str = KEY) -> None:
        """Use ``link``'s client."""
        self._link = link
        self._key = key

    async def read(self) -> HaltState | None:
        """The fleet's state, or None when no proxy ever wrote one.

        Raises:
            OSError: Redis cannot be used now.
        """
        if not self._link.available:
            raise OSError("redis unavailable")
        try:
            raw = await self._link.client.get(self._key)
        except RedisErrors as exc:
            self._link.failed(exc)
            raise OSError("redis unavailable") from exc
        if raw is None:
            return None
        try:
            return HaltState.from_json(raw)
        except ValueError:
            return None  # a foreign value: ours overwrites it

    async def write(self, state: HaltState) -> None:
        """Store ``state`` for the fleet.

        Raises:
            OSError: Redis cannot be used now.
        """
        if not self._link.available:
            raise OSError("redis unavailable")
        try:
            await self._link.client.set(self._key, state.to_json())
        except RedisErrors as exc:
            self._link.failed(exc)
            raise OSError("redis unavailable") from exc
