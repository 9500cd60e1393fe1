"""Claims on client order ids in Redis, so a retry that lands on another proxy host is caught.

Each id is one key, ``signproxy:clordid:{<account>}:<id>`` (the account in braces keeps a
request's keys in one Redis Cluster slot), holding JSON: the owner (the attempt), the order's
fingerprint, the state and, when done, the answer. Claiming all of a request's ids is one Lua
script (``SET ... PX`` for all or none), so two hosts can never both claim an id. A waiter on
another host polls until the attempt has ended. While Redis is unreachable the in-process store
takes over (:class:`~signproxy.state.redis.RedisLink` logs the episode).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING

from signproxy.once.dedup import Claim, State, Stored
from signproxy.once.dedup_memory import MemoryStore
from signproxy.state.redis import RedisErrors

if TYPE_CHECKING:
    from collections.abc import Sequence

    from redis.commands.core import AsyncScript

    from signproxy.once.dedup import Ending, Item
    from signproxy.state.redis import RedisLink

POLL_S = 0.05

# KEYS: the ids' keys. ARGV: owner, ttl ms, then one fingerprint per key. Returns {} when all
# were claimed, else every key's value ('' for a missing key; Lua tables cannot hold nil).
_CLAIM = """
local found = {}
local any = false
for i, key in ipairs(KEYS) do
  local value = redis.call('GET', key)
  if value then any = true; found[i] = value else found[i] = '' end
end
if any then return found end
for i, key in ipairs(KEYS) do
  redis.call('SET', key, cjson.encode({o = ARGV[1], f = ARGV[i + 2], s = 'inflight'}),
             'PX', ARGV[2])
end
return {}
"""
# KEYS: the ids' keys. ARGV: owner, state, stored answer, then 'k' (keep) or 'r' per key.
_FINISH = """
for i, key in ipairs(KEYS) do
  local value = redis.call('GET', key)
  if value then
    local entry = cjson.decode(value)
    if entry.o == ARGV[1] then
      if ARGV[i + 3] == 'r' then
        redis.call('DEL', key)
      else
        entry.s = ARGV[2]
        entry.a = ARGV[3]
        redis.call('SET', key, cjson.encode(entry), 'XX', 'KEEPTTL')
      end
    end
  end
end
return 0
"""


def _key(account: str, cl_ord_id: str) -> str:
    return f"signproxy:clordid:{{{account}}}:{cl_ord_id}"


class RedisStore:
    """Claims in Redis for ``window_s`` seconds; the in-process store while Redis is down."""

    def __init__(self, link: RedisLink, window_s: float) -> None:
        """Use ``link``'s client; fall back to a :class:`MemoryStore` of the same window."""
        self._link = link
        self._ttl_ms = max(1, int(window_s * 1000))
        self.fallback = MemoryStore(window_s)
        self._local: set[str] = set()  # owners whose claim went to the fallback
        self._client: object = None
        self._scripts: list[AsyncScript] = []

    def _script(self, which: int) -> AsyncScript:
        """The claim (0) or finish (1) script, sent by SHA (EVALSHA) once Redis knows it."""
        client = self._link.client
        if self._client is not client:
            self._scripts = [client.register_script(_CLAIM), client.register_script(_FINISH)]
            self._client = client
        return self._scripts[which]

    async def claim(self, account: str, items: Sequence[Item], owner: str) -> Claim:
        """Claim every id for ``owner`` in one script, or report who holds them."""
        if not self._link.available:
            return await self._claim_locally(account, items, owner)
        keys = [_key(account, cl_ord_id) for cl_ord_id, _ in items]
        try:
            found = await self._script(0)(
                keys=keys, args=[owner, self._ttl_ms, *(fp for _, fp in items)]
            )
        except RedisErrors as exc:
            self._link.failed(exc)
            return await self._claim_locally(account, items, owner)
        if not found:
            return Claim("new", owner=owner, state="inflight")
        entries = [json.loads(value) if value else None for value in found]
        for (cl_ord_id, fingerprint), entry in zip(items, entries, strict=True):
            if entry is not None and entry.get("f") != fingerprint:
                return Claim("conflict", cl_ord_id=cl_ord_id)
        owners = {entry.get("o") if entry else None for entry in entries}
        if len(owners) != 1 or None in owners:
            return Claim("mixed")
        first = entries[0]
        assert first is not None  # noqa: S101 - an owner was found above
        return _claim_of(first)

    async def _claim_locally(self, account: str, items: Sequence[Item], owner: str) -> Claim:
        self._local.add(owner)
        return await self.fallback.claim(account, items, owner)

    async def finish(self, account: str, owner: str, ending: Ending) -> None:
        """End ``owner``'s attempt (only its own keys are touched)."""
        if owner in self._local:
            self._local.discard(owner)
            await self.fallback.finish(account, owner, ending)
            return
        ids = [*ending.keep, *ending.release]
        keys = [_key(account, cl_ord_id) for cl_ord_id in ids]
        actions = ["k"] * len(ending.keep) + ["r"] * len(ending.release)
        try:
            await self._script(1)(
                keys=keys, args=[owner, ending.state, ending.stored.dumps(), *actions]
            )
        except RedisErrors as exc:
            self._link.failed(exc)

    async def wait(self, account: str, cl_ord_id: str, owner: str, within: float) -> Claim:
        """Poll until ``owner``'s attempt on ``cl_ord_id`` has ended (or ``within`` s)."""
        if owner in self._local or not self._link.available:
            return await self.fallback.wait(account, cl_ord_id, owner, within)
        deadline = time.monotonic() + within
        while True:
            try:
                value = await self._link.client.get(_key(account, cl_ord_id))
            except RedisErrors as exc:
                self._link.failed(exc)
                return Claim("existing", owner, "inflight")
            entry = json.loads(value) if value else None
            if entry is None or entry.get("o") != owner:
                return Claim("existing", owner, "released")
            if entry.get("s") != "inflight" or time.monotonic() >= deadline:
                return _claim_of(entry)
            await asyncio.sleep(POLL_S)


def _claim_of(entry: dict[str, str]) -> Claim:
    stored = Stored.loads(entry["a"]) if entry.get("a") else None
    state: State = entry.get("s", "inflight")  # type: ignore[assignment] # written by us
    return Claim("existing", entry.get("o"), state, stored)
