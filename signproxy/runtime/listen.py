"""Opening the listening socket, with one clear line when the address cannot be had.

aiohttp raises a bare ``OSError`` from ``TCPSite.start()``; left alone it becomes a traceback
(and, since the app's client session was already opened, an "Unclosed client session" warning).
:func:`start_site` cleans the runner up first and raises a :class:`ConfigError` naming the
address, the port setting and the likely cause instead.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
from typing import TYPE_CHECKING

from aiohttp import web

from signproxy.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Callable

    from aiohttp.web import AppRunner

PORT_SETTING = "SIGNPROXY_PORT"
_CAUSES = {
    errno.EADDRINUSE: "address already in use: another program listens there (often a"
    " signproxy or emulator that is still running); stop it, or choose another port",
    errno.EACCES: "permission denied: ports below 1024 need privileges; use a port from 1024"
    " up (the default is 8787)",
    errno.EADDRNOTAVAIL: "address not available: no interface of this machine has that"
    " address; check --host / SIGNPROXY_HOST",
}


async def start_site(
    runner: AppRunner,
    host: str,
    port: int,
    *,
    reuse_port: bool | None = None,
    setting: str = PORT_SETTING,
) -> None:
    """Listen on ``host:port``; on failure clean ``runner`` up and raise a one-line error.

    ``setting`` is what the error names (``--port`` for the emulator, which has no variable).

    Raises:
        ConfigError: the address is in use, not allowed or not this machine's.
    """
    site = web.TCPSite(runner, host, port, reuse_port=reuse_port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        cause = _CAUSES.get(exc.errno or 0, exc.strerror or type(exc).__name__)
        raise ConfigError(setting, f"cannot listen on {host}:{port}: {cause}") from None


async def start_listener(
    runner: AppRunner,
    factory: Callable[[], asyncio.Protocol],
    host: str,
    port: int,
    *,
    reuse_port: bool = False,
) -> asyncio.Server:
    """Listen on ``host:port`` with ``factory`` (the connection gate) as the protocol factory.

    Like :func:`start_site`, on failure the runner is cleaned up and the error is one line.

    Raises:
        ConfigError: the address is in use, not allowed or not this machine's.
    """
    loop = asyncio.get_running_loop()
    try:
        # A deep backlog: connections over the cap are accepted (then reset) at once.
        return await loop.create_server(
            factory, host, port, reuse_port=reuse_port or None, backlog=1024, reuse_address=True
        )
    except OSError as exc:
        await runner.cleanup()
        cause = _CAUSES.get(exc.errno or 0, exc.strerror or type(exc).__name__)
        raise ConfigError(PORT_SETTING, f"cannot listen on {host}:{port}: {cause}") from None


def port_number(text: str) -> int:
    """``--port``'s type: 0 (any free port) to 65535, exactly like ``SIGNPROXY_PORT``.

    Raises:
        argparse.ArgumentTypeError: anything else (a usage error, exit status 2).
    """
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= number <= 65535:  # noqa: PLR2004 - the range of TCP ports
        raise argparse.ArgumentTypeError(
            f"{number} is not a TCP port: use 1-65535 (0: any free port)"
        )
    return number
