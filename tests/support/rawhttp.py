"""Send exact request bytes to a server on 127.0.0.1 and read its whole answer.

For requests no HTTP client library will send: absolute-form and authority-form targets, a
missing or repeated Host, raw bytes in the target. The request must ask the server to close the
connection (or be malformed, which makes aiohttp close it), so the answer ends at EOF.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass

TIMEOUT = 10.0


@dataclass(frozen=True)
class RawReply:
    """A response as bytes: status, header block and body."""

    status: int
    head: bytes
    body: bytes


def parse(response: bytes) -> RawReply:
    """Split a complete HTTP/1.1 response."""
    head, _, body = response.partition(b"\r\n\r\n")
    return RawReply(int(head.split(b" ", 2)[1]), head, body)


async def send_raw(port: int, data: bytes) -> RawReply:
    """Send ``data`` on a new connection and read until the server closes it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        response = await asyncio.wait_for(reader.read(), TIMEOUT)
    finally:
        writer.close()
        await writer.wait_closed()
    return parse(response)


def send_raw_sync(port: int, data: bytes) -> RawReply:
    """The same from synchronous code (hypothesis tests)."""
    chunks: list[bytes] = []
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(data)
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return parse(b"".join(chunks))
