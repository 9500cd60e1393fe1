"""Upstream faults, each from a real misbehaving server on 127.0.0.1.

The client gets the documented status and proxy error code, a log line says what happened, a
POST is never sent twice, and the proxy keeps serving afterwards.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import Harness, MakeProxy
from tests.support.faultserver import FaultServer, closed_port, self_signed_context
from tests.support.logs import log_lines

ORDER = (
    '{"instId":"BTC-USDT","tdMode":"cash","side":"buy","ordType":"market","sz":"1","clOrdId":"f1"}'
)
UNKNOWN = "outcome is unknown: look the order up (by clOrdId) before sending it again"


@pytest.fixture
async def fault() -> AsyncIterator[FaultServer]:
    server = FaultServer("ok")
    yield server
    await server.close()


async def send(proxy: Harness, method: str):
    if method == "POST":
        return await proxy.post("/api/v5/trade/order", ORDER)
    return await proxy.get("/api/v5/account/balance?ccy=USDT")


def assert_refused(reply, status: int, code: str, *, unknown: bool) -> None:
    assert reply.status == status
    assert reply.headers["X-Signproxy-Error"] == code
    body = reply.json()
    assert body["code"] == code
    assert (UNKNOWN in body["msg"]) is unknown


CASES = [
    # kind, status, code, outcome unknown for POST
    ("reset_before", 502, "SPX301", True),
    ("close_before", 502, "SPX301", True),
    ("reset_during", 502, "SPX301", True),
    ("garbage", 502, "SPX303", True),
    ("stall", 504, "SPX302", True),
    ("stall_during", 504, "SPX302", True),
]


@pytest.mark.parametrize(("kind", "status", "code", "unknown"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_fault_gives_documented_error_and_proxy_keeps_serving(
    make_proxy: MakeProxy,
    fault: FaultServer,
    log_output,
    method: str,
    kind: str,
    status: int,
    code: str,
    unknown: bool,  # noqa: FBT001
) -> None:
    """Each fault maps to its status and code; POST says the outcome is unknown; next one works."""
    fault.kind = kind
    url = await fault.start()
    proxy = await make_proxy(
        upstream=url,
        SIGNPROXY_RESOLVE_TIMEOUT="0",
        SIGNPROXY_DEDUP_WINDOW="0",
        SIGNPROXY_TIMEOUT="0.5",
        SIGNPROXY_GET_RETRIES="0",
    )
    reply = await send(proxy, method)
    assert_refused(reply, status, code, unknown=unknown and method == "POST")
    line = log_lines(log_output, "signproxy.request")[-1]
    assert (line["status"], line["error"], line["level"]) == (status, code, "error")
    if method == "POST":
        assert fault.requests == 1  # never resent
    fault.kind = "ok"
    after = await send(proxy, method)
    assert after.status == 200
    assert after.json()["code"] == "0"


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_connection_refused_is_spx300_nothing_sent(
    make_proxy: MakeProxy, log_output, method: str
) -> None:
    """A closed port gives 502 SPX300, and the message says the request was not sent."""
    proxy = await make_proxy(upstream=f"http://127.0.0.1:{closed_port()}")
    reply = await send(proxy, method)
    assert_refused(reply, 502, "SPX300", unknown=False)
    assert "cannot connect" in reply.json()["msg"]
    assert log_lines(log_output, "signproxy.request")[-1]["error"] == "SPX300"


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_tls_failure_is_spx300_and_not_retried(
    make_proxy: MakeProxy, fault: FaultServer, tmp_path: Path, log_output, method: str
) -> None:
    """An untrusted (self-signed) certificate gives 502 SPX300 after one connection attempt."""
    url = await fault.start(self_signed_context(tmp_path))
    proxy = await make_proxy(
        upstream=url,
        SIGNPROXY_RESOLVE_TIMEOUT="0",
        SIGNPROXY_DEDUP_WINDOW="0",
        SIGNPROXY_GET_RETRIES="3",
    )
    reply = await send(proxy, method)
    assert_refused(reply, 502, "SPX300", unknown=False)
    assert "TLS" in reply.json()["msg"]
    assert fault.connections == 1
    assert fault.requests == 0  # nothing was ever sent in the clear
    assert log_lines(log_output, "signproxy.request")[-1]["error"] == "SPX300"


async def test_plain_http_where_tls_is_expected_is_spx300(
    make_proxy: MakeProxy, fault: FaultServer
) -> None:
    """An https upstream that speaks plain HTTP is a TLS failure: 502 SPX300, nothing sent."""
    fault.kind = "greet_plain"
    url = await fault.start()
    proxy = await make_proxy(
        upstream=url.replace("http://", "https://"),
        SIGNPROXY_RESOLVE_TIMEOUT="0",
        SIGNPROXY_DEDUP_WINDOW="0",
    )
    reply = await send(proxy, "POST")
    assert_refused(reply, 502, "SPX300", unknown=False)
    assert fault.requests == 0


async def test_tls_handshake_that_never_finishes_is_a_connect_timeout(
    make_proxy: MakeProxy, fault: FaultServer
) -> None:
    """A silent server behind https times out connecting: 504 SPX302, and nothing was sent."""
    fault.kind = "stall"
    url = await fault.start()
    proxy = await make_proxy(
        upstream=url.replace("http://", "https://"),
        SIGNPROXY_CONNECT_TIMEOUT="0.3",
        SIGNPROXY_TIMEOUT="5",
    )
    reply = await send(proxy, "POST")
    assert_refused(reply, 504, "SPX302", unknown=False)
    assert "was not sent" in reply.json()["msg"]
    assert fault.requests == 0


async def test_slow_answer_within_the_timeout_is_relayed(
    make_proxy: MakeProxy, fault: FaultServer
) -> None:
    """A slow upstream that answers before SIGNPROXY_TIMEOUT is relayed normally."""
    fault.delay = 0.3
    url = await fault.start()
    proxy = await make_proxy(
        upstream=url,
        SIGNPROXY_RESOLVE_TIMEOUT="0",
        SIGNPROXY_DEDUP_WINDOW="0",
        SIGNPROXY_TIMEOUT="3",
    )
    reply = await send(proxy, "POST")
    assert reply.status == 200
    assert reply.json()["code"] == "0"
    assert "X-Signproxy-Error" not in reply.headers


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_endless_response_is_cut_at_the_limit(
    make_proxy: MakeProxy, fault: FaultServer, method: str
) -> None:
    """An endless streamed answer is read only up to SIGNPROXY_MAX_RESPONSE_BYTES: 502 SPX303."""
    fault.kind = "endless"
    url = await fault.start()
    limit = 1024 * 1024
    proxy = await make_proxy(
        upstream=url,
        SIGNPROXY_RESOLVE_TIMEOUT="0",
        SIGNPROXY_DEDUP_WINDOW="0",
        SIGNPROXY_MAX_RESPONSE_BYTES=str(limit),
    )
    reply = await send(proxy, method)
    assert_refused(reply, 502, "SPX303", unknown=method == "POST")
    # The proxy hung up: the stream ended after the limit plus what socket buffers hold.
    await asyncio.wait_for(fault.stream_ended.wait(), 5)
    assert fault.bytes_streamed < limit + 32 * 1024 * 1024
    fault.kind = "ok"
    assert (await send(proxy, method)).status == 200


@pytest.mark.parametrize(("retries", "expected"), [(0, 2), (2, 6)])
async def test_get_retried_on_connection_errors_a_bounded_number_of_times(
    make_proxy: MakeProxy, fault: FaultServer, log_output, retries: int, expected: int
) -> None:
    """A GET whose connection drops before any answer is sent (retries+1) x 2 times at most.

    The x 2 is aiohttp's own single resend of idempotent requests on a dropped connection.
    """
    fault.kind = "reset_before"
    url = await fault.start()
    proxy = await make_proxy(
        upstream=url,
        SIGNPROXY_RESOLVE_TIMEOUT="0",
        SIGNPROXY_DEDUP_WINDOW="0",
        SIGNPROXY_GET_RETRIES=str(retries),
    )
    reply = await send(proxy, "GET")
    assert_refused(reply, 502, "SPX301", unknown=False)
    assert fault.requests == expected
    retried = log_lines(log_output, "signproxy.upstream_retry")
    assert [line["attempt"] for line in retried] == list(range(1, retries + 1))


async def test_get_retry_succeeds_when_the_upstream_recovers(
    make_proxy: MakeProxy, fault: FaultServer
) -> None:
    """A GET that hit a dropped connection succeeds on a later try without the client noticing."""
    fault.kind = "reset_before"
    url = await fault.start()
    proxy = await make_proxy(
        upstream=url,
        SIGNPROXY_RESOLVE_TIMEOUT="0",
        SIGNPROXY_DEDUP_WINDOW="0",
        SIGNPROXY_GET_RETRIES="3",
    )
    task = asyncio.create_task(send(proxy, "GET"))
    while fault.requests < 2:  # noqa: ASYNC110 - polling a counter of the local server
        await asyncio.sleep(0.005)
    fault.kind = "ok"
    reply = await asyncio.wait_for(task, 5)
    assert reply.status == 200


@pytest.mark.parametrize("kind", ["reset_before", "stall", "reset_during"])
async def test_post_and_get_timeouts_and_late_resets_are_never_retried(
    make_proxy: MakeProxy, fault: FaultServer, kind: str
) -> None:
    """POST is sent once whatever happens; a GET is not retried on a timeout or a late reset."""
    fault.kind = kind
    url = await fault.start()
    proxy = await make_proxy(
        upstream=url,
        SIGNPROXY_RESOLVE_TIMEOUT="0",
        SIGNPROXY_DEDUP_WINDOW="0",
        SIGNPROXY_TIMEOUT="0.3",
        SIGNPROXY_GET_RETRIES="3",
    )
    await send(proxy, "POST")
    assert fault.requests == 1
    if kind != "reset_before":
        await send(proxy, "GET")
        assert fault.requests == 2
