"""Graceful shutdown on SIGTERM / SIGINT (what ``docker stop`` sends).

1. Stop listening: new connections are refused from here on.
2. Close idle keep-alive connections; busy ones close after their answer, which says
   ``Connection: close`` (a keep-alive client would otherwise send its next request into a
   closing connection and see "Server disconnected", which looks like a lost order).
3. Wait up to ``SIGNPROXY_SHUTDOWN_GRACE`` seconds for every exchange with OKX, including those
   whose client already left (their outcome is still logged). Relayed WebSocket connections are
   closed (1001) at the same time, so both fit in the grace period before ``docker stop``'s kill.
4. Cut off what is still waiting for OKX: its client gets ``SPX310`` and ``signproxy.cut_off``
   is logged for each, with whether an order's outcome is unknown.
5. Give handlers ``HANDLER_FINISH_S`` to write their answers, then close everything.

aiohttp's own ``shutdown_timeout`` is applied twice per connection (once waiting, once after
cancelling the request's payload), so it cannot bound the grace period precisely; the wait in
step 3 is therefore done here, on the exchanges themselves.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

    import structlog
    from aiohttp import web

    from signproxy.upstream.inflight import InFlight

# After the drain only answers are left to write (or requests that never reached OKX).
HANDLER_FINISH_S = 1.0


class Draining:
    """Set once shutdown begins; from then on every answer closes its connection.

    Its :meth:`on_response_prepare` is an ``app.on_response_prepare`` hook, which runs before the
    answer's headers are written.
    """

    __slots__ = ("on",)

    def __init__(self) -> None:
        """Not draining yet."""
        self.on = False

    async def on_response_prepare(
        self, _request: web.BaseRequest, response: web.StreamResponse
    ) -> None:
        """Mark the answer ``Connection: close`` while draining (WebSocket upgrades aside)."""
        if self.on and response.status != 101:  # noqa: PLR2004 - Switching Protocols
            response.force_close()
            # The hook runs after aiohttp has computed the headers: say it in them too.
            response.headers["Connection"] = "close"


async def graceful_stop(  # noqa: PLR0913 - the collaborators to stop, keyword-only but two
    runner: web.AppRunner,
    inflight: InFlight,
    grace: float,
    log: structlog.typing.FilteringBoundLogger,
    *,
    close_websockets: Callable[[], Awaitable[None]] | None = None,
    listeners: Sequence[asyncio.Server] = (),
    draining: Draining | None = None,
) -> int:
    """Stop ``runner`` as described above; returns the number of exchanges cut off.

    ``listeners`` are servers listening outside the runner's sites (the connection gate's).
    """
    started = time.perf_counter()
    log.info("signproxy.stopping", in_flight=len(inflight), grace_s=grace)
    if draining is not None:
        draining.on = True
    for listener in listeners:
        listener.close()
    for site in list(runner.sites):
        await site.stop()
    if runner.server is not None:
        runner.server.pre_shutdown()
    closing = asyncio.ensure_future(close_websockets()) if close_websockets else None
    cut_off = await inflight.drain(grace)
    if closing is not None:
        await closing
    await runner.cleanup()
    log.info(
        "signproxy.stopped",
        cut_off=cut_off,
        took_ms=round((time.perf_counter() - started) * 1000, 3),
    )
    return cut_off
