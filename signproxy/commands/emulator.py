"""``signproxy emulator``: only the OKX emulator, for testing a bot offline.

It accepts the configured credentials (``OKX_API_*`` and every named account), so a bot or a
proxy configured for OKX works against it unchanged but for the URL. With no credentials at all
it makes throwaway ones, like ``serve --emulator``, and prints them with how to use them.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from typing import TYPE_CHECKING

import structlog
from aiohttp import web

from signproxy.emulator import EmulatedKey, create_emulator_app
from signproxy.emulator.keys import throwaway_key
from signproxy.runtime.listen import start_site
from signproxy.settings.account_env import (
    ACCOUNTS_VARIABLE,
    ALLOW_CUSTOM_UPSTREAM_VARIABLE,
    DEFAULT_CREDENTIALS,
)
from signproxy.settings.config import Settings
from signproxy.settings.unknown import check_variables
from signproxy.settings.variables import FILE_SUFFIX

if TYPE_CHECKING:
    from collections.abc import Mapping

DEFAULT_EMULATOR_PORT = 8788


def run_emulator(env: Mapping[str, str], host: str, port: int, *, rate_limits: bool = True) -> int:
    """Serve the emulator on ``host:port`` until SIGTERM/SIGINT; the exit status.

    ``rate_limits``: enforce OKX's rate limits (50011 / 50061), as OKX does.

    Raises:
        ConfigError: invalid credentials, an unknown variable, or an address it cannot use.
    """
    log = structlog.get_logger("signproxy")
    if _has_credentials(env):
        keys = _configured_keys(env, log)
        throwaway = None
    else:
        # No credentials may be a misspelt one (OKX_API_KEYY): say so rather than make keys.
        for warning in check_variables(env, ()):
            log.warning("signproxy.config_warning", problem=warning)
        throwaway = throwaway_key()
        keys = [throwaway]

    async def serve() -> None:
        app = create_emulator_app(keys, rate_limits=rate_limits)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await start_site(runner, host, port, setting="--port")
        bound_host, bound_port = runner.addresses[0][:2]
        url = f"http://{bound_host}:{bound_port}"
        if throwaway is not None:
            _explain(throwaway, url)
        log.info("signproxy.emulator_listening", url=url, throwaway_keys=throwaway is not None)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
        await runner.cleanup()

    asyncio.run(serve())
    return 0


def _has_credentials(env: Mapping[str, str]) -> bool:
    names = (*DEFAULT_CREDENTIALS, ACCOUNTS_VARIABLE)
    return any(env.get(name) or env.get(name + FILE_SUFFIX) for name in names)


def _configured_keys(
    env: Mapping[str, str], log: structlog.typing.FilteringBoundLogger
) -> list[EmulatedKey]:
    # Read for the credentials only; the emulator listens on --host, not SIGNPROXY_HOST.
    reader = Settings.from_env(
        {**env, "SIGNPROXY_UPSTREAM": "https://www.okx.com", ALLOW_CUSTOM_UPSTREAM_VARIABLE: "1"},
        host="127.0.0.1",
    )
    log.info(
        "signproxy.emulator_keys",
        keys={
            account.name: {"key": account.credentials.api_key.last4(), "demo": account.demo}
            for account in reader.accounts
        },
    )
    return [
        EmulatedKey(
            creds.api_key.reveal(), creds.secret.reveal(), creds.passphrase.reveal(), creds.demo
        )
        for creds in (account.credentials for account in reader.accounts)
    ]


def _explain(key: EmulatedKey, url: str) -> None:
    # On stderr, so stdout stays one JSON log line per event. These keys are worthless outside
    # this process: showing them is the point.
    print(  # noqa: T201
        f"No OKX_* credentials are set, so the emulator at {url} accepts these throwaway ones\n"
        "(made for this run; valid nowhere else). Put them in an env file for signproxy:\n\n"
        f"  OKX_API_KEY={key.api_key}\n"
        f"  OKX_API_SECRET={key.secret}\n"
        f"  OKX_API_PASSPHRASE={key.passphrase}\n"
        f"  SIGNPROXY_UPSTREAM={url}\n"
        "  SIGNPROXY_ALLOW_CUSTOM_UPSTREAM=1\n\n"
        "then run `signproxy serve --env-file that-file` and point your bot at the proxy; or\n"
        f"sign requests with them yourself and send them to {url}. `signproxy serve --emulator`\n"
        "does all of this in one command.",
        file=sys.stderr,
        flush=True,
    )
