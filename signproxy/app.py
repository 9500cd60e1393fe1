"""The aiohttp application factory: wiring only, no request logic."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from signproxy.clock import Clock, SystemClock
from signproxy.config import Settings
from signproxy.guard import make_guard
from signproxy.handler import ProxyHandler
from signproxy.middleware import make_middleware
from signproxy.selection import Selector
from signproxy.upstream import Upstream

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

SETTINGS = web.AppKey("signproxy.settings", Settings)
UPSTREAM = web.AppKey("signproxy.upstream", Upstream)
SELECTOR = web.AppKey("signproxy.selector", Selector)


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
    app = web.Application(middlewares=[make_middleware(), make_guard(settings.access)])
    app[SETTINGS] = settings
    app[UPSTREAM] = upstream
    app.cleanup_ctx.append(_upstream_session)
    app[SELECTOR] = Selector(settings.accounts)  # swapped by a reload (SIGHUP)
    handler = ProxyHandler(settings, upstream, clock or SystemClock(), app[SELECTOR])
    app.router.add_route("*", "/{tail:.*}", handler.handle)
    return app


async def _upstream_session(app: web.Application) -> AsyncIterator[None]:
    await app[UPSTREAM].start()
    yield
    await app[UPSTREAM].close()
