"""``signproxy serve``: the proxy, in front of OKX or (``--emulator``) of a bundled emulator.

:func:`run_serve` validates the settings, then runs one process or forks workers; with
``--emulator`` it makes throwaway keys, starts the emulator on a free loopback port and points
the proxy at it. Returns the process exit status; configuration problems (including an address
that cannot be listened on) raise :class:`~signproxy.errors.ConfigError`.
"""

from __future__ import annotations

import asyncio
import os
import signal
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog
from aiohttp import web

from signproxy import __version__
from signproxy.commands.environment import read_environment, watched_env_file
from signproxy.commands.listen import start_site
from signproxy.emulator import create_emulator_app
from signproxy.emulator.keys import throwaway_key
from signproxy.proxy.app import INFLIGHT, SELECTOR, WS_RELAY, create_app
from signproxy.runtime.loop import loop_name, run
from signproxy.runtime.reload import Reloader, reloading
from signproxy.runtime.shutdown import HANDLER_FINISH_S, graceful_stop
from signproxy.runtime.workers import run_workers
from signproxy.settings.account_env import (
    ACCOUNT_PREFIX,
    ACCOUNTS_VARIABLE,
    ALLOW_CUSTOM_UPSTREAM_VARIABLE,
    DEFAULT_CREDENTIALS,
)
from signproxy.settings.config import Settings
from signproxy.settings.variables import FILE_SUFFIX

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from pathlib import Path

    from signproxy.emulator import EmulatedKey
    from signproxy.runtime.logs import Redactor

Log = structlog.typing.FilteringBoundLogger
# What --emulator drops from the environment: it never signs with anything real.
_REAL_ACCOUNT = (*DEFAULT_CREDENTIALS, "OKX_DEMO", "SIGNPROXY_UPSTREAM", ACCOUNTS_VARIABLE)


@dataclass(frozen=True, slots=True)
class ServeOptions:
    """``serve``'s command-line flags."""

    env_file: Path | None
    host: str | None
    port: int | None
    emulator: bool


@dataclass(frozen=True, slots=True)
class _Reload:
    read_env: Callable[[], Mapping[str, str]]
    env_file: Path | None
    redactor: Redactor


def run_serve(env: Mapping[str, str], options: ServeOptions, redactor: Redactor) -> int:
    """Serve until SIGTERM/SIGINT; the exit status."""
    log = structlog.get_logger("signproxy")
    if options.emulator:
        return _run_with_emulator(env, options, redactor, log)
    settings = Settings.from_env(env, host=options.host, port=options.port)
    redactor.set_secrets(settings.sensitive_values())
    reload = _Reload(
        lambda: read_environment(options.env_file), watched_env_file(options.env_file), redactor
    )
    if settings.workers > 1:
        return run_workers(settings.workers, lambda: run(_serve(settings, log, reload=reload)))
    run(_serve(settings, log, reload=reload))
    return 0


def _run_with_emulator(
    env: Mapping[str, str], options: ServeOptions, redactor: Redactor, log: Log
) -> int:
    key = throwaway_key()
    cleaned = {
        name: value
        for name, value in env.items()
        if name.removesuffix(FILE_SUFFIX) not in _REAL_ACCOUNT
        and not name.startswith(ACCOUNT_PREFIX)
    }
    redactor.set_secrets((key.api_key, key.secret, key.passphrase))
    run(_serve_with_emulator(cleaned, options, key, log, redactor))
    return 0


async def _serve_with_emulator(
    env: dict[str, str], options: ServeOptions, key: EmulatedKey, log: Log, redactor: Redactor
) -> None:
    emulator = web.AppRunner(create_emulator_app([key]), access_log=None)
    await emulator.setup()
    await web.TCPSite(emulator, "127.0.0.1", 0).start()
    host, port = emulator.addresses[0][:2]
    upstream = f"http://{host}:{port}"
    log.info("signproxy.emulator_started", url=upstream)
    env = {
        **env,
        "OKX_API_KEY": key.api_key,
        "OKX_API_SECRET": key.secret,
        "OKX_API_PASSPHRASE": key.passphrase,
        "SIGNPROXY_UPSTREAM": upstream,
        ALLOW_CUSTOM_UPSTREAM_VARIABLE: "1",  # the local emulator is not one of OKX's hosts
    }
    try:
        settings = Settings.from_env(env, host=options.host, port=options.port)
        redactor.set_secrets(settings.sensitive_values())
        # SIGHUP re-validates the same throwaway settings (a no-op) rather than ending the process.
        await _serve(settings, log, emulator=True, reload=_Reload(lambda: env, None, redactor))
    finally:
        await emulator.cleanup()


async def _serve(
    settings: Settings, log: Log, *, emulator: bool = False, reload: _Reload | None = None
) -> None:
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
    # No handler cancellation (stated, though it is aiohttp's default): a client that leaves
    # never cancels its request's exchange, which can then run without a task of its own.
    app = create_app(settings, cancels_handlers=False)
    if reload is not None:
        reloader = Reloader(
            reload.read_env, settings, app[SELECTOR], reload.redactor, reload.env_file
        )
        app.cleanup_ctx.append(reloading(reloader, settings.watch_interval))
    runner = web.AppRunner(
        app, access_log=None, shutdown_timeout=HANDLER_FINISH_S, handler_cancellation=False
    )
    await runner.setup()
    # Several workers share the port; the kernel spreads connections across them.
    await start_site(runner, settings.host, settings.port, reuse_port=settings.workers > 1 or None)
    host, port = runner.addresses[0][:2]
    log.info(
        "signproxy.listening",
        url=f"http://{host}:{port}",
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
    )
