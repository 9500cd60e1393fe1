"""The Python load generator, for machines without wrk. Prints one JSON line.

Usage: ``pyload.py PORT|SOCKET_PATH CONNECTIONS SECONDS`` (a path: a Unix socket, one
connection only). One connection: a blocking socket, one request after another, each timed
with perf_counter_ns (exact percentiles, about 10 us of client cost).
More: asyncio (uvloop when installed) with pre-built request bytes and a minimal parser; with
16 connections it is itself the bottleneck above roughly 15,000 requests/s.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import socket
import sys
import time

from servers import ORDER_PATH, order_body


def _request(body: str) -> bytes:
    return (
        f"POST {ORDER_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n{body}"
    ).encode()


_RUN = f"{time.time_ns() % 10**12}"


def _order(number: int) -> bytes:
    # A fresh clOrdId per order (de-duplication), instruments in turn (rate budgets).
    return _request(order_body(number, _RUN))


def _complete(buffer: bytes) -> int:
    """Length of the first complete response in ``buffer``, or 0."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return 0
    head = buffer[:end].lower()
    start = head.find(b"content-length:")
    length = 0
    if start >= 0:
        stop = head.find(b"\r\n", start)
        length = int(head[start + 15 : stop if stop >= 0 else end])
    total = end + 4 + length
    return total if len(buffer) >= total else 0


def _ok(response: bytes) -> bool:
    return response.startswith((b"HTTP/1.1 2", b"HTTP/1.0 2"))


def _connect(where: int | str) -> socket.socket:
    if isinstance(where, str):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(where)
        return sock
    sock = socket.create_connection(("127.0.0.1", where))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def sequential(where: int | str, seconds: float) -> tuple[list[int], int]:
    """Requests one after another on one connection; returns latencies (ns) and errors."""
    latencies: list[int] = []
    errors = 0
    with _connect(where) as sock:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            started = time.perf_counter_ns()
            sock.sendall(_order(len(latencies)))
            buffer = b""
            while not (size := _complete(buffer)):
                chunk = sock.recv(65536)
                if not chunk:
                    raise ConnectionError("server closed the connection")
                buffer += chunk
            latencies.append(time.perf_counter_ns() - started)
            errors += not _ok(buffer[:size])
    return latencies, errors


async def concurrent(port: int, connections: int, seconds: float) -> tuple[list[int], int]:
    """``connections`` keep-alive connections, each sending as fast as answers come."""
    latencies: list[int] = []
    errors = 0
    deadline = time.monotonic() + seconds
    numbers = itertools.count()

    async def one() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        buffer = b""
        while time.monotonic() < deadline:
            started = time.perf_counter_ns()
            writer.write(_order(next(numbers)))
            while not (size := _complete(buffer)):
                chunk = await reader.read(65536)
                if not chunk:
                    raise ConnectionError("server closed the connection")
                buffer += chunk
            latencies.append(time.perf_counter_ns() - started)
            errors += not _ok(buffer[:size])
            buffer = buffer[size:]
        writer.close()

    await asyncio.gather(*(one() for _ in range(connections)))
    return latencies, errors


def main(argv: list[str]) -> None:
    """Measure and print the result as JSON."""
    where = argv[1] if argv[1].startswith("/") else int(argv[1])
    connections, seconds = int(argv[2]), float(argv[3])
    started = time.perf_counter()
    if connections == 1:
        latencies, errors = sequential(where, seconds)
    else:
        with contextlib.suppress(ImportError):
            import uvloop  # noqa: PLC0415 - optional

            asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
        assert isinstance(where, int), "concurrent load is TCP only"
        latencies, errors = asyncio.run(concurrent(where, connections, seconds))
    elapsed = time.perf_counter() - started
    latencies.sort()
    count = len(latencies)
    result = {
        "requests": count,
        "seconds": round(elapsed, 3),
        "rps": round(count / elapsed, 1),
        "p50_us": round(latencies[count // 2] / 1000, 1),
        "p99_us": round(latencies[min(count - 1, count * 99 // 100)] / 1000, 1),
        "errors": errors,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv)
