"""The dead-man switch: OKX's cancel-all-after, kept armed for as long as bots show up.

For each account with ``N`` seconds configured, a task sends ``POST
/api/v5/trade/cancel-all-after`` ``{"timeOut": "N"}`` whenever a bot was seen on the account
since the last refresh, at most once every :data:`REFRESH_GAP_S` seconds (OKX allows one
request per second). A bot is seen on any REST request or WebSocket frame on the account, and
on ``GET /-/heartbeat``. So while bots are active OKX's countdown keeps being pushed back, and
it runs out about N seconds after the last bot was seen (at most N + the gap): OKX then cancels
the account's pending orders. If the proxy dies or loses OKX, the countdown runs out too: that
is the point. A failed refresh is tried again after the gap; N >= 10 leaves room for several.

Nothing is armed before a bot is first seen. When the countdown runs out the event
``signproxy.deadman_expired`` is logged. On a clean stop the switch stays armed unless
``SIGNPROXY_DEADMAN_ON_STOP=disarm`` (then ``timeOut`` 0 is sent).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import structlog

from signproxy.errors import UpstreamError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    from aiohttp import web

    from signproxy.ops.readiness import CheckResult
    from signproxy.settings.accounts import Account
    from signproxy.switches.caller import OkxCaller

CANCEL_ALL_AFTER = "/api/v5/trade/cancel-all-after"
REFRESH_GAP_S = 2.0  # half of OKX's limit (1 request/s), so jitter never trips it
OKX_SPACING_S = (
    1.1  # OKX's limit, with a margin: the disarm on stop waits this long after a refresh
)


@dataclass(slots=True)
class DeadmanEntry:
    """One account's switch: when a bot was last seen and what OKX last said."""

    account: str
    seconds: int
    last_seen: float | None = None  # monotonic
    trigger_ms: int | None = None  # OKX's triggerTime of the last refresh (Unix ms)
    refreshed_ms: int | None = None  # when the last refresh succeeded (Unix ms)
    failures: int = 0
    sent_at: float = float("-inf")  # monotonic time of the last cancel-all-after sent
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def armed(self, now_ms: int) -> bool:
        """OKX's countdown is running (as of the last refresh's answer)."""
        return self.trigger_ms is not None and self.trigger_ms > now_ms

    def describe(self, now_ms: int) -> dict[str, object]:
        """The entry as ``/-/status`` and ``/-/heartbeat`` show it."""
        return {
            "seconds": self.seconds,
            "armed": self.armed(now_ms),
            "trigger_ms": self.trigger_ms,
            "last_refresh_ms": self.refreshed_ms,
            "seen_s_ago": None
            if self.last_seen is None
            else round(time.monotonic() - self.last_seen, 3),
            "failures": self.failures,
        }


class Deadman:
    """Every account's switch, the tasks that refresh them, and the clean-stop behaviour."""

    def __init__(
        self,
        seconds: dict[str, int],
        accounts: Callable[[str], Account | None],
        caller: OkxCaller,
        *,
        disarm_on_stop: bool = False,
        gap: float = REFRESH_GAP_S,
    ) -> None:
        """Hold a switch for each account with seconds > 0; ``accounts`` finds its key now."""
        self.entries = {
            name: DeadmanEntry(name, value) for name, value in seconds.items() if value > 0
        }
        self._accounts = accounts
        self._caller = caller
        self._disarm = disarm_on_stop
        self._gap = gap
        self._log = structlog.get_logger("signproxy")

    def seen(self, account: str | None) -> None:
        """A bot used ``account`` just now (cheap: called on every request and frame)."""
        entry = self.entries.get(account) if account is not None else None
        if entry is not None:
            entry.last_seen = time.monotonic()
            entry.wake.set()

    async def lifetime(self, _app: web.Application) -> AsyncIterator[None]:
        """A cleanup context: one task per account while serving; disarm on stop if asked."""
        tasks = [asyncio.create_task(self._keep(entry)) for entry in self.entries.values()]
        yield
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._disarm:
            armed = [entry for entry in self.entries.values() if entry.armed(_now_ms())]
            await asyncio.gather(*(self._disarm_one(entry) for entry in armed))

    async def _disarm_one(self, entry: DeadmanEntry) -> None:
        for _ in range(2):  # a refresh may have just gone out: wait for OKX's spacing, once more
            delay = entry.sent_at + OKX_SPACING_S - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if await self._send(entry, 0):
                return

    def check(self) -> CheckResult:
        """The readiness detail (always ready: the switch protects, it does not serve)."""
        now = _now_ms()
        parts = []
        for entry in self.entries.values():
            if entry.armed(now):
                assert entry.trigger_ms is not None  # noqa: S101 - armed implies it
                state = f"armed, OKX cancels in {(entry.trigger_ms - now) / 1000:.0f} s"
            else:
                state = "not armed (no bot seen)" if entry.refreshed_ms is None else "expired"
            if entry.failures:
                state += f", {entry.failures} failed refresh(es) in a row"
            parts.append(f"{entry.account}: {state}")
        return True, "; ".join(parts) or "off"

    async def _keep(self, entry: DeadmanEntry) -> None:
        while True:
            try:
                await self._keep_refreshing(entry)
            except Exception:  # noqa: BLE001 - a bug must not end the switch for good
                self._log.exception("signproxy.deadman_internal_error", account=entry.account)
                await asyncio.sleep(self._gap)

    async def _keep_refreshing(self, entry: DeadmanEntry) -> None:
        next_allowed = 0.0
        while True:
            timeout = None
            if entry.trigger_ms is not None and entry.armed(_now_ms()):
                timeout = (entry.trigger_ms - _now_ms()) / 1000
            try:
                await asyncio.wait_for(entry.wake.wait(), timeout)
            except TimeoutError:
                self._log.warning(
                    "signproxy.deadman_expired",
                    account=entry.account,
                    seconds=entry.seconds,
                    seen_s_ago=None
                    if entry.last_seen is None
                    else round(time.monotonic() - entry.last_seen, 3),
                )
                continue
            entry.wake.clear()
            delay = next_allowed - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            next_allowed = time.monotonic() + self._gap
            if not await self._send(entry, entry.seconds):
                entry.wake.set()  # still owed: try again after the gap

    async def _send(self, entry: DeadmanEntry, seconds: int) -> bool:
        account = self._accounts(entry.account)
        if account is None:  # removed by a reload
            return True
        was_armed = entry.armed(_now_ms())
        entry.sent_at = time.monotonic()
        try:
            status, answer = await self._caller.call(
                account, "POST", CANCEL_ALL_AFTER, {"timeOut": str(seconds)}
            )
        except UpstreamError as exc:
            return self._failed(entry, exc.code)
        if answer is None or not answer.ok:
            return self._failed(entry, f"HTTP {status} code {answer.code if answer else '?'}")
        entry.failures = 0
        entry.refreshed_ms = _now_ms()
        first = answer.data[0] if answer.data and isinstance(answer.data[0], dict) else {}
        try:
            entry.trigger_ms = int(first.get("triggerTime") or 0) or None
        except ValueError:
            entry.trigger_ms = None
        if seconds == 0:
            entry.trigger_ms = None
            self._log.info("signproxy.deadman_disarmed", account=entry.account)
        elif not was_armed:
            self._log.info(
                "signproxy.deadman_armed",
                account=entry.account,
                seconds=seconds,
                trigger_ms=entry.trigger_ms,
            )
        return True

    def _failed(self, entry: DeadmanEntry, why: str) -> bool:
        entry.failures += 1
        self._log.warning(
            "signproxy.deadman_refresh_failed",
            account=entry.account,
            error=why,
            failures=entry.failures,
        )
        return False


def _now_ms() -> int:
    return time.time_ns() // 1_000_000
