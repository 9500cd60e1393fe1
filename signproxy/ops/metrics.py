"""Prometheus metrics: one registry per application, recorded once per request.

Everything is derived from the request's finished record (:class:`~signproxy.proxy.record.
Exchange`), at the moment its log line is written, so a request costs a few attribute reads and
increments.

Label values are bounded and identify nothing secret, whatever clients or the upstream send:

- route: one of the proxy's own ``/-/`` paths, or an OKX path that OKX itself answered with a
  success envelope (code 0, 1 or 2, status below 400: the endpoint exists; never the query,
  where ids live), up to :data:`MAX_ROUTES`; a path a client made up is ``(other)``;
- code: the proxy's ``SPXnnn`` (a fixed set) or one of :data:`KNOWN_OKX_CODES`; any other code
  is ``(other)`` (the log line has the exact code);
- status: one of :data:`KNOWN_STATUSES`, else its class (``2xx`` ... ``5xx``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector

from signproxy import __version__
from signproxy.errors import ErrorKind

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from signproxy.proxy.record import Exchange

OTHER = "(other)"
MAX_ROUTES = 300  # OKX's v5 REST API has fewer endpoints than this
LATENCY_BUCKETS = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
)
# OKX's codes a dashboard needs by name (okx-facts.md): success and batch outcomes, the general
# and rate-limit codes, authentication, and the order codes bots meet most.
KNOWN_OKX_CODES = frozenset(
    {"0", "1", "2"}
    | {str(code) for code in range(50000, 50015)}
    | {"50026", "50030", "50036", "50038", "50061"}
    | {str(code) for code in range(50100, 50121)}
    | {"51000", "51008", "51174", "51603"}
)
KNOWN_STATUSES = frozenset({200, 400, 401, 403, 404, 405, 413, 415, 429, 500, 502, 503, 504})
_API_ROUTE = re.compile(r"/api/v5(?:/[A-Za-z0-9_-]{1,64}){1,8}")
_SUCCESS_CODES = frozenset({"0", "1", "2"})  # all, none or some of a batch succeeded
_SPX_CODE = re.compile(r"SPX[0-9]{3}")
_METHODS = frozenset({"GET", "POST", "HEAD"})
_UPSTREAM_KINDS = {
    "SPX300": "unreachable",
    "SPX301": "disconnected",
    "SPX302": "timeout",
    "SPX303": "bad_response",
    "SPX304": "answer_not_held",
    "SPX310": "cut_off",
}


class Metrics:
    """The proxy's metrics in a registry of its own (so many apps in one process never collide).

    Attributes:
        registry: what ``/-/metrics`` renders.
        in_flight: requests being handled now (the scrape that reads it included).
    """

    def __init__(self, fixed_routes: Iterable[str] = ()) -> None:
        """Create every metric; ``fixed_routes`` (e.g. ``/-/health``) are labelled as they are."""
        self.registry = CollectorRegistry(auto_describe=True)
        self.in_flight = 0
        registry = self.registry
        self._requests = Counter(
            "signproxy_requests",
            "Requests answered, by method, route (OKX path), HTTP status and OKX or SPX code.",
            ("method", "route", "status", "code"),
            registry=registry,
        )
        self._duration = Histogram(
            "signproxy_request_duration_seconds",
            "Time from receiving a request to answering it.",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self._upstream_duration = Histogram(
            "signproxy_upstream_duration_seconds",
            "Time of the exchange with OKX, for requests that got OKX's answer.",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self._upstream_errors = Counter(
            "signproxy_upstream_errors",
            "Requests that failed between the proxy and OKX, by kind.",
            ("kind",),
            registry=registry,
        )
        self._refused = Counter(
            "signproxy_refused",
            "Requests the proxy refused without sending them, by SPX code and policy rule.",
            ("code", "rule"),
            registry=registry,
        )
        self._resolved = Counter(
            "signproxy_orders_resolved",
            "Placing requests whose unknown outcome was looked up, by what was found.",
            ("outcome",),
            registry=registry,
        )
        self._replayed = Counter(
            "signproxy_orders_replayed",
            "Retries answered from their first attempt instead of being sent.",
            registry=registry,
        )
        self._clock_offset = Gauge(
            "signproxy_clock_offset_seconds",
            "OKX's clock minus the local clock, as used for signing timestamps.",
            registry=registry,
        )
        self._clock_measured = Gauge(
            "signproxy_clock_offset_measured",
            "1 when the clock offset was measured against OKX, 0 when the local clock is used.",
            registry=registry,
        )
        Gauge(
            "signproxy_requests_in_flight", "Requests being handled now.", registry=registry
        ).set_function(lambda: self.in_flight)
        self._websockets = Gauge(
            "signproxy_websocket_connections", "Open WebSocket connections.", registry=registry
        )
        self._ready = Gauge(
            "signproxy_ready", "1 when /-/ready answers 200 (as last evaluated).", registry=registry
        )
        self._redis_up = Gauge(
            "signproxy_redis_up",
            "1 while Redis is reachable, 0 while the proxy runs on in-process state.",
            registry=registry,
        )
        Gauge(
            "signproxy_build_info", "The running version.", ("version",), registry=registry
        ).labels(__version__).set(1)
        ProcessCollector(registry=registry)
        self._fixed_routes = frozenset(fixed_routes)
        self._api_routes: set[str] = set()
        self._request_counters: dict[tuple[str, str, str, str], Counter] = {}

    def request_started(self) -> None:
        """Count a request in flight (the middleware calls this first)."""
        self.in_flight += 1

    def request_finished(self, exchange: Exchange) -> None:
        """Record one finished request from its record."""
        self.in_flight -= 1
        status = exchange.status or 0
        failure = exchange.error
        error = None if failure is None else failure.code
        key = (
            exchange.method if exchange.method in _METHODS else OTHER,
            self._route(exchange.path or exchange.raw_path, exchange.okx_code, status),
            _status(status),
            _code(exchange.okx_code, error),
        )
        counter = self._request_counters.get(key)
        if counter is None:
            counter = self._request_counters[key] = self._requests.labels(*key)
        counter.inc()
        if exchange.total_ms is not None:
            self._duration.observe(exchange.total_ms / 1000)
        if exchange.upstream_ms is not None:
            self._upstream_duration.observe(exchange.upstream_ms / 1000)
        if exchange.resolved is not None:  # placed, not-placed, partial or unknown
            self._resolved.labels(exchange.resolved).inc()
        if exchange.replayed:
            self._replayed.inc()
        if failure is None or error is None:
            return
        if failure.kind is ErrorKind.UPSTREAM:
            self._upstream_errors.labels(_UPSTREAM_KINDS.get(error, OTHER)).inc()
        elif status < 500:  # noqa: PLR2004 - a 4xx the proxy made itself: a refusal
            self._refused.labels(_spx(error), (exchange.rule or "")[:64]).inc()

    def watch_clock(self, source: Callable[[], tuple[float, bool]]) -> None:
        """Make the clock gauges follow ``source()``: (OKX minus local in ms, measured)."""
        self._clock_offset.set_function(lambda: source()[0] / 1000)
        self._clock_measured.set_function(lambda: 1.0 if source()[1] else 0.0)

    def watch_websockets(self, count: Callable[[], int]) -> None:
        """Make ``signproxy_websocket_connections`` follow ``count`` (evaluated at each scrape)."""
        self._websockets.set_function(count)

    def watch_redis(self, available: Callable[[], bool]) -> None:
        """Make ``signproxy_redis_up`` follow ``available`` (evaluated at each scrape)."""
        self._redis_up.set_function(lambda: 1.0 if available() else 0.0)

    def watch_readiness(self, is_ready: Callable[[], bool]) -> None:
        """Make ``signproxy_ready`` follow ``is_ready`` (evaluated at each scrape)."""
        self._ready.set_function(lambda: 1.0 if is_ready() else 0.0)

    def _route(self, path: str, okx_code: str | None, status: int) -> str:
        if path in self._api_routes or path in self._fixed_routes:
            return path
        # Learned only from OKX's own answer: a made-up path gets OKX's 404, never a label.
        if (
            len(self._api_routes) < MAX_ROUTES
            and okx_code in _SUCCESS_CODES
            and status < 400  # noqa: PLR2004
            and _API_ROUTE.fullmatch(path)
        ):
            self._api_routes.add(path)
            return path
        return OTHER


def _code(code: str | None, error: str | None) -> str:
    if error is not None:
        return _spx(error)
    if code is None:
        return ""
    return code if code in KNOWN_OKX_CODES else OTHER


def _spx(code: str) -> str:
    return code if _SPX_CODE.fullmatch(code) else OTHER


def _status(status: int) -> str:
    return str(status) if status in KNOWN_STATUSES else f"{status // 100}xx"
