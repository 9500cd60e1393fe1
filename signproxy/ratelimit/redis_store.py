"""Budgets in Redis, shared by every proxy of a fleet: one Lua script takes a request's draws.

The script is the same sliding log as :mod:`.window`, kept in one sorted set per budget (one
member per unit taken, scored by when): it drops what left the window, checks every draw and the
budget's hold, and takes all of them or none, atomically (Redis runs a script alone). Time is
Redis's own clock (``TIME``), so proxies on hosts whose clocks disagree still count one window.
Each set expires one window after its last take, so idle budgets cost nothing.

While Redis is unreachable the in-process store answers instead (the link logs the episode once,
``/-/ready`` says degraded, ``signproxy_redis_up`` is 0); budgets return to Redis as soon as the
link's probe gets an answer.
"""

from __future__ import annotations

import itertools
import os
import secrets
from typing import TYPE_CHECKING

from redis.exceptions import NoScriptError

from signproxy.ratelimit.window import SlidingLog, Taken
from signproxy.state.redis import RedisErrors

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from signproxy.ratelimit.draws import Draw
    from signproxy.state.redis import RedisLink

PREFIX = "spx:rl:"
# KEYS: the budgets. ARGV: a unique token, the margin (ms), then limit, window (ms) and cost of
# each budget. Returns {wait_ms, remaining...}: wait 0 means every draw was taken.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local margin = tonumber(ARGV[2])
local wait = 0
local remaining = {}
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[i * 3])
  local window = tonumber(ARGV[i * 3 + 1]) + margin
  local cost = tonumber(ARGV[i * 3 + 2])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local held = redis.call('PTTL', key .. ':hold')
  if held > wait then wait = held end
  local used = redis.call('ZCARD', key)
  if used + cost > limit then
    local oldest = redis.call('ZRANGE', key, used + cost - limit - 1, used + cost - limit - 1,
      'WITHSCORES')
    local free_in = tonumber(oldest[2]) + window - now
    if free_in > wait then wait = free_in end
  end
  remaining[i] = limit - used
end
if wait > 0 then
  return {wait, unpack(remaining)}
end
for i, key in ipairs(KEYS) do
  local window = tonumber(ARGV[i * 3 + 1]) + margin
  local cost = tonumber(ARGV[i * 3 + 2])
  local members = {}
  for j = 1, cost do
    members[#members + 1] = now
    members[#members + 1] = ARGV[1] .. ':' .. j
  end
  redis.call('ZADD', key, unpack(members))
  redis.call('PEXPIRE', key, window)
  remaining[i] = remaining[i] - cost
end
return {0, unpack(remaining)}
"""
_HOLD = """
local current = redis.call('PTTL', KEYS[1])
if current < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
end
return 1
"""


class RedisBudgets:
    """Takes draws in Redis while it is available, else in ``fallback``."""

    def __init__(
        self,
        link: RedisLink,
        fallback: SlidingLog,
        *,
        margin_ms: float = 0.0,
        on_fallback: Callable[[], None] | None = None,
    ) -> None:
        """``on_fallback`` is called for each decision taken in-process while Redis is down."""
        self._link = link
        self._fallback = fallback
        self._margin = int(margin_ms)
        self._on_fallback = on_fallback
        self._take_sha: str | None = None
        # Unique members across processes and hosts: a random prefix, then a counter.
        self._prefix = f"{secrets.token_hex(6)}{os.getpid():x}"
        self._counter = itertools.count()

    def limit_of(self, draw: Draw) -> int:
        """The limit applied to ``draw``: OKX's own (the whole fleet counts in one place)."""
        return draw.limit if self._link.available else self._fallback.limit_of(draw)

    async def take(self, draws: Sequence[Draw]) -> Taken:
        """Take every draw in Redis (or in-process while Redis is down)."""
        if self._link.available:
            argv: list[str | int] = [f"{self._prefix}{next(self._counter):x}", self._margin]
            for draw in draws:
                argv += (draw.limit, draw.window_ms, draw.cost)
            keys = [PREFIX + draw.key for draw in draws]
            try:
                reply = await self._evalsha(keys, argv)
            except RedisErrors as exc:
                self._link.failed(exc)
            else:
                return Taken(float(reply[0]), tuple(int(n) for n in reply[1:]))
        if self._on_fallback is not None:
            self._on_fallback()
        return self._fallback.take(draws)

    async def hold(self, key: str, ms: float) -> None:
        """Let nothing through ``key`` for ``ms``, fleet-wide (and in this process)."""
        self._fallback.hold(key, ms)
        if not self._link.available:
            return
        try:
            await self._link.client.eval(_HOLD, 1, PREFIX + key + ":hold", int(ms))
        except RedisErrors as exc:
            self._link.failed(exc)

    async def _evalsha(self, keys: list[str], argv: list[str | int]) -> list[int]:
        client = self._link.client
        if self._take_sha is None:
            self._take_sha = await client.script_load(_TAKE)
        try:
            reply = await client.evalsha(self._take_sha, len(keys), *keys, *argv)
        except NoScriptError:
            # A restarted Redis has forgotten the script: load it again, once.
            self._take_sha = await client.script_load(_TAKE)
            reply = await client.evalsha(self._take_sha, len(keys), *keys, *argv)
        return list(reply)
