"""How a bridged connection ends: which side ended it, and the close code the other side gets.

Whichever side ends first, the other is closed at once with a code that says why:

    client closes 1000 or 3000-4999    -> OKX gets the same code
    client closes otherwise or is lost -> OKX gets 1001 (going away)
    OKX closes with a sendable code    -> the client gets the same code and reason
    OKX connection lost or unusable    -> the client gets 1014 (bad gateway)
    the proxy shuts down               -> both get 1001; a proxy bug -> both get 1011
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from aiohttp import WSCloseCode

if TYPE_CHECKING:
    import aiohttp
    from aiohttp import web

Side = Literal["client", "upstream", "proxy"]
CLOSE_TIMEOUT = 5.0
_MAX_REASON_BYTES = 123  # RFC 6455: a close frame's payload is at most 125 bytes with the code.
_RESERVED = frozenset({1004, 1005, 1006, 1015})  # never sent in a close frame


@dataclass(frozen=True, slots=True)
class Ended:
    """Which side ended the connection first, with its close code and reason."""

    side: Side
    code: int | None
    reason: str = ""


@dataclass(slots=True)
class BridgeStats:
    """What one connection did, for its close log line."""

    from_client: int = 0
    to_client: int = 0
    refused: int = 0
    logins: int = 0
    ended_by: Side = "proxy"
    client_code: int | None = None
    upstream_code: int | None = None
    started: float = field(default_factory=time.perf_counter)


def code_for_upstream(client_code: int | None) -> int:
    """The code OKX gets when the client closed with ``client_code`` (None: connection lost)."""
    if client_code is not None and (client_code == 1000 or 3000 <= client_code <= 4999):  # noqa: PLR2004
        return client_code
    return WSCloseCode.GOING_AWAY


def code_for_client(upstream_code: int | None) -> int:
    """The code the client gets when OKX closed with ``upstream_code`` (None: connection lost)."""
    if upstream_code is None or upstream_code in _RESERVED:
        return WSCloseCode.BAD_GATEWAY
    if 1000 <= upstream_code <= 1014 or 3000 <= upstream_code <= 4999:  # noqa: PLR2004
        return upstream_code
    return WSCloseCode.BAD_GATEWAY


def close_reason(text: str) -> bytes:
    """Encode a close reason, cut to what fits in a close frame."""
    return text.encode()[:_MAX_REASON_BYTES].decode(errors="ignore").encode()


async def close_both(
    client: web.WebSocketResponse,
    upstream: aiohttp.ClientWebSocketResponse,
    ended: Ended,
    stats: BridgeStats,
) -> None:
    """Close both sides with the codes :data:`ended` calls for; note them in ``stats``."""
    to_client: int | None
    to_upstream: int | None
    if ended.side == "client":
        to_client, to_upstream, reason = ended.code, code_for_upstream(ended.code), ""
    elif ended.side == "upstream":
        to_client, to_upstream = code_for_client(ended.code), ended.code
        reason = ended.reason or ("" if ended.code else "SPX301: the connection to OKX broke")
    else:
        to_client = to_upstream = ended.code
        reason = ended.reason
    stats.ended_by = ended.side
    stats.client_code = None if to_client is None else int(to_client)
    stats.upstream_code = None if to_upstream is None else int(to_upstream)
    sides: tuple[
        tuple[web.WebSocketResponse | aiohttp.ClientWebSocketResponse, int | None, str], ...
    ]
    sides = ((client, to_client, reason), (upstream, to_upstream, ""))
    for ws, code, text in sides:
        # The side that ended is closed already; close() then returns at once.
        with contextlib.suppress(Exception):
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await ws.close(code=code or WSCloseCode.OK, message=close_reason(text))


def describe_error(error: object) -> str:
    """The close reason for an error on OKX's side of the connection."""
    code = getattr(error, "code", None)
    if code == WSCloseCode.MESSAGE_TOO_BIG:
        return "SPX303: OKX sent a message over SIGNPROXY_WS_MAX_MESSAGE_BYTES"
    return f"SPX301: the connection to OKX broke ({type(error).__name__})"
