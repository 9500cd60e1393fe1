"""Stage ``rate-budget``: wait for room in OKX's budgets, or refuse with 429; back off on 50011.

Each request (or WebSocket order op) draws on the budgets :func:`~.draws.draws_for` names, all
or none. With room, it goes on at once (one store call). Without, it waits its turn behind the
requests of this process that were waiting for the same budget first (:mod:`.waiting`), then
sleeps until the store says room will be there and tries again, for at most
``SIGNPROXY_RATE_MAX_WAIT_MS`` (a client may ask for less with ``X-Signproxy-Max-Wait-Ms``). A
request told of room that comes too late is refused at once, not after waiting in vain. A
refused request is never forwarded.

If OKX answers ``50011`` or ``50061`` all the same (a bot outside the proxy shares the account),
:class:`BackOff`, an outcome observer, puts that budget on hold for a whole window.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, NoReturn, Protocol

import structlog

from signproxy.okx.rate_limits import RATE_LIMITED, SUB_ACCOUNT_LIMITED
from signproxy.proxy.pipeline import Next, Stage
from signproxy.ratelimit.draws import SUB_ACCOUNT_GROUP, Draw, Request, account_id, draws_for
from signproxy.ratelimit.errors import BadMaxWait, BudgetOnHold, OverBudget, OverLimitAlone
from signproxy.ratelimit.waiting import WaitingRoom

if TYPE_CHECKING:
    from collections.abc import Sequence

    from signproxy.proxy.record import Answer, Exchange
    from signproxy.proxy.selection import Selector
    from signproxy.ratelimit.account_limit import SubAccountLimits
    from signproxy.ratelimit.metrics import RateMetrics
    from signproxy.ratelimit.window import Taken
    from signproxy.settings.rates import RateSettings

MAX_WAIT_HEADER = "X-Signproxy-Max-Wait-Ms"
_BACK_OFF_CODES = frozenset({RATE_LIMITED, SUB_ACCOUNT_LIMITED})
_MAX_WAIT_DIGITS = 6


class Budgets(Protocol):
    """Where budgets are kept: this process (:class:`LocalBudgets`) or Redis."""

    def limit_of(self, draw: Draw) -> int:
        """The limit this store applies to ``draw``."""
        ...

    async def take(self, draws: Sequence[Draw]) -> Taken:
        """Take every draw or none."""
        ...

    async def hold(self, key: str, ms: float) -> None:
        """Let nothing through ``key`` for ``ms``."""
        ...


class RateBudget(Stage):
    """Keeps every request within OKX's published rate limits."""

    name = "rate-budget"

    def __init__(
        self,
        budgets: Budgets,
        settings: RateSettings,
        metrics: RateMetrics,
        sub_accounts: SubAccountLimits,
        selector: Selector,
    ) -> None:
        """Draw on ``budgets``; ``sub_accounts`` knows each account's new + amend limit.

        ``selector`` finds the account of a WebSocket op, whose record names it only.
        """
        self._budgets = budgets
        self._settings = settings
        self._metrics = metrics
        self._sub_accounts = sub_accounts
        self._selector = selector
        self._room = WaitingRoom()

    def draws(self, exchange: Exchange) -> tuple[Draw, ...] | None:
        """The budgets ``exchange`` draws on (None: an endpoint the table does not list)."""
        assert exchange.path is not None  # noqa: S101 - the target stage runs first
        signer = exchange.account
        if signer is None and exchange.account_name is not None:
            signer = self._selector.accounts.get(exchange.account_name)
        account = None
        if signer is not None:
            account = account_id(signer.credentials.api_key.reveal())
        query = exchange.http.query if exchange.method == "GET" and exchange.http else {}
        payload = exchange.payload
        tag = payload.get("tag") if isinstance(payload, dict) else None
        request = Request(
            exchange.method,
            exchange.path,
            account,
            query,
            exchange.orders,
            tag if isinstance(tag, str) else None,
        )
        return draws_for(
            request,
            ip_key=self._settings.ip_key,
            sub_account_limit=self._sub_accounts.limit_for(account),
        )

    async def run(self, exchange: Exchange, call_next: Next) -> Answer:
        """Wait for room (or refuse), then go on."""
        draws = self.draws(exchange)
        if draws is None:
            self._metrics.unlimited(exchange.path or "")
            return await call_next(exchange)
        await self.acquire(exchange, draws, self._max_wait_ms(exchange))
        exchange.rate_draws = draws
        return await call_next(exchange)

    async def acquire(self, exchange: Exchange, draws: Sequence[Draw], max_wait_ms: int) -> None:
        """Take ``draws``, waiting at most ``max_wait_ms``; raise a refusal otherwise."""
        started = time.monotonic()
        deadline = started + max_wait_ms / 1000
        for draw in draws:
            limit = self._budgets.limit_of(draw)
            if draw.cost > limit:
                self._refuse(exchange, OverLimitAlone, draw, draw.window_ms, limit, max_wait_ms)
        taken = await self._budgets.take(draws)
        self._metrics.remaining(draws, taken.remaining)
        if taken.ok:
            return
        blocked = self._check_wait(exchange, draws, taken, deadline, max_wait_ms)
        self._metrics.waited(blocked)
        # Wait in line behind the requests that were first (see .waiting), then for room.
        try:
            async with self._room.turn(blocked.key, deadline - time.monotonic()):
                while not taken.ok:
                    await asyncio.sleep(taken.wait_ms / 1000)
                    taken = await self._budgets.take(draws)
                    self._metrics.remaining(draws, taken.remaining)
                    if not taken.ok:
                        self._check_wait(exchange, draws, taken, deadline, max_wait_ms)
        except TimeoutError:
            self._refuse(exchange, OverBudget, blocked, taken.wait_ms, blocked.limit, max_wait_ms)
        exchange.waited_ms = round((time.monotonic() - started) * 1000, 3)

    def _check_wait(
        self,
        exchange: Exchange,
        draws: Sequence[Draw],
        taken: Taken,
        deadline: float,
        max_wait_ms: int,
    ) -> Draw:
        """The draw that must wait; a refusal when its room comes after ``deadline``."""
        blocked = [d for d, left in zip(draws, taken.remaining, strict=True) if left < d.cost]
        draw = (blocked or list(draws))[0]
        if time.monotonic() + taken.wait_ms / 1000 > deadline:
            error = OverBudget if blocked else BudgetOnHold
            limit = self._budgets.limit_of(draw)
            self._refuse(exchange, error, draw, taken.wait_ms, limit, max_wait_ms)
        return draw

    def _refuse(  # noqa: PLR0913, PLR0917 - the refusal's parts, in the message's order
        self,
        exchange: Exchange,
        error: type[OverBudget | BudgetOnHold | OverLimitAlone],
        draw: Draw,
        wait_ms: float,
        limit: int,
        max_wait_ms: int,
    ) -> NoReturn:
        described = draw.describe()
        if limit != draw.limit:
            described += f" (this proxy worker's share: {limit})"
        if error is OverLimitAlone:
            text = f"the request alone takes {draw.cost}, more than OKX's rate limit {described}"
        elif error is BudgetOnHold:
            text = f"OKX refused this budget lately (50011/50061): {described}; resting"
        else:
            text = f"over OKX's rate limit {described}; no room within {max_wait_ms} ms"
        exchange.budget = described
        refusal = error(
            f"{text}; not sent, retry in {wait_ms / 1000:.3f} s",
            retry_after_ms=wait_ms,
            budget=described,
        )
        self._metrics.refused(draw, refusal.code)
        raise refusal

    def _max_wait_ms(self, exchange: Exchange) -> int:
        configured = self._settings.max_wait_ms
        request = exchange.http
        if request is None:
            return configured
        asked = request.headers.get(MAX_WAIT_HEADER)
        if asked is None:
            return configured
        asked = asked.strip()
        if not asked.isdigit() or not asked.isascii() or len(asked) > _MAX_WAIT_DIGITS:
            raise BadMaxWait(f"{MAX_WAIT_HEADER} must be a whole number of milliseconds")
        return min(int(asked), configured)


class BackOff:
    """An outcome observer: OKX's 50011 / 50061 puts the budget that drew it on hold."""

    def __init__(self, budgets: Budgets, metrics: RateMetrics, margin_ms: int) -> None:
        """Hold budgets in ``budgets`` for a window plus ``margin_ms``."""
        self._budgets = budgets
        self._metrics = metrics
        self._margin = margin_ms
        self._log = structlog.get_logger("signproxy")
        self._tasks: set[asyncio.Task[None]] = set()

    def request_started(self) -> None:
        """Nothing to do when a request starts."""

    def request_finished(self, exchange: Exchange) -> None:
        """Hold the budgets OKX says are exhausted."""
        if not exchange.rate_draws:
            return
        codes = _BACK_OFF_CODES.intersection(
            (exchange.okx_code, *(result.s_code for result in exchange.results))
        )
        for okx_code in sorted(codes):
            sub_account = okx_code == SUB_ACCOUNT_LIMITED
            for draw in exchange.rate_draws:
                if (draw.group == SUB_ACCOUNT_GROUP) != sub_account:
                    continue
                ms = draw.window_ms + self._margin
                self._metrics.backed_off(draw, okx_code)
                exchange.budget = draw.describe()
                self._log.warning(
                    "signproxy.rate_backoff",
                    budget=draw.describe(),
                    okx_code=okx_code,
                    hold_ms=ms,
                    request_id=exchange.request_id,
                )
                task = asyncio.get_running_loop().create_task(self._budgets.hold(draw.key, ms))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
