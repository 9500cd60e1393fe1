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


async def _wait_for(log_output, name: str) -> None:
    async with asyncio.timeout(10):
        while not _events(log_output, name):  # noqa: ASYNC110 - the summary comes on a timer
            await asyncio.sleep(0.05)


async def test_malformed_requests_log_no_traceback_and_are_summarized(proxy, log_output) -> None:
    """200 malformed requests: no traceback, at most a budget of lines, the rest summed up."""
    port = proxy.proxy.port
    replies = await asyncio.gather(*(send_raw(port, MALFORMED) for _ in range(200)))
    assert {reply.status for reply in replies} == {400}
    await _wait_for(log_output, "signproxy.log_suppressed")
    text = log_output.getvalue()
    assert "Traceback" not in text
    assert "Error handling request" not in text
    compact = _events(log_output, "signproxy.bad_request")
    suppressed = _events(log_output, "signproxy.log_suppressed")
    assert LINES_PER_SECOND <= len(compact) < 200
    assert len(compact) + sum(line["suppressed"] for line in suppressed) == 200
    assert all(len(json.dumps(line)) < 400 for line in compact)


async def test_refusal_lines_are_thinned_and_counted(make_proxy, log_output) -> None:
    """200 tokenless requests: a budget of refusal lines, the rest counted in a summary line."""
    proxy = await make_proxy(SIGNPROXY_CLIENT_TOKENS="bot:" + "t" * 32)
    replies = await asyncio.gather(*(proxy.get("/api/v5/account/balance") for _ in range(200)))
    assert {reply.status for reply in replies} == {401}
    await _wait_for(log_output, "signproxy.log_suppressed")
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
