"""The aiohttp application factory: wiring only, no request logic."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from signproxy.commands.health import HEALTH_PATH
from signproxy.once.kit import OrderSafety
from signproxy.ops.readiness import clock_check
from signproxy.ops.routes import Operations
from signproxy.proxy.guard import Guard
from signproxy.proxy.handler import ProxyHandler
from signproxy.proxy.middleware import make_middleware
from signproxy.proxy.outcome import Outcomes
from signproxy.proxy.pipeline import Pipeline
from signproxy.proxy.selection import PATH_PREFIX, Selector
from signproxy.proxy.stages import rest_stages, ws_order_stages
from signproxy.ratelimit import setup as rate_limiting
from signproxy.runtime.memory import trim_soon
from signproxy.runtime.shutdown import Draining
from signproxy.runtime.workers import current_worker
from signproxy.settings.config import Settings
from signproxy.switches.board import SWITCHES
from signproxy.switches.board import build as build_switchboard
from signproxy.switches.routes import OPERATOR_PATHS, SwitchRoutes
from signproxy.upstream.client import Upstream
from signproxy.upstream.held import HeldBytes
from signproxy.upstream.inflight import InFlight
from signproxy.upstream.okx_clock import OkxClock
from signproxy.upstream.time_slots import TimeSlots
from signproxy.upstream.warm import Warmer
from signproxy.ws.accounts import ws_account_selector
from signproxy.ws.policy import policy_check
from signproxy.ws.relay import CHANNEL_ROUTE, WebSocketRelay

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from signproxy.state.redis import RedisLink
    from signproxy.upstream.clock import Clock

SETTINGS = web.AppKey("signproxy.settings", Settings)
UPSTREAM = web.AppKey("signproxy.upstream", Upstream)
WS_RELAY = web.AppKey("signproxy.ws_relay", WebSocketRelay)
# The clock kept in step with OKX (offset_ms, measured); absent when a clock was injected.
OKX_CLOCK = web.AppKey("signproxy.okx_clock", OkxClock)
INFLIGHT = web.AppKey("signproxy.inflight", InFlight)
# Keeps a connection per upstream host open (absent with SIGNPROXY_UPSTREAM_KEEP_WARM=0).
WARMER = web.AppKey("signproxy.warmer", Warmer)
SELECTOR = web.AppKey("signproxy.selector", Selector)
PIPELINE = web.AppKey("signproxy.pipeline", Pipeline)
OUTCOMES = web.AppKey("signproxy.outcomes", Outcomes)
ORDER_SAFETY = web.AppKey("signproxy.order_safety", OrderSafety)
# Only with SIGNPROXY_REDIS_URL: features look it up with app.get(REDIS).
REDIS: web.AppKey[RedisLink] = web.AppKey("signproxy.redis")
# Unless SIGNPROXY_RATE_LIMITS=off: the rate budgets' stage, observer and accRateLimit reader.
RATES = web.AppKey("signproxy.rates", rate_limiting.RateLimiting)
# Answer bytes held for clients, process-wide (one app per process): OKX answers being read and
# answers waiting in the sockets of clients that do not read (the connection gate's share).
HELD = web.AppKey("signproxy.held", HeldBytes)
DRAINING = web.AppKey("signproxy.draining", Draining)


def create_app(settings: Settings, *, clock: Clock | None = None) -> web.Application:
    """Build the proxy application for ``settings``.

    The upstream session is opened on startup and closed on cleanup. ``clock`` defaults to an
    :class:`OkxClock` that measures its offset to OKX at startup and every
    ``SIGNPROXY_CLOCK_SYNC_INTERVAL`` seconds; tests pass another to sign with a fixed time.
    Serve it with :func:`signproxy.runtime.serve.make_runner`: the server must never cancel a
    handler whose client left, so an order on its way to OKX is never cut off by the client.
    """
    held = HeldBytes(settings.limits.max_held_bytes, on_empty=trim_soon)
    upstream = Upstream(
        settings.upstream,
        connect_timeout=settings.connect_timeout,
        request_timeout=settings.request_timeout,
        max_response_bytes=settings.max_response_bytes,
        get_retries=settings.get_retries,
        idle_timeout=settings.upstream_idle_timeout,
        held=held,
    )
    # The time endpoint's limit is per IP: the clock and the ready probe share this worker's slots.
    slots = TimeSlots(*current_worker())
    ops = Operations(settings, upstream, slots)
    guard = Guard(
        settings.access,
        token_exempt_paths=frozenset({HEALTH_PATH, *OPERATOR_PATHS}),
        operator_tokens=settings.switches.operator_tokens,
    )
    outcomes = Outcomes(ops.observer)
    app = web.Application(middlewares=[make_middleware(outcomes, guard)])
    app[OUTCOMES] = outcomes
    app[SETTINGS] = settings
    app[UPSTREAM] = upstream
    app[HELD] = held
    app[DRAINING] = Draining()
    app.on_response_prepare.append(app[DRAINING].on_response_prepare)
    app.cleanup_ctx.append(_upstream_session)
    # One clock for REST and WebSocket signing, so both use the same OKX offset correction.
    if clock is None:
        clock = app[OKX_CLOCK] = OkxClock(
            upstream, interval=settings.clock_sync_interval, slots=slots
        )
        app.cleanup_ctx.append(_clock_sync)
        ops.readiness.add("clock", clock_check(app[OKX_CLOCK]))
        ops.metrics.watch_clock(lambda: (app[OKX_CLOCK].offset_ms, app[OKX_CLOCK].measured))
    app[INFLIGHT] = InFlight()
    link = _redis(app, settings, ops)
    once = app[ORDER_SAFETY] = OrderSafety(settings, upstream, clock, link)
    once.observe(outcomes)
    app.cleanup_ctx.append(once.lifecycle)
    # Last in, first out: exchanges drain (and are journalled) before the journal and Redis close.
    app.cleanup_ctx.append(_drain)
    selector = app[SELECTOR] = Selector(settings.accounts)  # swapped by a reload (SIGHUP)
    _keep_connections_warm(app, upstream, selector, slots)
    rates = rate_limiting.build(
        settings,
        link=link,
        registry=ops.metrics.registry,
        selector=selector,
        upstream=upstream,
        clock=clock,
        worker=current_worker(),
    )
    if rates is not None:
        app[RATES] = rates
        outcomes.add(rates.backoff)
        app.cleanup_ctx.append(_account_limits)
    switches = app[SWITCHES] = build_switchboard(settings, selector, upstream, clock, link)
    pipeline = app[PIPELINE] = Pipeline(
        rest_stages(
            settings,
            selector=selector,
            upstream=upstream,
            clock=clock,
            inflight=app[INFLIGHT],
            on_timestamp_expired=clock.timestamp_rejected if isinstance(clock, OkxClock) else None,
            rate_budget=None if rates is None else rates.stage,
            switches=switches,
            order_safety=once,
        )
    )
    handler = ProxyHandler(pipeline)
    op_check = policy_check(settings.access.policy)
    relay = WebSocketRelay(
        settings,
        clock,
        op_check=op_check,
        select_account=ws_account_selector(settings, selector),
        order_stages=ws_order_stages(
            settings,
            rate_budget=None if rates is None else rates.stage,
            switches=switches,
            clock=clock,
            order_safety=once,
        ),
        outcomes=outcomes,
        seen=switches.deadman.seen,
    )
    app[WS_RELAY] = relay
    app.cleanup_ctx.append(_ws_session)
    app.on_shutdown.append(relay.shutdown)
    ops.metrics.watch_websockets(lambda: relay.active_connections)
    ops.install(app)  # the /-/ routes, before the catch-all
    switches.install(app, ops)
    SwitchRoutes(switches).install(app)
    app.router.add_get(CHANNEL_ROUTE, relay.handle)
    app.router.add_get(PATH_PREFIX + "{account}" + CHANNEL_ROUTE, relay.handle)
    app.router.add_route("*", "/{tail:.*}", handler.handle)
    return app


async def _upstream_session(app: web.Application) -> AsyncIterator[None]:
    await app[UPSTREAM].start()
    yield
    await app[UPSTREAM].close()


def _redis(app: web.Application, settings: Settings, ops: Operations) -> RedisLink | None:
    """The Redis link (only with ``SIGNPROXY_REDIS_URL``), with its readiness check and gauge."""
    if settings.redis_url is None:
        return None
    from signproxy.state.redis import RedisLink  # noqa: PLC0415 - redis-py (~7 MB) only with Redis

    link = app[REDIS] = RedisLink(settings.redis_url)
    app.cleanup_ctx.append(_redis_link)
    ops.readiness.add("redis", link.check)
    ops.metrics.watch_redis(lambda: link.available)
    return link


async def _redis_link(app: web.Application) -> AsyncIterator[None]:
    await app[REDIS].start()
    yield
    await app[REDIS].stop()


async def _account_limits(app: web.Application) -> AsyncIterator[None]:
    reader = app[RATES].reader
    reader.start()
    yield
    await reader.stop()


async def _ws_session(app: web.Application) -> AsyncIterator[None]:
    await app[WS_RELAY].start()
    yield
    await app[WS_RELAY].close()


async def _clock_sync(app: web.Application) -> AsyncIterator[None]:
    await app[OKX_CLOCK].start()
    yield
    await app[OKX_CLOCK].stop()


def _keep_connections_warm(
    app: web.Application, upstream: Upstream, selector: Selector, slots: TimeSlots
) -> None:
    settings = app[SETTINGS]
    if not settings.upstream_keep_warm:
        return
    app[WARMER] = Warmer(
        upstream,
        lambda: (account.upstream for account in selector.accounts),
        idle_timeout=settings.upstream_idle_timeout,
        slots=slots,
        # The clock's first measurement (before the warmer starts) opened this one.
        opened_elsewhere=(
            (settings.upstream,) if OKX_CLOCK in app and settings.clock_sync_interval > 0 else ()
        ),
    )
    app.cleanup_ctx.append(_keep_warm)


async def _keep_warm(app: web.Application) -> AsyncIterator[None]:
    await app[WARMER].start()
    yield
    await app[WARMER].stop()


async def _drain(app: web.Application) -> AsyncIterator[None]:
    yield
    # Exchanges whose client left still finish (and are logged) before the session closes.
    await app[INFLIGHT].drain(app[SETTINGS].shutdown_grace)
