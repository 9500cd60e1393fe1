"""The upstream connection pool: never send a request on a keep-alive connection OKX has closed.

Servers close idle keep-alive connections (nginx's ``keepalive_timeout``, load balancers' idle
timeouts) and some close after a number of requests without saying so. aiohttp drops a pooled
connection once its event loop has *processed* the server's FIN, but under load the FIN can
already sit in the kernel while the loop is busy: the request is then written into a dead
connection and fails with "server disconnected". aiohttp resends only idempotent methods; a POST
surfaces as an error with an unknown outcome, although OKX never saw it.

Two defences, both applied *before* any byte of the request is written, so they can never cause
a request that reached OKX to be sent again:

- pooled connections idle for longer than ``SIGNPROXY_UPSTREAM_IDLE_TIMEOUT`` are not reused
  (aiohttp's connector ``keepalive_timeout``): keep it below the upstream's own idle timeout, and
  the server's idle close never races a request;
- when a pooled connection is taken, one non-blocking ``poll()`` asks the kernel whether the
  server has sent anything on it. An idle HTTP/1.1 connection has nothing to read, so readable
  means a FIN, a reset or stray bytes: the connection is closed and the next one tried.

What remains is a FIN still travelling the network while the request is written (a window of
half a round trip at the moment the server gives up on the connection). That failure is
indistinguishable from a server that read the request and died, so a POST gets SPX301 and is
never resent.
"""

from __future__ import annotations

import select
from typing import TYPE_CHECKING

import aiohttp

if TYPE_CHECKING:
    import asyncio

    from aiohttp.client_reqrep import ConnectionKey
    from aiohttp.connector import Connection
    from aiohttp.tracing import Trace

_READABLE = select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP


def peer_has_spoken(transport: asyncio.BaseTransport) -> bool:
    """Tell whether an idle connection has anything to read: a FIN, a reset or stray bytes."""
    sock = transport.get_extra_info("socket")
    if sock is None:
        return True
    poller = select.poll()
    poller.register(sock.fileno(), _READABLE)
    return bool(poller.poll(0))


class FreshConnector(aiohttp.TCPConnector):
    """A TCPConnector that checks a pooled connection with the kernel before reusing it."""

    async def _get(self, key: ConnectionKey, traces: list[Trace]) -> Connection | None:
        # aiohttp calls _get to take a pooled connection; it already skips those whose close
        # the event loop has seen. This adds the kernel's view, which is never behind.
        while (conn := await super()._get(key, traces)) is not None:
            transport = conn.transport
            if transport is not None and not peer_has_spoken(transport):
                return conn
            conn.close()
        return None
