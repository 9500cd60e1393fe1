"""The dead-man switch: OKX's cancel-all-after, kept armed for as long as bots show up.

For each account with ``N`` seconds configured, a bot is seen on any REST request or WebSocket
frame on the account, and on ``GET /-/heartbeat``. From the first sight, a task sends ``POST
/api/v5/trade/cancel-all-after`` every :data:`REFRESH_GAP_S` seconds (OKX allows one request per
second) with a ``timeOut`` that makes OKX's countdown end ``N`` + :data:`MARGIN_S` seconds after
the bot was last seen (never more than N from now, never under OKX's 10). While a bot is active
that is ``timeOut`` N, refreshed every 2 s, so several refreshes in a row may fail (logged, and
simply sent again at the next tick) before OKX acts. Once no bot is seen, the end stays where it
is: refreshing stops when it is less than 10 s away (``signproxy.deadman_released``), and OKX
cancels the account's pending orders about N + 4 s after the bot was last seen
(``signproxy.deadman_expired`` is logged then). If the proxy dies or loses OKX, the countdown
runs out N s after the last refresh: that is the point.

Nothing is armed before a bot is first seen. On a clean stop the switch stays armed unless
``SIGNPROXY_DEADMAN_ON_STOP=disarm`` (then ``timeOut`` 0 is sent).
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import structlog

from signproxy.errors import UpstreamError
from signproxy.settings.switches import DEADMAN_MIN_S
from signproxy.tasks import cancel_and_wait

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    from aiohttp import web

    from signproxy.ops.readiness import CheckResult
    from signproxy.settings.accounts import Account
    from signproxy.switches.caller import OkxCaller

CANCEL_ALL_AFTER = "/api/v5/trade/cancel-all-after"
REFRESH_GAP_S = 2.0  # half of OKX's limit (1 request/s), so jitter never trips it
MARGIN_S = 2 * REFRESH_GAP_S  # the countdown ends this long after N s without a bot
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
            "seen_s_ago": _ago(self.last_seen),
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
        await cancel_and_wait(*tasks)
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
        while True:
            await self._wait_for_bot(entry)
            await self._refresh_while_seen(entry)
            self._log.info(
                "signproxy.deadman_released",
                account=entry.account,
                seconds=entry.seconds,
                seen_s_ago=_ago(entry.last_seen),
                trigger_ms=entry.trigger_ms,
            )

    async def _wait_for_bot(self, entry: DeadmanEntry) -> None:
        """Wait until a bot is seen; say so when the countdown armed before runs out."""
        while not entry.wake.is_set():
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
                    seen_s_ago=_ago(entry.last_seen),
                )

    async def _refresh_while_seen(self, entry: DeadmanEntry) -> None:
        """Refresh every gap until the countdown may end ``N`` + margin after the last sight.

        Each refresh asks for the countdown to end at ``last seen + N + MARGIN_S`` (at most N
        from now, at least OKX's 10): while a bot is active that is N from now, so several
        refreshes in a row may fail before OKX acts; once it is quiet the end stays put, and
        refreshing stops when it is closer than 10 s (OKX's shortest countdown).
        """
        while True:
            entry.wake.clear()
            assert entry.last_seen is not None  # noqa: S101 - woken by seen()
            remaining = entry.last_seen + entry.seconds + MARGIN_S - time.monotonic()
            if remaining < DEADMAN_MIN_S:
                return
            await self._send(entry, min(entry.seconds, math.ceil(remaining)))
            await asyncio.sleep(self._gap)

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


def _ago(monotonic: float | None) -> float | None:
    return None if monotonic is None else round(time.monotonic() - monotonic, 3)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000
