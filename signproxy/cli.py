"""Command line: parsing and dispatch only; each command lives in :mod:`signproxy.commands`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from signproxy import __version__
from signproxy.commands import orders as orders_command
from signproxy.commands.check import run_check
from signproxy.commands.emulator import DEFAULT_EMULATOR_PORT, run_emulator
from signproxy.commands.environment import read_environment
from signproxy.commands.health import check, health_url, probe_token
from signproxy.commands.operator import add_operator_commands, run_operator
from signproxy.commands.probe_hosts import parse_host_map
from signproxy.commands.serve import ServeOptions, run_serve
from signproxy.errors import ConfigError
from signproxy.runtime.listen import port_number
from signproxy.runtime.logs import Redactor, configure
from signproxy.settings.config import log_options

if TYPE_CHECKING:
    from collections.abc import Sequence

EXIT_CONFIG = 2
_ENV_FILE_HELP = "settings file (default: ./.env if present; the environment wins over it)"


def main(argv: Sequence[str] | None = None) -> int:  # noqa: PLR0911 - one return per command
    """Run the command line; returns the process exit status."""
    args = _parser().parse_args(argv)
    redactor = Redactor()
    configured = False
    try:
        env = read_environment(args.env_file)
        level, fmt = log_options(env)
        configure(level=level, fmt=fmt, redactor=redactor)
        configured = True
        if args.command == "emulator":
            return run_emulator(env, args.host, args.port, rate_limits=not args.no_rate_limits)
        if args.command == "health":
            url = args.url or health_url(env, args.host, args.port)
            return check(url, args.timeout, probe_token(env))
        if args.command == "check":
            return run_check(env, as_json=args.json, hosts=parse_host_map(args.okx_hosts))
        if args.command == "orders":
            return orders_command.run(env, args)
        if args.command in ("halt", "resume", "status"):
            return run_operator(
                args.command,
                env,
                url=args.url,
                host=args.host,
                port=args.port,
                timeout=args.timeout,
                reason=getattr(args, "reason", ""),
                cancel_open=getattr(args, "cancel_open", False),
            )
        options = ServeOptions(args.env_file, args.host, args.port, args.emulator, args.unix)
        return run_serve(env, options, redactor)
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
        prog="signproxy",
        description="A local signing reverse proxy for OKX's v5 API, REST and WebSocket: bots"
        " send unsigned requests to it, it holds the API keys, signs each request and forwards"
        " it to OKX. Start with `signproxy serve --emulator` (no OKX account needed); when OKX"
        " refuses a key, run `signproxy check`.",
    )
    parser.add_argument("--version", action="version", version=f"signproxy {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _serve_parser(commands)
    _check_parser(commands)
    _emulator_parser(commands)
    _health_parser(commands)
    orders_command.add_parser(commands)
    add_operator_commands(commands)
    return parser


def _serve_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    summary = "sign and forward REST and WebSocket requests to OKX"
    serve = commands.add_parser(
        "serve",
        help=summary,
        description=f"{_sentence(summary)}. Listens on SIGNPROXY_HOST:SIGNPROXY_PORT"
        " (127.0.0.1:8787); bots send /api/v5/... REST calls and /ws/v5/... WebSocket"
        " connections without keys, the proxy adds the OK-ACCESS-* headers (or the WebSocket"
        " login) for the configured account. Settings come from the environment and the env"
        " file; an unknown or misspelt variable stops it. SIGHUP reloads the accounts.",
    )
    serve.add_argument("--env-file", type=Path, help=_ENV_FILE_HELP)
    serve.add_argument("--host", help="address to listen on (default: SIGNPROXY_HOST, 127.0.0.1)")
    serve.add_argument(
        "--port",
        type=port_number,
        help="port to listen on, 0-65535, 0 for any free one (default: SIGNPROXY_PORT, 8787)",
    )
    serve.add_argument(
        "--unix",
        metavar="PATH",
        help="also listen on a Unix socket at PATH: mode 0660, no client token needed over it"
        " (default: SIGNPROXY_UNIX_SOCKET, none)",
    )
    serve.add_argument(
        "--emulator",
        action="store_true",
        help="run in front of the bundled OKX emulator with throwaway keys (no OKX account needed;"
        " OKX_* credentials are ignored)",
    )


def _check_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    summary = "diagnose each account's key with OKX (the doctor)"
    check_command = commands.add_parser(
        "check",
        help=summary,
        description=f"{_sentence(summary)}: shows each account's configuration (key: last 4"
        " characters only), then with read-only calls confirms the key, passphrase, signature"
        " and demo flag, measures the clock offset, finds the right region host when OKX says"
        " the key does not exist there, and reads the key's permissions and IP binding. Exit"
        " status 0 when every account is usable, 1 when something is wrong, 2 for a"
        " configuration error.",
    )
    check_command.add_argument("--env-file", type=Path, help=_ENV_FILE_HELP)
    check_command.add_argument(
        "--json", action="store_true", help="print one JSON document instead of text"
    )
    # Test-only: where to send the region probes instead of OKX's hosts (loopback URLs only).
    check_command.add_argument("--okx-hosts-for-tests", dest="okx_hosts", help=argparse.SUPPRESS)


def _emulator_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    summary = "run only the OKX emulator, for testing a bot offline"
    emulator = commands.add_parser(
        "emulator",
        help=summary,
        description=f"{_sentence(summary)}. It verifies every signature like OKX and answers"
        " the common REST and WebSocket calls from memory. It accepts the configured OKX_*"
        " credentials (every account); with none set it makes throwaway keys and prints them"
        " with how to use them.",
    )
    emulator.add_argument("--env-file", type=Path, help=_ENV_FILE_HELP)
    emulator.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    emulator.add_argument(
        "--port",
        type=port_number,
        default=DEFAULT_EMULATOR_PORT,
        help=f"port, 0 for any free one (default {DEFAULT_EMULATOR_PORT})",
    )
    emulator.add_argument(
        "--no-rate-limits",
        action="store_true",
        help="never answer 50011/50061 (by default OKX's rate limits are enforced, like OKX)",
    )


def _health_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    summary = "exit 0 if a running proxy's /-/health answers 200 (container health checks)"
    health = commands.add_parser(
        "health",
        help=summary,
        description=f"{_sentence(summary)}; exit 1 otherwise. Asks where `serve`"
        " listens (SIGNPROXY_HOST, SIGNPROXY_PORT), on loopback for a wildcard address.",
    )
    health.add_argument("--env-file", type=Path, help=_ENV_FILE_HELP)
    health.add_argument("--host", help="the proxy's address (default: SIGNPROXY_HOST)")
    health.add_argument(
        "--port", type=port_number, help="the proxy's port (default: SIGNPROXY_PORT)"
    )
    health.add_argument("--url", help="the full URL to ask instead")
    health.add_argument("--timeout", type=float, default=3.0, help="seconds (default 3)")


def _sentence(summary: str) -> str:
    return summary[0].upper() + summary[1:]
