"""Keep-alive races: an upstream closing pooled connections never fails or doubles a request.

The upstream here is a bare asyncio HTTP/1.1 server on 127.0.0.1 that records every request body
it receives and closes connections the way servers and load balancers do: after a few requests
without a ``Connection: close`` header, or after a short idle time.
"""

from __future__ import annotations

import asyncio
import collections
import json
import random
import socket
from collections.abc import AsyncIterator, Callable

import pytest

from signproxy.errors import ConfigError
from signproxy.settings.config import Settings
from signproxy.upstream.pool import peer_has_spoken
from tests.conftest import Harness, MakeProxy

ANSWER = b'{"code":"0","msg":"","data":[]}'
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
    len(ANSWER),
    ANSWER,
)


class Closing(asyncio.Protocol):
    """Answers requests; closes after ``per_connection`` answers or ``idle`` seconds idle."""

    def __init__(
        self,
        received: collections.Counter[bytes],
        *,
        per_connection: int = 0,
        close_delay: float = 0.0,
        idle: float = 0.0,
        answer: bool = True,
    ) -> None:
        self.received = received
        self.per_connection = per_connection
        self.close_delay = close_delay
        self.idle = idle
        self.answer = answer
        self.buffer = b""
        self.answered = 0
        self.timer: asyncio.TimerHandle | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport):
        """Count the connection and start the idle timer."""
        self.received[b"<new connection>"] += 1
        self.transport = transport
        self._arm()

    def _arm(self):
        if self.timer is not None:
            self.timer.cancel()
        if self.idle and self.transport is not None:
            self.timer = asyncio.get_running_loop().call_later(self.idle, self.transport.close)

    def data_received(self, data):
        """Record and answer each complete request; close when it is time."""
        assert self.transport is not None
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = self.buffer[:end].lower()
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name == b"content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            self.received[self.buffer[end + 4 : end + 4 + length]] += 1
            self.buffer = self.buffer[end + 4 + length :]
            if not self.answer:
                self.transport.close()
                return
            self.transport.write(RESPONSE)
            self.answered += 1
            if self.per_connection and self.answered >= self.per_connection:
                # Like a load balancer retiring a connection: no Connection: close header,
                # the FIN follows the answer a moment later.
                delay = random.uniform(0, self.close_delay)  # noqa: S311 - timing jitter
                asyncio.get_running_loop().call_later(delay, self.transport.close)
                return
            self._arm()


@pytest.fixture
async def closing_upstream() -> AsyncIterator[Callable[..., object]]:
    """Start Closing servers on 127.0.0.1; returns (base URL, Counter of bodies received).

    The Counter also counts connections, under the key ``b"<new connection>"``.
    """
    servers: list[asyncio.Server] = []

    async def start(**options: object) -> tuple[str, collections.Counter[bytes]]:
        received: collections.Counter[bytes] = collections.Counter()
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: Closing(received, **options),  # type: ignore[arg-type]
            "127.0.0.1",
            0,
        )
        servers.append(server)
        port = server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}", received

    yield start
    for server in servers:
        server.close()


async def _orders(
    proxy: Harness, clients: int, per_client: int, pause: tuple[float, float]
) -> tuple[collections.Counter[int], list[bytes]]:
    statuses: collections.Counter[int] = collections.Counter()
    bodies: list[bytes] = []

    async def client(number: int) -> None:
        for index in range(per_client):
            body = json.dumps({"clOrdId": f"c{number}o{index}", "sz": "1"}, separators=(",", ":"))
            bodies.append(body.encode())
            reply = await proxy.post("/api/v5/trade/order", body)
            statuses[reply.status] += 1
            if pause[1]:
                await asyncio.sleep(random.uniform(*pause))  # noqa: S311 - timing jitter

    await asyncio.gather(*(client(number) for number in range(clients)))
    return statuses, bodies


async def test_upstream_retiring_connections_after_few_requests_fails_no_post(
    make_proxy: MakeProxy, closing_upstream
):
    """An upstream closing every connection after 3 answers (FIN a moment later) fails no POST."""
    url, received = await closing_upstream(per_connection=3, close_delay=0.002)
    proxy = await make_proxy(upstream=url)
    statuses, bodies = await _orders(proxy, clients=16, per_client=100, pause=(0, 0))
    assert statuses == {200: 1600}
    del received[b"<new connection>"]
    assert received == collections.Counter(bodies)  # each order reached the upstream once


async def test_idle_connections_are_dropped_before_the_upstream_closes_them(
    make_proxy: MakeProxy, closing_upstream
):
    """With SIGNPROXY_UPSTREAM_IDLE_TIMEOUT below the upstream's idle timeout, no POST fails."""
    url, received = await closing_upstream(idle=0.2)
    proxy = await make_proxy(upstream=url, SIGNPROXY_UPSTREAM_IDLE_TIMEOUT="0.05")
    statuses, bodies = await _orders(proxy, clients=8, per_client=25, pause=(0.005, 0.12))
    assert statuses == {200: 200}
    del received[b"<new connection>"]
    assert received == collections.Counter(bodies)


@pytest.mark.parametrize(("idle_setting", "connections"), [("0.05", 2), ("15", 1)])
async def test_pool_reuses_a_connection_only_within_the_idle_timeout(
    make_proxy: MakeProxy, closing_upstream, idle_setting, connections
):
    """A pooled connection idle longer than SIGNPROXY_UPSTREAM_IDLE_TIMEOUT is not reused."""
    url, received = await closing_upstream()
    proxy = await make_proxy(upstream=url, SIGNPROXY_UPSTREAM_IDLE_TIMEOUT=idle_setting)
    assert (await proxy.post("/api/v5/trade/order", '{"clOrdId":"a"}')).status == 200
    await asyncio.sleep(0.15)
    assert (await proxy.post("/api/v5/trade/order", '{"clOrdId":"b"}')).status == 200
    assert received[b"<new connection>"] == connections


async def test_post_that_reached_the_upstream_is_not_resent(
    make_proxy: MakeProxy, closing_upstream
):
    """A POST read by the upstream before it hung up gets SPX301 and is sent exactly once."""
    url, received = await closing_upstream(answer=False)
    proxy = await make_proxy(upstream=url)
    reply = await proxy.post("/api/v5/trade/order", '{"clOrdId":"once","sz":"1"}')
    assert reply.status == 502
    assert reply.headers["X-Signproxy-Error"] == "SPX301"
    assert "outcome is unknown" in reply.json()["msg"]
    assert received == {b"<new connection>": 1, b'{"clOrdId":"once","sz":"1"}': 1}


async def test_peer_has_spoken_sees_a_close_the_event_loop_has_not_read():
    """The kernel check sees the server's FIN before the event loop has processed it."""
    loop = asyncio.get_running_loop()
    accepted: list[asyncio.Transport] = []
    connected = asyncio.Event()

    class Keep(asyncio.Protocol):
        def connection_made(self, transport):
            accepted.append(transport)
            connected.set()

    server = await loop.create_server(Keep, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    transport, _ = await loop.create_connection(asyncio.Protocol, "127.0.0.1", port)
    await connected.wait()
    assert not peer_has_spoken(transport)
    # The server closes; nothing below yields to the event loop, so it cannot have seen the FIN.
    accepted[0].get_extra_info("socket").shutdown(socket.SHUT_WR)
    assert not transport.is_closing()
    assert peer_has_spoken(transport)
    transport.close()
    accepted[0].close()
    server.close()


def test_upstream_idle_timeout_is_parsed_and_checked():
    """SIGNPROXY_UPSTREAM_IDLE_TIMEOUT defaults to 15 s, takes fractions, names itself if bad."""
    base = {"OKX_API_KEY": "k", "OKX_API_SECRET": "s", "OKX_API_PASSPHRASE": "p"}
    assert Settings.from_env(base).upstream_idle_timeout == 15.0
    parsed = Settings.from_env({**base, "SIGNPROXY_UPSTREAM_IDLE_TIMEOUT": "2.5"})
    assert parsed.upstream_idle_timeout == 2.5
    with pytest.raises(ConfigError, match="SIGNPROXY_UPSTREAM_IDLE_TIMEOUT"):
        Settings.from_env({**base, "SIGNPROXY_UPSTREAM_IDLE_TIMEOUT": "0"})
