"""Client connections of one process: a cap, a request-head deadline, and slow readers dropped.

aiohttp's server has no deadline for a request head, keeps idle connections for an hour by
default, and holds an answer for a client that never reads it for as long as the connection
lives. :class:`ConnectionGate` wraps the protocol factory of the app's ``web.Server`` (the public
``AppRunner.server``) and hands the event loop a thin protocol per connection that:

- refuses (resets) a connection when ``SIGNPROXY_MAX_CLIENT_CONNECTIONS`` are open, so hostile
  sockets can never take the file descriptors the proxy needs for OKX;
- resets a connection that has not sent one complete request head within
  ``SIGNPROXY_HEAD_TIMEOUT`` of connecting (idle and half-open sockets); later requests on a
  connection are bounded by aiohttp's own keep-alive timeout, which runs from the end of an
  answer until the next complete head (``SIGNPROXY_KEEPALIVE_TIMEOUT``);
- resets a connection whose socket buffer stays full (the client takes no bytes) for
  ``SIGNPROXY_WRITE_TIMEOUT``, or whose buffered answer would take the bytes held for clients
  past ``SIGNPROXY_MAX_HELD_BYTES`` (:class:`~signproxy.upstream.held.HeldBytes`).

Everything else is passed to aiohttp's protocol untouched. Each reset is logged through the
client-fault log budget (:mod:`signproxy.runtime.logbudget`), so a flood costs a few lines.
"""

from __future__ import annotations

import asyncio
import resource
from typing import TYPE_CHECKING, Any, cast

import structlog

from signproxy.runtime.logbudget import CLIENT_FAULTS

if TYPE_CHECKING:
    from collections.abc import Callable

    from signproxy.settings.limits import Limits
    from signproxy.upstream.held import HeldBytes

_HEAD_END = b"\r\n\r\n"
# File descriptors kept free for everything but client connections: the pool to OKX (256),
# relayed WebSockets' OKX legs, the log, env and secret files, the event loop's own.
_RESERVED_FDS = 256 + 64
_FD_SEARCH_CAP = 1 << 20  # when the hard limit is "unlimited"


def raise_fd_limit() -> int:
    """Raise the soft ``RLIMIT_NOFILE`` to the hard limit; return the soft limit now in force.

    Containers often start with a soft limit of 1,024 and a far higher hard one. Nothing is
    raised past the hard limit, and a refusal (an unusual kernel policy) keeps the old value.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = _FD_SEARCH_CAP if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            return soft
        return target
    return soft


def connection_cap(configured: int, fd_limit: int, ws_connections: int) -> int:
    """The client connections one process may hold: the setting, or what the fds leave room for."""
    room = fd_limit - _RESERVED_FDS - ws_connections
    return max(1, min(configured, room))


class ConnectionGate:
    """The protocol factory given to ``loop.create_server`` in place of aiohttp's ``web.Server``.

    Attributes:
        open: client connections open now; refused: connections refused since start.
    """

    def __init__(
        self,
        server: Callable[[], asyncio.Protocol],
        limits: Limits,
        held: HeldBytes,
        *,
        cap: int,
    ) -> None:
        """Wrap ``server`` (``AppRunner.server``); ``cap`` from :func:`connection_cap`."""
        self.server = server
        self.head_timeout = limits.head_timeout
        self.write_timeout = limits.write_timeout
        self.held = held
        self.cap = cap
        self.open = 0
        self.refused = 0
        self._log = structlog.get_logger("signproxy")

    def __call__(self) -> asyncio.Protocol:
        """A protocol for one new connection (the event loop calls this on accept)."""
        return _Guarded(self)

    def drop(self, reason: str, **fields: Any) -> None:  # noqa: ANN401 - log fields
        """Log one dropped or refused connection (within the client-fault budget)."""
        if CLIENT_FAULTS.admit("connection"):
            self._log.warning("signproxy.connection_dropped", reason=reason, **fields)


class _Guarded(asyncio.Protocol):
    """One connection: aiohttp's protocol behind the gate's checks."""

    def __init__(self, gate: ConnectionGate) -> None:
        self._gate = gate
        self._inner: asyncio.Protocol | None = None
        self._transport: asyncio.Transport | None = None
        self._head_timer: asyncio.TimerHandle | None = None
        self._write_timer: asyncio.TimerHandle | None = None
        self._tail = b""  # the last bytes seen, for a head end split across two reads
        self._held = 0  # bytes this connection's buffer holds while writing is paused

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        gate = self._gate
        transport = cast("asyncio.Transport", transport)  # TCP only (uvloop's is no subclass)
        if gate.open >= gate.cap:
            gate.refused += 1
            transport.abort()  # a reset frees the descriptor at once
            gate.drop("max_client_connections", limit=gate.cap, refused_total=gate.refused)
            return
        gate.open += 1
        self._transport = transport
        loop = asyncio.get_running_loop()
        self._head_timer = loop.call_later(gate.head_timeout, self._timed_out, "head_timeout")
        self._inner = gate.server()
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self._head_timer is not None:
            if _HEAD_END in self._tail + data:
                self._head_timer.cancel()
                self._head_timer = None
                self._tail = b""
            else:
                self._tail = data[-3:]
        if self._inner is not None:
            self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received() if self._inner is not None else None

    def pause_writing(self) -> None:
        if self._inner is None or self._transport is None:
            return
        self._inner.pause_writing()
        gate = self._gate
        self._held = self._transport.get_write_buffer_size()
        if not gate.held.try_take(self._held):
            held, self._held = self._held, 0
            self._transport.abort()
            gate.drop("max_held_bytes", buffered=held, limit=gate.held.limit)
            return
        loop = asyncio.get_running_loop()
        self._write_timer = loop.call_later(gate.write_timeout, self._timed_out, "write_timeout")

    def resume_writing(self) -> None:
        self._release()
        if self._inner is not None:
            self._inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._inner is None:
            return
        self._gate.open -= 1
        self._release()
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        inner, self._inner = self._inner, None
        inner.connection_lost(exc)

    def _release(self) -> None:
        if self._write_timer is not None:
            self._write_timer.cancel()
            self._write_timer = None
        if self._held:
            self._gate.held.give_back(self._held)
            self._held = 0

    def _timed_out(self, reason: str) -> None:
        if reason == "head_timeout":
            self._head_timer = None
        else:
            self._write_timer = None
        if self._transport is not None and not self._transport.is_closing():
            buffered = self._transport.get_write_buffer_size()
            self._transport.abort()
            self._gate.drop(reason, buffered=buffered)
