"""``signproxy halt``, ``signproxy resume``, ``signproxy status``: the operator's kill switch.

Each talks to a running proxy's operator endpoints (``POST /-/halt``, ``POST /-/resume``,
``GET /-/status``) with an operator token: ``SIGNPROXY_OPERATOR_TOKEN`` when set (the one
token of this operator), else the first of ``SIGNPROXY_OPERATOR_TOKENS[_FILE]``. The proxy's
address is ``SIGNPROXY_HOST``/``SIGNPROXY_PORT`` as for ``serve``, or ``--url``. The answer is
printed as JSON; the exit status is 0 when the proxy answered 200, else 1 (2: no token).
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

from signproxy.commands.health import health_url
from signproxy.errors import ConfigError
from signproxy.settings.switches import OPERATOR_TOKENS_VARIABLE
from signproxy.settings.tokens import parse_client_tokens

if TYPE_CHECKING:
    import argparse
    from collections.abc import Mapping

OPERATOR_TOKEN_VARIABLE = "SIGNPROXY_OPERATOR_TOKEN"  # noqa: S105 - a variable's name
_PATHS = {"halt": "/-/halt", "resume": "/-/resume", "status": "/-/status"}
# No environment proxy (it would see the token) and no redirects: the proxy's own address only.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def operator_token(env: Mapping[str, str]) -> str:
    """The token the command sends.

    Raises:
        ConfigError: no operator token is configured.
    """
    single = env.get(OPERATOR_TOKEN_VARIABLE)
    if single:
        return single.strip()
    text = env.get(OPERATOR_TOKENS_VARIABLE) or ""
    path = env.get(OPERATOR_TOKENS_VARIABLE + "_FILE")
    if not text and path:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            raise ConfigError(OPERATOR_TOKENS_VARIABLE + "_FILE", "cannot read the file") from None
    tokens = parse_client_tokens(text, OPERATOR_TOKENS_VARIABLE, accounts=None)
    if not tokens:
        raise ConfigError(
            OPERATOR_TOKEN_VARIABLE, f"set it (or {OPERATOR_TOKENS_VARIABLE}) to an operator token"
        )
    return tokens[0].token


def base_url(env: Mapping[str, str], host: str | None, port: int | None) -> str:
    """The proxy's base URL, from the same variables as ``serve``."""
    return health_url(env, host, port).rsplit("/-/", 1)[0]


def add_operator_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``halt``, ``resume`` and ``status`` to the command line."""
    for name, text in (
        ("halt", "refuse every order that adds exposure, on every proxy of the fleet"),
        ("resume", "end a halt"),
        ("status", "show the halt, the dead-man switches and the guardrail rules"),
    ):
        command = commands.add_parser(name, help=text + " (needs an operator token)")
        command.add_argument("--env-file", type=Path, help="settings file (default: ./.env)")
        command.add_argument("--host", help="the proxy's address (default: SIGNPROXY_HOST)")
        command.add_argument("--port", type=int, help="the proxy's port (default: SIGNPROXY_PORT)")
        command.add_argument("--url", help="the proxy's base URL instead (http://host:port)")
        command.add_argument("--timeout", type=float, default=120.0, help="seconds (default 120)")
        if name == "halt":
            command.add_argument("--reason", default="", help="why (shown in every refusal)")
            command.add_argument(
                "--cancel-open",
                action="store_true",
                help="also cancel every pending order and algo order of every account",
            )


def run_operator(  # noqa: PLR0913 - one argument per command-line option
    command: str,
    env: Mapping[str, str],
    *,
    url: str | None,
    host: str | None,
    port: int | None,
    timeout: float,
    reason: str = "",
    cancel_open: bool = False,
) -> int:
    """Send one operator request and print the answer; the exit status."""
    token = operator_token(env)
    target = (url or base_url(env, host, port)).rstrip("/") + _PATHS[command]
    if not target.startswith(("http://", "https://")):
        sys.stderr.write(f"signproxy {command}: not an http(s) URL: {target}\n")
        return 1
    body = None
    if command == "halt":
        body = json.dumps({"reason": reason, "cancel_open": cancel_open}).encode()
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        target,
        data=body,
        method="GET" if command == "status" else "POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    except (OSError, ValueError) as exc:
        sys.stderr.write(f"signproxy {command}: {target}: {type(exc).__name__}: {exc}\n")
        return 1
    try:
        shown = json.dumps(json.loads(raw), indent=2)
    except ValueError:
        shown = raw.decode("utf-8", "replace")
    sys.stdout.write(shown + "\n")
    return 0 if status == 200 else 1  # noqa: PLR2004
