"""Serving the proxy: the runner every server of the app uses, and ``signproxy serve``'s loop.

:func:`make_runner` is the one way the app is served, in production and in tests: aiohttp never
cancels a handler whose client left (``handler_cancellation=False``), so an exchange on its way
to OKX runs inline in its handler's task and always finishes (see
:mod:`signproxy.upstream.inflight`).
"""

from __future__ import annotations

import asyncio
import os
import resource
import signal
from typing import TYPE_CHECKING, Any

from aiohttp import web

from signproxy import __version__
from signproxy.proxy.app import DRAINING, HELD, INFLIGHT, SELECTOR, WS_RELAY, create_app
from signproxy.runtime.collector import settle
from signproxy.runtime.connections import ConnectionGate, connection_cap
from signproxy.runtime.listen import start_listener
from signproxy.runtime.loop import loop_name
from signproxy.runtime.reload import Reloader, reloading
from signproxy.runtime.shutdown import HANDLER_FINISH_S, graceful_stop
from signproxy.switches.board import SWITCHES

if TYPE_CHECKING:
    import socket
    from collections.abc import Callable
    from pathlib import Path

    import structlog

    from signproxy.runtime.logs import Redactor
    from signproxy.settings.config import Settings


def make_runner(app: web.Application, **kwargs: Any) -> web.AppRunner:  # noqa: ANN401
    """An :class:`aiohttp.web.AppRunner` for the proxy app; handlers are never cancelled."""
    options: dict[str, Any] = {"access_log": None, "shutdown_timeout": HANDLER_FINISH_S}
    options.update(kwargs)
    options["handler_cancellation"] = False
    return web.AppRunner(app, **options)


async def serve(
    settings: Settings,
    log: structlog.typing.FilteringBoundLogger,
    *,
    emulator: bool = False,
    reload: tuple[Callable[[], dict[str, str]], Path | None, Redactor] | None = None,
    unix_sock: socket.socket | None = None,
) -> None:
    """Serve ``settings`` until SIGTERM or SIGINT, then stop gracefully (drain, close).

    ``reload`` is (read the variables, the env file to watch, the redactor) for SIGHUP and file
    watch rotation; ``emulator`` says the upstream is the bundled emulator (for the log);
    ``unix_sock`` is the listening Unix socket to serve too (bound by the caller, shared by
    every worker: :mod:`signproxy.runtime.unix`).
    """
    for warning in settings.warnings:
        log.warning("signproxy.config_warning", problem=warning)
    # Registered before startup (which may wait for the first clock measurement), so a signal
    # that comes early still means a clean stop.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    # Until the reloader takes SIGHUP over (once started), a rotation signal must not end the
    # process, which is SIGHUP's default action.
    loop.add_signal_handler(
        signal.SIGHUP, lambda: log.warning("signproxy.reload_skipped", reason="still starting")
    )
    app = create_app(settings)
    if reload is not None:
        read_env, env_file, redactor = reload
        reloader = Reloader(
            read_env,
            settings,
            app[SELECTOR],
            redactor,
            env_file,
            on_reload=(app[SWITCHES].reloaded,),
        )
        app.cleanup_ctx.append(reloading(reloader, settings.watch_interval))
    runner = make_runner(app, keepalive_timeout=settings.limits.keepalive_timeout)
    await runner.setup()
    assert runner.server is not None  # noqa: S101 - set by setup()
    fd_limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    gate = ConnectionGate(
        runner.server,
        settings.limits,
        app[HELD],
        cap=connection_cap(
            settings.limits.max_client_connections, fd_limit, settings.ws_max_connections
        ),
    )
    # Several workers share the port; the kernel spreads connections across them.
    listener = await start_listener(
        runner, gate, settings.host, settings.port, reuse_port=settings.workers > 1
    )
    host, port = listener.sockets[0].getsockname()[:2]
    listeners = [listener]
    if unix_sock is not None:  # behind the same gate: one connection cap for both
        listeners.append(await loop.create_server(gate, sock=unix_sock, backlog=1024))
    settle()  # start-up is over: what it made stays for good (runtime/collector.py)
    log.info(
        "signproxy.listening",
        url=f"http://{host}:{port}",
        unix_socket=settings.unix_socket.path if settings.unix_socket else None,
        upstream=settings.upstream,
        accounts={
            account.name: "demo" if account.demo else "live" for account in settings.accounts
        },
        read_only=settings.access.policy.read_only,
        body_mode=settings.body_mode,
        emulator=emulator,
        version=__version__,
        event_loop=loop_name(),
        pid=os.getpid(),
        max_client_connections=gate.cap,
        fd_limit=fd_limit,
    )
    for account in settings.accounts:  # allowed by SIGNPROXY_ALLOW_CUSTOM_UPSTREAM; said out loud
        if not account.official and not emulator:  # --emulator's own upstream is no surprise
            log.warning(
                "signproxy.custom_upstream", account=account.name, upstream=account.upstream
            )
    await stop.wait()
    await graceful_stop(
        runner,
        app[INFLIGHT],
        settings.shutdown_grace,
        log,
        close_websockets=app[WS_RELAY].shutdown,
        listeners=tuple(listeners),
        draining=app[DRAINING],
    )
