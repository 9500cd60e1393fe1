"""The switchboard: one application's dead-man switch, halt board and guardrails, wired in.

:func:`build` makes them from the settings; :meth:`Switchboard.install` adds their lifetimes,
readiness checks, metrics and the ``/-/`` routes to the app.
"""

from __future__ import annotations

import functools
import time
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import Gauge

from signproxy.switches.caller import OkxCaller
from signproxy.switches.deadman import Deadman, DeadmanEntry
from signproxy.switches.guardrails import Guardrails
from signproxy.switches.halt import HaltBoard

if TYPE_CHECKING:
    from signproxy.ops.routes import Operations
    from signproxy.proxy.selection import Selector
    from signproxy.settings.config import Settings
    from signproxy.state.redis import RedisLink
    from signproxy.switches.halt_redis import RedisHalt
    from signproxy.upstream.client import Upstream
    from signproxy.upstream.clock import Clock


class Switchboard:
    """The switches of one application (see :mod:`signproxy.switches`)."""

    def __init__(
        self, settings: Settings, selector: Selector, caller: OkxCaller, redis: RedisLink | None
    ) -> None:
        """Build the halt board, the guardrails and the dead-man switch from ``settings``."""
        switches = settings.switches
        self.settings = settings
        self.selector = selector
        self.caller = caller
        self.halt = HaltBoard(switches.state_dir, None if redis is None else _redis_halt(redis))
        self.guardrails = Guardrails(settings.rules)
        self.deadman = Deadman(
            dict(switches.deadman),
            lambda name: selector.accounts.get(name),  # noqa: PLW0108 - swapped on reload
            caller,
            disarm_on_stop=switches.disarm_on_stop,
        )

    def reloaded(self, settings: Settings) -> None:
        """A reload succeeded: judge by its rules from now on."""
        self.guardrails.swap(settings.rules)

    def install(self, app: web.Application, ops: Operations) -> None:
        """Add lifetimes, readiness checks and metrics (routes: :mod:`.routes`)."""
        app.cleanup_ctx.append(self.halt.lifetime)
        app.cleanup_ctx.append(self.deadman.lifetime)
        ops.readiness.add("halt", self._halt_check)
        if self.deadman.entries:
            ops.readiness.add("deadman", self.deadman.check)
        registry = ops.metrics.registry
        Gauge(
            "signproxy_halted", "1 while trading is halted (orders refused).", registry=registry
        ).set_function(lambda: 1.0 if self.halt.halted else 0.0)
        armed = Gauge(
            "signproxy_deadman_armed",
            "1 while OKX's cancel-all-after countdown is running for the account.",
            ("account",),
            registry=registry,
        )
        refreshed = Gauge(
            "signproxy_deadman_last_refresh_timestamp_seconds",
            "When the dead-man switch was last refreshed (Unix seconds; 0: never).",
            ("account",),
            registry=registry,
        )
        trigger = Gauge(
            "signproxy_deadman_trigger_timestamp_seconds",
            "OKX's triggerTime: when it cancels the account's orders unless refreshed.",
            ("account",),
            registry=registry,
        )
        for name, entry in self.deadman.entries.items():
            armed.labels(name).set_function(functools.partial(_armed, entry))
            refreshed.labels(name).set_function(functools.partial(_seconds, entry, "refreshed_ms"))
            trigger.labels(name).set_function(functools.partial(_seconds, entry, "trigger_ms"))

    def _halt_check(self) -> tuple[bool, str]:
        state = self.halt.state
        if not state.halted:
            return True, "trading"
        return True, f"halted by {state.by or '?'}: {state.reason or 'no reason given'}"


def _armed(entry: DeadmanEntry) -> float:
    return 1.0 if entry.armed(time.time_ns() // 1_000_000) else 0.0


def _seconds(entry: DeadmanEntry, name: str) -> float:
    value: int | None = getattr(entry, name)
    return (value or 0) / 1000


def build(
    settings: Settings,
    selector: Selector,
    upstream: Upstream,
    clock: Clock,
    redis: RedisLink | None,
) -> Switchboard:
    """The switchboard of an application."""
    return Switchboard(settings, selector, OkxCaller(upstream, clock), redis)


SWITCHES = web.AppKey("signproxy.switches", Switchboard)


def _redis_halt(link: RedisLink) -> RedisHalt:
    from signproxy.switches.halt_redis import RedisHalt  # noqa: PLC0415 - redis-py (~7 MB) only with Redis

    return RedisHalt(link)
