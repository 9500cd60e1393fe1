"""Logs: one canonical line per request, and no secret anywhere in the output."""

import io
import logging

import structlog
from aiohttp import web

from signproxy.emulator import EmulatorState
from signproxy.runtime.logs import REDACTED, Redactor, configure
from signproxy.settings.tokens import ClientToken
from tests.conftest import MakeProxy, start_raw_server
from tests.support.keys import ALL_SECRETS, LIVE_KEY
from tests.support.logs import log_lines

ORDER = '{"instId":"BTC-USDT","tdMode":"cash","side":"buy","ordType":"limit","px":"1","sz":"1"}'


async def test_one_line_per_request_with_fields(proxy, log_output: io.StringIO) -> None:
    """Each request gives one signproxy.request line with id, method, path, status, code and timings."""
    reply = await proxy.post("/api/v5/trade/order", ORDER, headers={"X-Request-Id": "rid-1"})
    assert reply.status == 200
    (line,) = log_lines(log_output, "signproxy.request")
    assert line["request_id"] == "rid-1"
    assert (line["method"], line["path"], line["status"], line["okx_code"]) == (
        "POST",
        "/api/v5/trade/order",
        200,
        "0",
    )
    assert line["total_ms"] >= line["upstream_ms"] > 0
    assert line["level"] == "info"


async def test_refusal_line_names_error(proxy, log_output: io.StringIO) -> None:
    """A refused request's line carries the proxy's error code and reason, at warning level."""
    await proxy.post("/api/v5/trade/order", "{bad")
    (line,) = log_lines(log_output, "signproxy.request")
    assert (line["status"], line["error"], line["level"]) == (400, "SPX107", "warning")
    assert "JSON" in line["reason"]


async def test_debug_logs_prehash_without_secret(proxy, log_output: io.StringIO) -> None:
    """At debug level the prehash string is logged, so users can compare it on a 50113."""
    await proxy.get("/api/v5/account/balance?ccy=BTC")
    (line,) = log_lines(log_output, "signproxy.prehash")
    assert line["prehash"].endswith("GET/api/v5/account/balance?ccy=BTC")


async def test_no_secret_in_any_output(
    make_proxy: MakeProxy,
    emulator: EmulatorState,
    log_output: io.StringIO,
    aiohttp_server,
    unused_tcp_port,
) -> None:
    """A run with successes, OKX errors, bad input and upstream failures logs no key, secret or passphrase."""
    proxy = await make_proxy()
    await proxy.get("/api/v5/account/balance")
    await proxy.post("/api/v5/trade/order", ORDER)
    await proxy.post("/api/v5/trade/order", '{"a":1,"a":2}')
    await proxy.post("/api/v5/trade/order", ORDER, headers={"Content-Type": "text/plain"})
    await proxy.get("/api/v5/x?a=%zz")
    await proxy.request("PATCH", "/api/v5/trade/order")
    await proxy.get(f"/api/v5/account/balance?echo={LIVE_KEY.secret}")
    wrong = type(LIVE_KEY)(LIVE_KEY.api_key, LIVE_KEY.secret[::-1], LIVE_KEY.passphrase)
    await (await make_proxy(wrong)).get("/api/v5/account/balance")
    await (await make_proxy(upstream=f"http://127.0.0.1:{unused_tcp_port}")).post(
        "/api/v5/trade/order", ORDER
    )

    async def broken(_request: web.Request) -> web.Response:
        raise RuntimeError("boom")

    url = await start_raw_server(broken, aiohttp_server)
    await (await make_proxy(upstream=url)).get("/api/v5/account/balance")
    output = log_output.getvalue()
    assert "signproxy.request" in output
    assert any(entry.get("okx_code") == "50113" for entry in log_lines(log_output))
    for secret in (*ALL_SECRETS, wrong.secret):
        assert secret not in output
    for entry in emulator.received:
        assert entry.headers["OK-ACCESS-SIGN"] not in output


def test_redactor_scrubs_values_fields_and_exceptions() -> None:
    """Secrets are removed from messages, sensitive fields, tracebacks and stdlib log records."""
    stream = io.StringIO()
    configure(
        level="debug",
        fmt="json",
        redactor=Redactor(['s3cr3t-"quoted"']),
        stream=stream,
        cache=False,
    )
    log = structlog.get_logger("test")
    log.info(
        "signproxy.test", detail='has s3cr3t-"quoted" inside', passphrase="anything", sign="abc"
    )
    try:
        raise ValueError('s3cr3t-"quoted"')
    except ValueError:
        log.exception("signproxy.test_exc")
    logging.getLogger("aiohttp.server").error('stdlib says s3cr3t-"quoted"')
    output = stream.getvalue()
    assert "s3cr3t" not in output
    assert output.count(REDACTED) >= 5
    assert "anything" not in output


def test_dataclasses_in_log_fields_render_as_their_repr() -> None:
    """A dataclass logged by mistake shows its repr (repr=False fields hidden), not every field."""
    stream = io.StringIO()
    configure(level="debug", fmt="json", redactor=Redactor(), stream=stream, cache=False)
    structlog.get_logger("test").info(
        "signproxy.test", client=ClientToken("bot", "tok-0123456789abcdefghij")
    )
    output = stream.getvalue()
    assert "tok-0123456789abcdefghij" not in output
    assert "digest" not in output
    assert "ClientToken(name='bot'" in output
