"""The rate budgets' metrics, in the application's registry.

Labels are bounded: ``group`` is one row of the table (``POST trade/order``) or the sub-account
budget; ``route`` of an unlimited call is its OKX path, at most :data:`MAX_UNLIMITED` distinct
ones, then ``(other)``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge

if TYPE_CHECKING:
    from collections.abc import Sequence

    from signproxy.ratelimit.draws import Draw

MAX_UNLIMITED = 200
OTHER = "(other)"
_API_ROUTE = re.compile(r"/api/v5(?:/[A-Za-z0-9_-]{1,64}){1,8}")


class RateMetrics:
    """Waits, refusals, back-offs, remaining budget, fallbacks and unlimited calls."""

    def __init__(self, registry: CollectorRegistry) -> None:
        """Create the metrics in ``registry``."""
        self._waits = Counter(
            "signproxy_rate_waits",
            "Requests that waited for room in a rate budget, by endpoint group.",
            ("group",),
            registry=registry,
        )
        self._refusals = Counter(
            "signproxy_rate_refusals",
            "Requests refused (429) to keep OKX's rate limits, by endpoint group and SPX code.",
            ("group", "code"),
            registry=registry,
        )
        self._backoffs = Counter(
            "signproxy_rate_backoffs",
            "Budgets put on hold because OKX answered 50011 or 50061 anyway.",
            ("group", "okx_code"),
            registry=registry,
        )
        self._remaining = Gauge(
            "signproxy_rate_remaining",
            "Room left in the last budget of each endpoint group that a request drew on.",
            ("group",),
            registry=registry,
        )
        self._fallbacks = Counter(
            "signproxy_rate_fallback_decisions",
            "Budget decisions taken in-process because Redis was unreachable.",
            registry=registry,
        )
        self._unlimited = Counter(
            "signproxy_rate_unlimited",
            "Requests to endpoints the rate-limit table does not list (not limited), by route.",
            ("route",),
            registry=registry,
        )
        self._routes: set[str] = set()
        # Label lookups cost microseconds: each group's gauge is found once and kept.
        self._remaining_of: dict[str, Gauge] = {}

    def waited(self, draw: Draw) -> None:
        """A request waited for ``draw``'s budget."""
        self._waits.labels(draw.group).inc()

    def refused(self, draw: Draw, code: str) -> None:
        """A request was refused on ``draw``'s budget."""
        self._refusals.labels(draw.group, code).inc()

    def backed_off(self, draw: Draw, okx_code: str) -> None:
        """``draw``'s budget is on hold after OKX's ``okx_code``."""
        self._backoffs.labels(draw.group, okx_code).inc()

    def remaining(self, draws: Sequence[Draw], left: Sequence[int]) -> None:
        """Record what is left of each budget just drawn on."""
        for draw, room in zip(draws, left, strict=False):
            gauge = self._remaining_of.get(draw.group)
            if gauge is None:
                gauge = self._remaining_of[draw.group] = self._remaining.labels(draw.group)
            gauge.set(max(room, 0))

    def fallback(self) -> None:
        """A decision was taken in-process while Redis was down."""
        self._fallbacks.inc()

    def unlimited(self, path: str) -> None:
        """A request to an endpoint the table does not list."""
        if path not in self._routes:
            if len(self._routes) >= MAX_UNLIMITED or not _API_ROUTE.fullmatch(path):
                path = OTHER
            else:
                self._routes.add(path)
        self._unlimited.labels(path).inc()
