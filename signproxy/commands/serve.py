"""``signproxy serve``: the proxy, in front of OKX or (``--emulator``) of a bundled emulator.

:func:`run_serve` validates the settings, then runs one process or forks workers; with
``--emulator`` it makes throwaway keys, starts the emulator on a free loopback port and points
the proxy at it. Returns the process exit status; configuration problems (including an address
that cannot be listened on) raise :class:`~signproxy.errors.ConfigError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog
from aiohttp import web

from signproxy.commands.environment import read_environment, watched_env_file
from signproxy.emulator import create_emulator_app
from signproxy.emulator.keys import throwaway_key
from signproxy.runtime.connections import raise_fd_limit
from signproxy.runtime.loop import run
from signproxy.runtime.serve import serve
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
    from collections.abc import Mapping
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


def run_serve(env: Mapping[str, str], options: ServeOptions, redactor: Redactor) -> int:
    """Serve until SIGTERM/SIGINT; the exit status."""
    log = structlog.get_logger("signproxy")
    raise_fd_limit()  # before any fork: the workers inherit it
    if options.emulator:
        return _run_with_emulator(env, options, redactor, log)
    settings = Settings.from_env(env, host=options.host, port=options.port)
    redactor.set_secrets(settings.sensitive_values())
    env_file = watched_env_file(options.env_file)
    reload = (lambda: read_environment(options.env_file), env_file, redactor)
    if settings.workers > 1:
        return run_workers(settings.workers, lambda: run(serve(settings, log, reload=reload)))
    run(serve(settings, log, reload=reload))
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
        await serve(settings, log, emulator=True, reload=(lambda: env, None, redactor))
    finally:
        await emulator.cleanup()
