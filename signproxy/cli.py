"""Command line: ``signproxy serve``, ``signproxy check`` and ``signproxy emulator``.

The only module that reads the process environment and ``.env`` files.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import structlog
from aiohttp import web
from dotenv import dotenv_values

from signproxy import __version__
from signproxy.commands import orders as orders_command
from signproxy.commands.check import check_accounts, describe
from signproxy.commands.health import check, health_url, probe_token
from signproxy.emulator import EmulatedKey, create_emulator_app
from signproxy.errors import ConfigError
from signproxy.runtime.logs import Redactor, configure
from signproxy.runtime.loop import run
from signproxy.runtime.serve import serve
from signproxy.runtime.workers import run_workers
from signproxy.settings.account_env import (
    ACCOUNT_PREFIX,
    ACCOUNTS_VARIABLE,
    ALLOW_CUSTOM_UPSTREAM_VARIABLE,
    DEFAULT_CREDENTIALS,
)
from signproxy.settings.config import (
    Settings,
    log_options,
    merge_sources,
)
from signproxy.settings.variables import FILE_SUFFIX

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

EXIT_CONFIG = 2
EXIT_CHECK_FAILED = 1
DEFAULT_EMULATOR_PORT = 8788


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit status."""
    args = _parser().parse_args(argv)
    redactor = Redactor()
    configured = False
    try:
        env = _environment(args.env_file)
        level, fmt = log_options(env)
        configure(level=level, fmt=fmt, redactor=redactor)
        configured = True
        if args.command == "emulator":
            return _run_emulator(env, args.host, args.port)
        if args.command == "health":
            url = args.url or health_url(env, args.host, args.port)
            return check(url, args.timeout, probe_token(env))
        if args.command == "check":
            return _run_check(env)
        if args.command == "orders":
            return orders_command.run(env, args)
        return _runserve(env, args, redactor)
    except ConfigError as exc:
        if not configured:  # the log settings themselves were bad: use the defaults
            configure(redactor=redactor)
        structlog.get_logger("signproxy").error(
            "signproxy.config_error", variable=exc.variable, problem=exc.message
        )
        print(f"signproxy: configuration error: {exc.message}", file=sys.stderr)  # noqa: T201
        return EXIT_CONFIG


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="signproxy", description="Local signing reverse proxy for the OKX v5 REST API."
    )
    parser.add_argument("--version", action="version", version=f"signproxy {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="sign and forward requests to OKX")
    serve.add_argument("--env-file", type=Path, help="settings file (default: ./.env if present)")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8787)")
    serve.add_argument(
        "--emulator",
        action="store_true",
        help="run in front of the bundled OKX emulator with throwaway keys (no OKX account needed;"
        " OKX_* credentials are ignored)",
    )
    check = commands.add_parser(
        "check",
        help="show each account's configuration (key: last 4 characters) and confirm OKX"
        " accepts it with a read-only call; exit 0 only if every account is accepted",
    )
    check.add_argument("--env-file", type=Path, help="settings file (default: ./.env if present)")
    emulator = commands.add_parser(
        "emulator", help="run only the OKX emulator, accepting the OKX_* credentials"
    )
    emulator.add_argument(
        "--env-file", type=Path, help="settings file (default: ./.env if present)"
    )
    emulator.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    emulator.add_argument(
        "--port", type=int, default=DEFAULT_EMULATOR_PORT, help="port (default 8788)"
    )
    orders_command.add_parser(commands)
    health = commands.add_parser(
        "health", help="exit 0 if a running proxy's /-/health answers 200 (container checks)"
    )
    health.add_argument("--env-file", type=Path, help="settings file (default: ./.env if present)")
    health.add_argument("--host", help="the proxy's address (default: SIGNPROXY_HOST)")
    health.add_argument("--port", type=int, help="the proxy's port (default: SIGNPROXY_PORT)")
    health.add_argument("--url", help="the full URL to ask instead")
    health.add_argument("--timeout", type=float, default=3.0, help="seconds (default 3)")
    return parser


def _environment(env_file: Path | None) -> dict[str, str]:
    if env_file is not None and not env_file.is_file():
        raise ConfigError("--env-file", "the file does not exist")
    path = env_file or Path(".env")
    file_values = dotenv_values(path) if path.is_file() else {}
    return merge_sources(file_values, os.environ)


def _runserve(env: Mapping[str, str], args: argparse.Namespace, redactor: Redactor) -> int:
    log = structlog.get_logger("signproxy")
    if not args.emulator:
        settings = Settings.from_env(env, host=args.host, port=args.port)
        redactor.set_secrets(settings.sensitive_values())
        env_file = args.env_file or (Path(".env") if Path(".env").is_file() else None)

        def read_env() -> dict[str, str]:
            return _environment(args.env_file)

        reload = (read_env, env_file, redactor)
        if settings.workers > 1:
            return run_workers(settings.workers, lambda: run(serve(settings, log, reload=reload)))
        run(serve(settings, log, reload=reload))
        return 0
    # Throwaway credentials made fresh for this run: nothing real is ever used in this mode.
    key = EmulatedKey(
        api_key="emulator-" + secrets.token_hex(8),
        secret=secrets.token_hex(16).upper(),
        passphrase="emulator-" + secrets.token_hex(6),
    )
    cleaned = {
        name: value
        for name, value in env.items()
        if name.removesuffix(FILE_SUFFIX)
        not in (*DEFAULT_CREDENTIALS, "OKX_DEMO", "SIGNPROXY_UPSTREAM", ACCOUNTS_VARIABLE)
        and not name.startswith(ACCOUNT_PREFIX)
    }
    redactor.set_secrets((key.api_key, key.secret, key.passphrase))
    run(_serve_with_emulator(cleaned, args, key, log, redactor))
    return 0


async def _serve_with_emulator(
    env: dict[str, str],
    args: argparse.Namespace,
    key: EmulatedKey,
    log: structlog.typing.FilteringBoundLogger,
    redactor: Redactor,
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
    settings = Settings.from_env(env, host=args.host, port=args.port)
    redactor.set_secrets(settings.sensitive_values())
    try:
        # SIGHUP re-validates the same throwaway settings (a no-op) rather than ending the process.
        await serve(settings, log, emulator=True, reload=(lambda: env, None, redactor))
    finally:
        await emulator.cleanup()


def _run_check(env: Mapping[str, str]) -> int:
    settings = Settings.from_env(env)
    for warning in settings.warnings:
        print(f"warning: {warning}")  # noqa: T201
    verdicts = asyncio.run(check_accounts(settings))
    for verdict in verdicts:
        print(describe(verdict.account))  # noqa: T201
        print(f"  {'OK' if verdict.accepted else 'FAILED'}: {verdict.detail}")  # noqa: T201
    accepted = sum(verdict.accepted for verdict in verdicts)
    print(f"{accepted} of {len(verdicts)} account(s) accepted")  # noqa: T201
    return 0 if accepted == len(verdicts) else EXIT_CHECK_FAILED


def _run_emulator(env: Mapping[str, str], host: str, port: int) -> int:
    # Read for the credentials only; the emulator listens on --host, not SIGNPROXY_HOST.
    reader = Settings.from_env(
        {**env, "SIGNPROXY_UPSTREAM": "https://www.okx.com", ALLOW_CUSTOM_UPSTREAM_VARIABLE: "1"},
        host="127.0.0.1",
    )
    keys = [
        EmulatedKey(
            creds.api_key.reveal(), creds.secret.reveal(), creds.passphrase.reveal(), creds.demo
        )
        for creds in (account.credentials for account in reader.accounts)
    ]
    log = structlog.get_logger("signproxy")

    async def run() -> None:
        runner = web.AppRunner(create_emulator_app(keys), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        bound_host, bound_port = runner.addresses[0][:2]
        log.info(
            "signproxy.emulator_keys",
            keys={
                account.name: {"key": account.credentials.api_key.last4(), "demo": account.demo}
                for account in reader.accounts
            },
        )
        log.info("signproxy.emulator_listening", url=f"http://{bound_host}:{bound_port}")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
        await runner.cleanup()

    asyncio.run(run())
    return 0
