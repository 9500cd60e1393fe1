"""The sub-account limit of each account: 1000 new + amended orders per 2 s, or ``accRateLimit``.

VIP5+ accounts with a good fill ratio get more (1,250 to 10,000 per 2 s), set daily at 08:00 UTC
and reported by ``GET /api/v5/trade/account-rate-limit`` (``accRateLimit``; an empty string
below VIP5). The reader asks once for every account at start, then again a minute after each
08:00 UTC. Each call draws on that endpoint's own budget (1 request per second per account), so
it never crowds out a bot's calls; a failure keeps the last known limit and is retried later.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import TYPE_CHECKING

import structlog

from signproxy.errors import UpstreamError
from signproxy.okx import envelope
from signproxy.okx.rate_limits import ACCOUNT_RATE_LIMIT_PATH, SUB_ACCOUNT_LIMIT
from signproxy.ratelimit.draws import Request, account_id, draws_for
from signproxy.tasks import cancel_and_wait

if TYPE_CHECKING:
    from collections.abc import Callable

    from signproxy.proxy.selection import Selector
    from signproxy.ratelimit.stage import Budgets
    from signproxy.settings.accounts import Account
    from signproxy.upstream.client import Upstream
    from signproxy.upstream.clock import Clock

RESET_HOUR_UTC = 8  # OKX sets the day's limit at 08:00 UTC
AFTER_RESET = dt.timedelta(minutes=1)
RETRY_S = 300.0  # after a failure
_MAX_TAKE_ATTEMPTS = 3


class SubAccountLimits:
    """Each account's new + amend limit, by :func:`~.draws.account_id`."""

    def __init__(self) -> None:
        """Start with OKX's default for every account."""
        self._limits: dict[str, int] = {}

    def limit_for(self, account: str | None) -> int:
        """The account's limit (1000 unless ``accRateLimit`` said more)."""
        if account is None:
            return SUB_ACCOUNT_LIMIT
        return self._limits.get(account, SUB_ACCOUNT_LIMIT)

    def set(self, account: str, limit: int) -> None:
        """Use ``limit`` for ``account`` from now on."""
        self._limits[account] = limit


def next_read(now: dt.datetime) -> dt.datetime:
    """When to read again after ``now``: a minute past the next 08:00 UTC."""
    today = now.replace(hour=RESET_HOUR_UTC, minute=0, second=0, microsecond=0) + AFTER_RESET
    return today if today > now else today + dt.timedelta(days=1)


class AccountLimitReader:
    """Reads ``accRateLimit`` for every account at start and daily after 08:00 UTC."""

    def __init__(  # noqa: PLR0913 - the reader's collaborators, all keyword-only
        self,
        *,
        limits: SubAccountLimits,
        selector: Selector,
        upstream: Upstream,
        clock: Clock,
        budgets: Budgets,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        """Read with ``upstream``, signing at ``clock``'s time, drawing on ``budgets``."""
        self._limits = limits
        self._selector = selector
        self._upstream = upstream
        self._clock = clock
        self._budgets = budgets
        self._now = now
        self._task: asyncio.Task[None] | None = None
        self._log = structlog.get_logger("signproxy")

    def start(self) -> None:
        """Read in the background from now on."""
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop reading."""
        await cancel_and_wait(self._task)

    async def _run(self) -> None:
        while True:
            failed = False
            for account in self._selector.accounts:
                failed = not await self.read(account) or failed
            now = self._now()
            delay = RETRY_S if failed else (next_read(now) - now).total_seconds()
            await asyncio.sleep(delay)

    async def read(self, account: Account) -> bool:
        """Ask OKX for ``account``'s limit and keep it; False when no answer could be had."""
        owner = account_id(account.credentials.api_key.reveal())
        draws = draws_for(Request("GET", ACCOUNT_RATE_LIMIT_PATH, owner, {}), ip_key="")
        for _ in range(_MAX_TAKE_ATTEMPTS):
            taken = await self._budgets.take(draws or ())
            if taken.ok:
                break
            await asyncio.sleep(taken.wait_ms / 1000)
        else:
            return False
        headers = account.signed_headers(self._clock.now_ms(), "GET", ACCOUNT_RATE_LIMIT_PATH, b"")
        try:
            answer = await self._upstream.send(
                "GET", ACCOUNT_RATE_LIMIT_PATH, headers, b"", base_url=account.upstream
            )
        except UpstreamError as exc:
            self._log.warning(
                "signproxy.account_rate_limit_failed", account=account.name, error=exc.code
            )
            return False
        parsed = envelope.parse(answer.body)
        if parsed is None or not parsed.ok or not parsed.data:
            code = None if parsed is None else parsed.code
            self._log.warning(
                "signproxy.account_rate_limit_failed", account=account.name, okx_code=code
            )
            return False
        item = parsed.data[0] if isinstance(parsed.data[0], dict) else {}
        reported = str(item.get("accRateLimit", ""))
        limit = int(reported) if reported.isdigit() and int(reported) > 0 else SUB_ACCOUNT_LIMIT
        self._limits.set(owner, limit)
        self._log.info(
            "signproxy.account_rate_limit", account=account.name, limit=limit, reported=reported
        )
        return True
