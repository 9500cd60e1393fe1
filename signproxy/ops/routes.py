"""The operator endpoints under ``/-/`` (no OKX path can start so): health, readiness, metrics.

They are ordinary routes behind the same middleware as the proxy, so they get a request id, a
canonical log line, metrics, and whatever access checks the middleware applies.

The upstream readiness check is fed two ways: every proxied request's outcome (from its log
fields), and, when ``/-/ready`` is asked and OKX was not heard from for
``SIGNPROXY_UPSTREAM_CHECK_INTERVAL`` seconds, an unsigned ``GET /api/v5/public/time``. So an
idle proxy sends OKX at most one probe per interval, and only while something asks if it is
ready; a busy one sends none.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

import structlog
from aiohttp import web
from prometheus_client import generate_latest

from signproxy.commands.health import HEALTH_PATH
from signproxy.errors import MethodNotAllowed, UpstreamError
from signproxy.ops.metrics import Metrics
from signproxy.ops.readiness import (
    READINESS,
    Readiness,
    UpstreamHealth,
    configuration_loaded,
    local_clock,
)
from signproxy.tasks import cancel_and_wait
from signproxy.upstream.time_slots import TimeSlots

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from signproxy.proxy.record import Exchange
    from signproxy.settings.config import Settings
    from signproxy.upstream.client import Upstream

READY_PATH = "/-/ready"
METRICS_PATH = "/-/metrics"
PROBE_TARGET = "/api/v5/public/time"  # public: no signature, tiny answer, rate limit 10 per 2 s
READY_WAIT_SECONDS = 2.0  # how long /-/ready waits for a probe before answering what it knows
RETRY_FAILED_SECONDS = 5.0  # after a failure, probe again sooner than the interval
# The classic Prometheus text format, which every scraper reads.
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"

METRICS = web.AppKey("signproxy.metrics", Metrics)
UPSTREAM_HEALTH = web.AppKey("signproxy.upstream_health", UpstreamHealth)


class _Observer:
    """What the middleware tells about each request: metrics and the upstream's last outcome."""

    __slots__ = ("_health", "_metrics")

    def __init__(self, metrics: Metrics, health: UpstreamHealth) -> None:
        self._metrics = metrics
        self._health = health

    def request_started(self) -> None:
        self._metrics.request_started()

    def request_finished(self, exchange: Exchange) -> None:
        self._metrics.request_finished(exchange)
        self._health.observe(exchange)


class Operations:
    """Builds the metrics, the readiness checks and the ``/-/`` routes for one application."""

    def __init__(
        self, settings: Settings, upstream: Upstream, slots: TimeSlots | None = None
    ) -> None:
        """Create the per-app registry and the default checks: config, clock, upstream.

        ``slots``: the process's share of OKX's time endpoint, which the probe also asks.
        """
        self._slots = slots or TimeSlots()
        self.metrics = Metrics(fixed_routes=(HEALTH_PATH, READY_PATH, METRICS_PATH))
        self.readiness = Readiness()
        self.upstream_health = UpstreamHealth()
        self.readiness.add("config", configuration_loaded(len(settings.warnings)))
        self.readiness.add("clock", local_clock)
        self.readiness.add("upstream", self.upstream_health.check)
        self.metrics.watch_readiness(self.readiness.is_ready)
        self.observer = _Observer(self.metrics, self.upstream_health)
        self._upstream = upstream
        self._interval = float(settings.upstream_check_interval)
        self._probe: asyncio.Task[None] | None = None
        self._log = structlog.get_logger("signproxy")

    def install(self, app: web.Application) -> None:
        """Add the routes (call before the proxy's catch-all route) and the app keys."""
        app[METRICS] = self.metrics
        app[READINESS] = self.readiness
        app[UPSTREAM_HEALTH] = self.upstream_health
        for path, handler in (
            (HEALTH_PATH, self._health),
            (READY_PATH, self._ready),
            (METRICS_PATH, self._metrics),
        ):
            app.router.add_get(path, handler)
            app.router.add_route("*", path, _wrong_method)
        app.cleanup_ctx.append(self._lifetime)

    async def _health(self, _request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def _ready(self, _request: web.Request) -> web.Response:
        await self._refresh_upstream()
        ready, results = self.readiness.evaluate()
        checks = {name: {"ok": ok, "detail": detail} for name, (ok, detail) in results.items()}
        return web.json_response({"ready": ready, "checks": checks}, status=200 if ready else 503)

    async def _metrics(self, _request: web.Request) -> web.Response:
        return web.Response(
            body=generate_latest(self.metrics.registry), headers={"Content-Type": PROMETHEUS_TEXT}
        )

    async def _refresh_upstream(self) -> None:
        last, age = self.upstream_health.last, self.upstream_health.age()
        if last is not None and age is not None:
            fresh_for = self._interval if last.ok else min(RETRY_FAILED_SECONDS, self._interval)
            if age < fresh_for:
                return
        if self._probe is None or self._probe.done():
            self._probe = asyncio.create_task(self._probe_upstream())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._probe), READY_WAIT_SECONDS)

    async def _probe_upstream(self) -> None:
        try:
            answer = await self._slots.run(
                lambda: self._upstream.send(
                    "GET", PROBE_TARGET, {"Accept": "application/json"}, b"", retries=0
                )
            )
        except UpstreamError as exc:
            outcome = self.upstream_health.record(ok=False, detail=f"{exc.code}: {exc.message}")
        except Exception as exc:  # noqa: BLE001 - a bug here must read "not ready", not crash
            self._log.exception("signproxy.upstream_probe_failed")
            outcome = self.upstream_health.record(
                ok=False, detail=f"probe failed: {type(exc).__name__}"
            )
        else:
            outcome = self.upstream_health.record_answer(answer.status)
        self._log.info("signproxy.upstream_probe", ok=outcome.ok, detail=outcome.detail)

    async def _lifetime(self, _app: web.Application) -> AsyncIterator[None]:
        yield
        probe = self._probe
        if probe is not None and not probe.done():
            await cancel_and_wait(probe)


async def _wrong_method(_request: web.Request) -> web.StreamResponse:
    raise MethodNotAllowed("the /-/ endpoints take GET only")
