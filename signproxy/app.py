"""The aiohttp application factory: wiring only, no request logic."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from signproxy.clock import Clock, SystemClock
from signproxy.config import Settings
from signproxy.guard import make_guard
from signproxy.handler import ProxyHandler
from signproxy.middleware import make_middleware
from signproxy.ops import HEALTH_PATH, Operations
from signproxy.upstream import Upstream
from signproxy.ws.policy import allow_all, refuse_writes
from signproxy.ws.relay import CHANNEL_ROUTE, WebSocketRelay

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

SETTINGS = web.AppKey("signproxy.settings", Settings)
UPSTREAM = web.AppKey("signproxy.upstream", Upstream)
WS_RELAY = web.AppKey("signproxy.ws_relay", WebSocketRelay)


def create_app(settings: Settings, *, clock: Clock | None = None) -> web.Application:
    """Build the proxy application for ``settings``.

    The upstream session is opened on startup and closed on cleanup. ``clock`` defaults to the
    local clock; tests and the clock-offset correction pass another.
    """
    upstream = Upstream(
        settings.upstream,
        connect_timeout=settings.connect_timeout,
        request_timeout=settings.request_timeout,
        max_response_bytes=settings.max_response_bytes,
    )
    ops = Operations(settings, upstream)
    guard = make_guard(settings.access, token_exempt_paths=frozenset({HEALTH_PATH}))
    app = web.Application(middlewares=[make_middleware(ops.observer), guard])
    app[SETTINGS] = settings
    app[UPSTREAM] = upstream
    app.cleanup_ctx.append(_upstream_session)
    # One clock for REST and WebSocket signing, so both use the same OKX offset correction.
    clock = clock or SystemClock()
    handler = ProxyHandler(settings, upstream, clock)
    op_check = refuse_writes if settings.access.policy.read_only else allow_all
    relay = WebSocketRelay(settings, clock, op_check=op_check)
    app[WS_RELAY] = relay
    app.cleanup_ctx.append(_ws_session)
    app.on_shutdown.append(relay.shutdown)
    ops.metrics.watch_websockets(lambda: relay.active_connections)
    ops.install(app)  # the /-/ routes, before the catch-all
    app.router.add_get(CHANNEL_ROUTE, relay.handle)
    app.router.add_route("*", "/{tail:.*}", handler.handle)
    return app


async def _upstream_session(app: web.Application) -> AsyncIterator[None]:
    await app[UPSTREAM].start()
    yield
    await app[UPSTREAM].close()


async def _ws_session(app: web.Application) -> AsyncIterator[None]:
    await app[WS_RELAY].start()
    yield
    await app[WS_RELAY].close()
