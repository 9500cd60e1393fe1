"""A cheap upstream in Python, for machines without nginx: the fixed order answer, keep-alive.

Usage: ``fake_upstream.py PORT [TLS_PORT CERT_DIR]``. Listens on 127.0.0.1 until SIGTERM.
"""

from __future__ import annotations

import asyncio
import signal
import ssl
import sys

from servers import ORDER_ANSWER

RESPONSE = (
    "HTTP/1.1 200 OK\r\nServer: fake-upstream\r\nContent-Type: application/json\r\n"
    f"Content-Length: {len(ORDER_ANSWER)}\r\nConnection: keep-alive\r\n\r\n{ORDER_ANSWER}"
).encode()


class FixedAnswer(asyncio.Protocol):
    """Answers each HTTP/1.1 request (headers plus Content-Length body) with RESPONSE."""

    def __init__(self) -> None:
        """Start with an empty buffer."""
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport to answer on."""
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        """Answer every complete request in the buffer."""
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            length = 0
            for line in self.buffer[:end].split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            total = end + 4 + length
            if len(self.buffer) < total:
                return
            self.buffer = self.buffer[total:]
            if self.transport is not None:
                self.transport.write(RESPONSE)


async def main(argv: list[str]) -> None:
    """Serve until SIGTERM or SIGINT."""
    loop = asyncio.get_running_loop()
    servers = [await loop.create_server(FixedAnswer, "127.0.0.1", int(argv[1]))]
    if len(argv) > 2:  # noqa: PLR2004 - PORT TLS_PORT CERT_DIR
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(f"{argv[3]}/server.pem", f"{argv[3]}/server.key")
        servers.append(
            await loop.create_server(FixedAnswer, "127.0.0.1", int(argv[2]), ssl=context)
        )
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    for server in servers:
        server.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv))
