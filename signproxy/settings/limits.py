"""Limits that keep one process standing under hostile or broken clients, read and validated.

Each limit names what it protects (see README "Security model" and "Faults"):

- ``SIGNPROXY_HEAD_TIMEOUT``: a new connection must send a complete request head within it
  (idle and half-open sockets are closed);
- ``SIGNPROXY_KEEPALIVE_TIMEOUT``: an idle keep-alive connection, or one partway through a
  later request head, is closed after it (aiohttp's ``keepalive_timeout``);
- ``SIGNPROXY_MAX_CLIENT_CONNECTIONS``: client connections per process; more are refused and
  logged (lowered at start to what the file-descriptor limit leaves room for);
- ``SIGNPROXY_WRITE_TIMEOUT``: a client that takes no bytes of its answer for this long is
  disconnected, which frees the answer's memory;
- ``SIGNPROXY_MAX_HELD_BYTES``: answer bytes held for clients, process-wide: OKX answers being
  read plus answers waiting in the sockets of clients that do not read. Past it, a GET answer
  is not relayed (``SPX304``; a GET is safe to send again) and the slowest reader is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

MIB = 1024 * 1024


class VariableReader(Protocol):
    """What :func:`read_limits` needs from ``variables.VariableReader``."""

    def seconds(self, name: str, default: float) -> float:
        """A duration in seconds."""

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        """A whole number in a range."""


@dataclass(frozen=True, slots=True)
class Limits:
    """The connection and memory limits of one proxy process."""

    head_timeout: float = 10.0
    keepalive_timeout: float = 75.0
    max_client_connections: int = 1000
    write_timeout: float = 15.0
    max_held_bytes: int = 64 * MIB


def read_limits(reader: VariableReader) -> Limits:
    """Read the limits; each is checked against its range (ConfigError names the variable)."""
    return Limits(
        head_timeout=reader.seconds("SIGNPROXY_HEAD_TIMEOUT", 10.0),
        keepalive_timeout=reader.seconds("SIGNPROXY_KEEPALIVE_TIMEOUT", 75.0),
        max_client_connections=reader.integer(
            "SIGNPROXY_MAX_CLIENT_CONNECTIONS", 1000, 1, 1_000_000
        ),
        write_timeout=reader.seconds("SIGNPROXY_WRITE_TIMEOUT", 15.0),
        max_held_bytes=reader.integer("SIGNPROXY_MAX_HELD_BYTES", 64 * MIB, MIB, 64 * 1024 * MIB),
    )
