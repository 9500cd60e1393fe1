"""Building the rate budgets for one application: the store, the stage, the observers, the reader.

Without Redis the budgets live in this process; workers of one proxy (``SIGNPROXY_WORKERS``)
then each keep their share of every limit (:func:`~.window.worker_share`), so together they
never exceed it. With Redis every proxy of the fleet takes from the same budgets, and the
in-process store (with the same shares) answers while Redis is unreachable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from signproxy.ratelimit.account_limit import AccountLimitReader, SubAccountLimits
from signproxy.ratelimit.metrics import RateMetrics
from signproxy.ratelimit.stage import BackOff, Budgets, RateBudget
from signproxy.ratelimit.window import SlidingLog, Taken, worker_share

if TYPE_CHECKING:
    from collections.abc import Sequence

    from prometheus_client import CollectorRegistry

    from signproxy.proxy.selection import Selector
    from signproxy.ratelimit.draws import Draw
    from signproxy.settings.config import Settings
    from signproxy.state.redis import RedisLink
    from signproxy.upstream.client import Upstream
    from signproxy.upstream.clock import Clock


class LocalBudgets:
    """The in-process store behind the :class:`~.stage.Budgets` interface."""

    def __init__(self, log: SlidingLog) -> None:
        """Keep budgets in ``log``."""
        self._log = log

    def limit_of(self, draw: Draw) -> int:
        """This process's share of ``draw``'s limit."""
        return self._log.limit_of(draw)

    async def take(self, draws: Sequence[Draw]) -> Taken:
        """Take every draw or none."""
        return self._log.take(draws)

    async def hold(self, key: str, ms: float) -> None:
        """Let nothing through ``key`` for ``ms``."""
        self._log.hold(key, ms)


@dataclass(frozen=True, slots=True)
class RateLimiting:
    """What :func:`build` made: the stage for both pipelines, the observer, the reader."""

    stage: RateBudget
    backoff: BackOff
    reader: AccountLimitReader
    budgets: Budgets


def build(  # noqa: PLR0913 - the application's collaborators, all keyword-only
    settings: Settings,
    *,
    link: RedisLink | None,
    registry: CollectorRegistry,
    selector: Selector,
    upstream: Upstream,
    clock: Clock,
    worker: tuple[int, int] = (0, 1),
) -> RateLimiting | None:
    """Everything the rate budgets need, or None when ``SIGNPROXY_RATE_LIMITS=off``."""
    rates = settings.rates
    if not rates.enabled:
        return None
    metrics = RateMetrics(registry)
    local = SlidingLog(margin_ms=rates.margin_ms, share=worker_share(*worker))
    budgets: Budgets
    if link is None:
        budgets = LocalBudgets(local)
    else:
        from signproxy.ratelimit.redis_store import RedisBudgets  # noqa: PLC0415 - redis-py (~7 MB) only with Redis

        budgets = RedisBudgets(link, local, margin_ms=rates.margin_ms, on_fallback=metrics.fallback)
    limits = SubAccountLimits()
    stage = RateBudget(budgets, rates, metrics, limits, selector)
    reader = AccountLimitReader(
        limits=limits, selector=selector, upstream=upstream, clock=clock, budgets=budgets
    )
    return RateLimiting(stage, BackOff(budgets, metrics, rates.margin_ms), reader, budgets)
