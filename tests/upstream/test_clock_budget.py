"""OKX's time endpoint (10 requests / 2 s per IP) is never flooded, even by failing workers."""

from __future__ import annotations

import asyncio
import contextlib
import time

import aiohttp

from tests.support.serve import start_serve

OKX_LIMIT = 10


class DroppingOkx(asyncio.Protocol):
    """Reads a request head, notes when it came, and closes without answering."""

    arrivals: list[float]

    def __init__(self, arrivals: list[float]) -> None:
        self.arrivals = arrivals
        self.buffer = b""
        self.transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport to close."""
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        """Close once a head is complete."""
        self.buffer += data
        if b"\r\n\r\n" in self.buffer and self.transport is not None:
            if b"/api/v5/public/time" in self.buffer:
                self.arrivals.append(time.monotonic())
            self.transport.close()


def _busiest_two_seconds(arrivals: list[float]) -> int:
    ordered = sorted(arrivals)
    return max(
        (
            sum(1 for other in ordered[index:] if other - start < 2.0)
            for index, start in enumerate(ordered)
        ),
        default=0,
    )


async def test_failing_time_endpoint_is_not_flooded_by_two_workers(tmp_path) -> None:
    """Two workers re-measuring against a dropping OKX, polled for readiness: at most 10 per 2 s."""
    arrivals: list[float] = []
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: DroppingOkx(arrivals), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    proxy = await start_serve(
        f"http://127.0.0.1:{port}",
        tmp_path,
        SIGNPROXY_WORKERS="2",
        SIGNPROXY_CLOCK_SYNC_INTERVAL="1",
        SIGNPROXY_UPSTREAM_CHECK_INTERVAL="1",
    )
    try:
        async with aiohttp.ClientSession() as session:
            deadline = time.monotonic() + 8
            while time.monotonic() < deadline:
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.get(proxy.url + "/-/ready") as reply:
                        await reply.read()
                await asyncio.sleep(0.1)
    finally:
        await proxy.stop()
        server.close()
    assert len(arrivals) >= 4  # it did keep trying
    assert _busiest_two_seconds(arrivals) <= OKX_LIMIT, sorted(arrivals)
