"""Log amplification: clients' faults cost one compact line each, thinned past a per-second budget."""

from __future__ import annotations

import asyncio
import json

from signproxy.runtime.logbudget import LINES_PER_SECOND
from tests.support.rawhttp import send_raw

MALFORMED = b"GET /api/v5/account/balance HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header\r\n\r\n"


def _events(log_output, name: str) -> list[dict]:
    lines = [json.loads(line) for line in log_output.getvalue().splitlines() if line]
    return [line for line in lines if line.get("event") == name]


def _accounted(log_output, event: str, kind: str) -> int:
    """Lines of ``event`` written plus those of ``kind`` counted in suppression summaries."""
    written = _events(log_output, event)
    if event == "signproxy.request":
        written = [line for line in written if line.get("error") == "SPX200"]
    summed = sum(
        line["suppressed"]
        for line in _events(log_output, "signproxy.log_suppressed")
        if line["kind"] == kind
    )
    return len(written) + summed


async def _wait_for_all(log_output, event: str, kind: str, count: int) -> None:
    async with asyncio.timeout(10):  # the last summary comes on a timer, a second later
        while _accounted(log_output, event, kind) < count:  # noqa: ASYNC110
            await asyncio.sleep(0.05)


async def test_malformed_requests_log_no_traceback_and_are_summarized(proxy, log_output) -> None:
    """200 malformed requests: no traceback, at most a budget of lines, the rest summed up."""
    port = proxy.proxy.port
    replies = await asyncio.gather(*(send_raw(port, MALFORMED) for _ in range(200)))
    assert {reply.status for reply in replies} == {400}
    await _wait_for_all(log_output, "signproxy.bad_request", "bad_request", 200)
    text = log_output.getvalue()
    assert "Traceback" not in text
    assert "Error handling request" not in text
    compact = _events(log_output, "signproxy.bad_request")
    assert LINES_PER_SECOND <= len(compact) < 200
    assert _accounted(log_output, "signproxy.bad_request", "bad_request") == 200
    assert all(len(json.dumps(line)) < 400 for line in compact)


async def test_refusal_lines_are_thinned_and_counted(make_proxy, log_output) -> None:
    """200 tokenless requests: a budget of refusal lines, the rest counted in a summary line."""
    proxy = await make_proxy(SIGNPROXY_CLIENT_TOKENS="bot:" + "t" * 32)
    replies = await asyncio.gather(*(proxy.get("/api/v5/account/balance") for _ in range(200)))
    assert {reply.status for reply in replies} == {401}
    await _wait_for_all(log_output, "signproxy.request", "refusal", 200)
    refusals = [
        line for line in _events(log_output, "signproxy.request") if line.get("error") == "SPX200"
    ]
    suppressed = [
        line["suppressed"]
        for line in _events(log_output, "signproxy.log_suppressed")
        if line["kind"] == "refusal"
    ]
    assert len(refusals) + sum(suppressed) == 200
    assert len(refusals) < 200
