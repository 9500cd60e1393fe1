"""A misbehaving upstream on 127.0.0.1 that counts the requests it saw.

A raw asyncio server that resets, closes, stalls, answers garbage or streams forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import socket
import ssl
import struct
from pathlib import Path

OK_BODY = json.dumps({"code": "0", "msg": "", "data": [{"ts": "1"}]}).encode()
PARTIAL = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"c'


def ok_response(body: bytes = OK_BODY) -> bytes:
    """A well-formed HTTP/1.1 answer."""
    head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


def closed_port() -> int:
    """A port on 127.0.0.1 with nothing listening (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def self_signed_context(directory: Path) -> ssl.SSLContext:
    """A server TLS context with a fresh self-signed certificate for 127.0.0.1."""
    from cryptography import x509  # noqa: PLC0415 - only the TLS test needs it
    from cryptography.hazmat.primitives import hashes, serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415
    from cryptography.x509.oid import NameOID  # noqa: PLC0415

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context


class FaultServer:
    """Answers every request the way ``kind`` says; ``kind`` may be changed between requests."""

    def __init__(self, kind: str, *, delay: float = 0.0) -> None:
        self.kind = kind
        self.delay = delay
        self.connections = 0
        self.requests = 0
        self.bytes_streamed = 0
        self.stream_ended = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._tls: ssl.SSLContext | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self, ssl_context: ssl.SSLContext | None = None) -> str:
        """Listen on 127.0.0.1; returns the base URL."""
        # TLS is started per connection, after counting it: asyncio's own ssl= would hide a
        # connection whose handshake failed.
        self._tls = ssl_context
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"{'https' if ssl_context else 'http'}://127.0.0.1:{port}"

    async def close(self) -> None:
        """Stop listening and drop every connection."""
        if self._server is not None:
            self._server.close()
        for writer in self._writers:
            writer.transport.abort()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        with contextlib.suppress(OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            if self._tls is not None:
                await writer.start_tls(self._tls)
            if self.kind == "greet_plain":  # answers before any request: not TLS, not waiting
                writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
            while await self._read_request(reader):
                self.requests += 1
                if not await self._misbehave(writer):
                    break
        writer.transport.abort()

    @staticmethod
    async def _read_request(reader: asyncio.StreamReader) -> bool:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return False
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length" and int(value):
                await reader.readexactly(int(value))
        return True

    async def _misbehave(self, writer: asyncio.StreamWriter) -> bool:  # noqa: PLR0911
        """Act out one request; returns whether the connection may serve another."""
        kind = self.kind
        if self.delay:
            await asyncio.sleep(self.delay)
        if kind == "ok":
            writer.write(ok_response())
            await writer.drain()
            return True
        if kind == "reset_before":
            _reset(writer)
            return False
        if kind == "close_before":
            writer.close()
            return False
        if kind == "reset_during":
            writer.write(PARTIAL)
            await writer.drain()
            await asyncio.sleep(0.05)
            _reset(writer)
            return False
        if kind == "garbage":
            writer.write(b"this is not HTTP at all\r\n\r\n")
            await writer.drain()
            return False
        if kind in ("stall", "stall_during"):
            if kind == "stall_during":
                writer.write(PARTIAL)
                await writer.drain()
            await asyncio.sleep(60)
            return False
        if kind == "endless":
            await self._stream_forever(writer)
            return False
        raise AssertionError(kind)

    async def _stream_forever(self, writer: asyncio.StreamWriter) -> None:
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked"
            b"\r\n\r\n"
        )
        chunk = b"%x\r\n%s\r\n" % (64 * 1024, b"7" * 64 * 1024)
        try:
            for _ in range(100_000):  # about 6.5 GB if nobody stops reading: bounded anyway
                writer.write(chunk)
                await writer.drain()
                self.bytes_streamed += len(chunk)
        finally:
            self.stream_ended.set()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP RST (SO_LINGER 0) instead of a FIN."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
