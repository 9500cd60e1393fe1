"""End to end: a real client, the proxy, and the verifying OKX emulator, all on 127.0.0.1."""

import asyncio
import json

import pytest
from aiohttp import web

from signproxy.emulator import EmulatorState
from signproxy.okx.signing import Signer
from tests.conftest import MakeProxy, start_raw_server
from tests.support.keys import DEMO_KEY, LIVE_KEY

ORDER = '{"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "limit", "px": "30000", "sz": "0.00000001"}'


async def test_get_is_signed_and_accepted(proxy, emulator: EmulatorState) -> None:
    """An unsigned GET reaches OKX signed and is accepted; the answer is relayed."""
    reply = await proxy.get("/api/v5/account/balance?ccy=BTC")
    assert reply.status == 200
    assert reply.json()["code"] == "0"
    (seen,) = emulator.received
    assert seen.code == "0"
    assert seen.target == "/api/v5/account/balance?ccy=BTC"
    assert seen.body == b""


async def test_post_is_signed_over_canonical_body(proxy, emulator: EmulatorState) -> None:
    """A POST is sent compact, with number literals exactly as written, and signed over those bytes.

    The proxy's client order id is inserted first; every other byte is the client's.
    """
    reply = await proxy.post("/api/v5/trade/order", ORDER)
    assert reply.status == 200
    assert reply.json()["data"][0]["sCode"] == "0"
    cl_ord_id = reply.json()["data"][0]["clOrdId"]
    (seen,) = emulator.received
    assert seen.code == "0"
    compact = ORDER.replace(", ", ",").replace(": ", ":")
    assert seen.body == ('{"clOrdId":"' + cl_ord_id + '",' + compact[1:]).encode()
    assert b"0.00000001" in seen.body


async def test_raw_body_mode_sends_client_bytes(
    make_proxy: MakeProxy, emulator: EmulatorState
) -> None:
    """With SIGNPROXY_BODY=raw the client's exact bytes are signed and sent."""
    proxy = await make_proxy(SIGNPROXY_BODY="raw")
    body = '{ "instId" : "BTC-USDT",\n "lever": "5", "mgnMode": "isolated" }'
    reply = await proxy.post("/api/v5/account/set-leverage", body)
    assert reply.status == 200
    assert emulator.received[0].body == body.encode()
    assert emulator.received[0].code == "0"


async def test_batch_orders_array_body(proxy, emulator: EmulatorState) -> None:
    """A JSON array body (batch orders) is canonicalized, signed and accepted."""
    body = json.dumps([json.loads(ORDER), {**json.loads(ORDER), "clOrdId": "b2"}], indent=2)
    reply = await proxy.post("/api/v5/trade/batch-orders", body)
    assert reply.status == 200
    assert [item["sCode"] for item in reply.json()["data"]] == ["0", "0"]
    given = reply.json()["data"][0]["clOrdId"]  # the first item had none: the proxy's own
    items = [{"clOrdId": given, **json.loads(ORDER)}, {**json.loads(ORDER), "clOrdId": "b2"}]
    assert emulator.received[0].body == json.dumps(items, separators=(",", ":")).encode()


@pytest.mark.parametrize(
    "query",
    [
        "instId=BTC-USDT,ETH-USDT",
        "after=2024-01-01T00:00:00",
        "instId=BTC-USDT%2CETH-USDT",
        "instId=btc%2cusdt",
        "a=1+2",
        "a=x%20y",
        "ccy=%E4%B8%AD%E6%96%87",
        "instType=SPOT&instType=SWAP",
        "a=&b=&c",
        "a=1&&b=2",
        "q=~!$'()*;:@/?",
    ],
)
async def test_query_reaches_okx_exactly_as_signed(
    proxy, emulator: EmulatorState, query: str
) -> None:
    """The query arrives upstream byte for byte as the client sent it, and the signature holds."""
    target = "/api/v5/market/tickers?" + query
    reply = await proxy.get(target)
    assert reply.status == 200, reply.body
    (seen,) = emulator.received
    assert seen.target == target
    assert seen.code == "0"  # the emulator verified the signature over this raw target


async def test_client_auth_headers_are_replaced(proxy, emulator: EmulatorState) -> None:
    """OK-ACCESS-* headers a client sends (dummy SDK keys) are dropped and replaced."""
    dummy = {
        "OK-ACCESS-KEY": "dummy",
        "OK-ACCESS-SIGN": "dummy",
        "OK-ACCESS-TIMESTAMP": "2000-01-01T00:00:00.000Z",
        "OK-ACCESS-PASSPHRASE": "dummy",
        "ok-access-extra": "x",
    }
    reply = await proxy.get("/api/v5/account/balance", headers=dummy)
    assert reply.status == 200
    headers = emulator.received[0].headers
    assert headers["OK-ACCESS-KEY"] == LIVE_KEY.api_key
    assert headers.getall("OK-ACCESS-SIGN") != ["dummy"]
    assert len(headers.getall("OK-ACCESS-KEY")) == 1
    assert "ok-access-extra" not in headers


async def test_timestamp_header_is_iso_with_millis(proxy, emulator: EmulatorState) -> None:
    """OK-ACCESS-TIMESTAMP is ISO 8601 UTC with milliseconds."""
    await proxy.get("/api/v5/account/balance")
    stamp = emulator.received[0].headers["OK-ACCESS-TIMESTAMP"]
    assert len(stamp) == 24
    assert stamp[10] == "T"
    assert stamp.endswith("Z")
    assert stamp[19] == "."


async def test_demo_key_always_sends_simulated_header(
    make_proxy: MakeProxy, emulator: EmulatorState
) -> None:
    """With OKX_DEMO=1 every request carries x-simulated-trading: 1, whatever the client sent."""
    proxy = await make_proxy(DEMO_KEY)
    for headers in ({}, {"x-simulated-trading": "0"}):
        reply = await proxy.get("/api/v5/account/balance", headers=headers)
        assert reply.status == 200
        assert reply.json()["code"] == "0"
    assert [r.headers.getall("x-simulated-trading") for r in emulator.received] == [["1"], ["1"]]


async def test_live_key_drops_client_simulated_header(proxy, emulator: EmulatorState) -> None:
    """With a live key a client's x-simulated-trading (python-okx's default '1') is removed."""
    reply = await proxy.get("/api/v5/account/balance", headers={"x-simulated-trading": "1"})
    assert reply.status == 200
    assert reply.json()["code"] == "0"
    assert "x-simulated-trading" not in emulator.received[0].headers


async def test_only_allowlisted_client_headers_are_forwarded(
    proxy, emulator: EmulatorState
) -> None:
    """Identity headers from the client never reach OKX; expTime and User-Agent do."""
    # Headers that could steer the upstream (Forwarded, X-Forwarded-Host...) are refused outright
    # by the guard (tests/proxy/test_security.py); these are merely dropped.
    sent = {
        "X-Forwarded-For": "203.0.113.9",
        "Cookie": "a=b",
        "Authorization": "Bearer x",
        "expTime": "1597026383085",
        "User-Agent": "my-bot/1.0",
    }
    await proxy.get("/api/v5/account/balance", headers=sent)
    headers = emulator.received[0].headers
    for name in ("X-Forwarded-For", "Cookie", "Authorization"):
        assert name not in headers
    assert headers["expTime"] == "1597026383085"
    assert headers["User-Agent"] == "my-bot/1.0"
    assert headers["Host"] == emulator_host(headers)


def emulator_host(headers) -> str:
    """The Host header the emulator saw (it is the emulator's own address)."""
    host: str = headers["Host"]
    assert host.startswith("127.0.0.1:")
    return host


async def test_okx_errors_are_relayed_unchanged(
    make_proxy: MakeProxy, emulator: EmulatorState
) -> None:
    """OKX's own errors (here 50113 from a wrong secret) reach the client as OKX sent them."""
    wrong = type(LIVE_KEY)(
        LIVE_KEY.api_key, "FAKE0WRONG0SECRET0000000000000000", LIVE_KEY.passphrase
    )
    proxy = await make_proxy(wrong)
    reply = await proxy.get("/api/v5/account/balance")
    assert reply.status == 401
    assert reply.json() == {"msg": "Invalid Sign", "code": "50113"}
    assert "X-Signproxy-Error" not in reply.headers
    assert emulator.received[0].code == "50113"


async def test_upstream_status_type_and_headers_relayed(
    aiohttp_server, make_proxy: MakeProxy
) -> None:
    """Status, body, content type and end-to-end headers are relayed; hop-by-hop ones are not."""

    async def upstream(_request: web.Request) -> web.Response:
        return web.Response(
            status=429,
            body=b'{"code":"50011","msg":"Too Many Requests","data":[]}',
            content_type="application/json",
            headers={"X-Custom": "kept", "Keep-Alive": "timeout=5", "Set-Cookie": "edge=1"},
        )

    url = await start_raw_server(upstream, aiohttp_server)
    proxy = await make_proxy(upstream=url)
    reply = await proxy.get("/api/v5/account/balance")
    assert reply.status == 429
    assert reply.json()["code"] == "50011"
    assert reply.headers["Content-Type"].startswith("application/json")
    assert reply.headers["X-Custom"] == "kept"
    assert "Set-Cookie" not in reply.headers
    assert "Keep-Alive" not in reply.headers


@pytest.mark.parametrize(
    ("method", "target", "body", "headers", "status", "code"),
    [
        ("GET", "/health", None, {}, 404, "SPX100"),
        ("GET", "/api/v4/account/balance", None, {}, 404, "SPX100"),
        ("PUT", "/api/v5/trade/order", ORDER, {}, 405, "SPX101"),
        ("DELETE", "/api/v5/trade/order", None, {}, 405, "SPX101"),
        ("GET", "/api/v5/account/../asset/withdrawal", None, {}, 400, "SPX102"),
        ("GET", "/api/v5/x?a=%zz", None, {}, 400, "SPX102"),
        ("POST", "/api/v5/trade/order?x=1", ORDER, {}, 400, "SPX102"),
        ("POST", "/api/v5/trade/order", ORDER, {"Content-Type": "text/plain"}, 415, "SPX103"),
        (
            "POST",
            "/api/v5/trade/order",
            ORDER,
            {"Content-Type": "application/x-www-form-urlencoded"},
            415,
            "SPX103",
        ),
        (
            "POST",
            "/api/v5/trade/order",
            ORDER,
            {"Content-Type": "application/json; charset=latin-1"},
            415,
            "SPX103",
        ),
        ("GET", "/api/v5/account/balance", "{}", {}, 400, "SPX104"),
        ("POST", "/api/v5/trade/order", None, {}, 400, "SPX105"),
        ("POST", "/api/v5/trade/order", "", {"Content-Type": "application/json"}, 400, "SPX105"),
        ("POST", "/api/v5/trade/order", '{"a": 1, "a": 2}', {}, 400, "SPX107"),
        ("POST", "/api/v5/trade/order", "{not json", {}, 400, "SPX107"),
        ("POST", "/api/v5/trade/order", '{"px": NaN}', {}, 400, "SPX107"),
    ],
)
async def test_bad_input_is_refused_and_never_forwarded(
    proxy, emulator: EmulatorState, method, target, body, headers, status, code
) -> None:
    """Each bad input gets its status, an OKX-shaped body with the proxy's code, and is not forwarded."""
    reply = await proxy.request(method, target, body=body, headers=headers)
    assert reply.status == status
    payload = reply.json()
    assert payload["code"] == code
    assert payload["data"] == []
    assert payload["msg"]
    assert reply.headers["X-Signproxy-Error"] == code
    assert emulator.received == []


async def test_body_over_limit_is_413(make_proxy: MakeProxy, emulator: EmulatorState) -> None:
    """A body over SIGNPROXY_MAX_BODY_BYTES gets 413 and is not forwarded, with or without a length."""
    proxy = await make_proxy(SIGNPROXY_MAX_BODY_BYTES="100")
    big = json.dumps({"pad": "x" * 200})
    reply = await proxy.post("/api/v5/trade/order", big)
    assert (reply.status, reply.json()["code"]) == (413, "SPX106")

    async def chunks():
        yield big[:50].encode()
        yield big[50:].encode()

    url = proxy.base + "/api/v5/trade/order"
    async with proxy.session.post(
        url, data=chunks(), headers={"Content-Type": "application/json"}
    ) as resp:
        assert resp.status == 413
        assert (await resp.json())["code"] == "SPX106"
    assert emulator.received == []


async def test_chunked_body_within_limit_is_forwarded(proxy, emulator: EmulatorState) -> None:
    """A chunked request body is read whole, then signed and forwarded."""

    async def chunks():
        yield ORDER[:20].encode()
        yield ORDER[20:].encode()

    url = proxy.base + "/api/v5/trade/order"
    async with proxy.session.post(
        url, data=chunks(), headers={"Content-Type": "application/json"}
    ) as resp:
        assert resp.status == 200
    assert emulator.received[0].code == "0"


async def test_request_id_is_echoed_or_made(proxy) -> None:
    """A plain client X-Request-Id is echoed; a missing or odd one is replaced by a fresh one."""
    reply = await proxy.get("/api/v5/account/balance", headers={"X-Request-Id": "bot-42.a"})
    assert reply.headers["X-Request-Id"] == "bot-42.a"
    odd = await proxy.get("/api/v5/account/balance", headers={"X-Request-Id": "has space\tand tab"})
    made = await proxy.get("/health")
    assert len(odd.headers["X-Request-Id"]) == 32
    assert len(made.headers["X-Request-Id"]) == 32
    assert odd.headers["X-Request-Id"] != made.headers["X-Request-Id"]


async def test_unreachable_upstream_is_502(make_proxy: MakeProxy, unused_tcp_port: int) -> None:
    """A refused connection gives 502 SPX300 (nothing was sent)."""
    proxy = await make_proxy(upstream=f"http://127.0.0.1:{unused_tcp_port}")
    reply = await proxy.post("/api/v5/trade/order", ORDER)
    assert reply.status == 502
    assert reply.json()["code"] == "SPX300"
    assert "unknown" not in reply.json()["msg"]


async def test_timeout_is_504_and_post_outcome_unknown(
    aiohttp_server, make_proxy: MakeProxy
) -> None:
    """A slow upstream gives 504 SPX302; for a POST the message says the outcome is unknown."""
    seen: list[str] = []

    async def stall(request: web.Request) -> web.Response:
        seen.append(request.method)
        await asyncio.sleep(5)
        return web.Response(text="late")

    url = await start_raw_server(stall, aiohttp_server)
    proxy = await make_proxy(upstream=url, SIGNPROXY_TIMEOUT="0.3", SIGNPROXY_RESOLVE_TIMEOUT="0")
    reply = await proxy.post("/api/v5/trade/order", ORDER)
    assert reply.status == 504
    assert reply.json()["code"] == "SPX302"
    assert "clOrdId" in reply.json()["msg"]
    assert seen == ["POST"]


async def test_post_is_never_retried_after_disconnect(
    aiohttp_server, make_proxy: MakeProxy
) -> None:
    """When the connection drops after a POST was sent, the proxy answers 502 and sends it only once."""
    seen: list[str] = []

    async def drop(request: web.Request) -> web.Response:
        seen.append(request.method)
        assert request.transport is not None
        request.transport.close()
        await asyncio.sleep(0.1)
        return web.Response(text="never")

    url = await start_raw_server(drop, aiohttp_server)
    proxy = await make_proxy(upstream=url, SIGNPROXY_RESOLVE_TIMEOUT="0")
    # Warm the pool so the POST goes over a reused keep-alive connection (the retry-prone case).
    await proxy.get("/api/v5/public/time")
    seen.clear()
    reply = await proxy.post("/api/v5/trade/order", ORDER)
    assert reply.status == 502
    assert reply.json()["code"] == "SPX301"
    assert "unknown" in reply.json()["msg"]
    assert seen == ["POST"]


async def test_redirects_are_not_followed(aiohttp_server, make_proxy: MakeProxy) -> None:
    """A redirect from upstream is relayed, never followed (a signed request stays where it was sent)."""
    hits: list[str] = []

    async def redirect(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(status=302, headers={"Location": "http://127.0.0.1:9/elsewhere"})

    url = await start_raw_server(redirect, aiohttp_server)
    proxy = await make_proxy(upstream=url)
    reply = await proxy.get("/api/v5/account/balance")
    assert reply.status == 302
    assert hits == ["/api/v5/account/balance"]


async def test_signature_matches_independent_computation(proxy, emulator: EmulatorState) -> None:
    """The signature on the wire equals HMAC over the received timestamp, method, target and body."""
    await proxy.post("/api/v5/trade/order", ORDER)
    seen = emulator.received[0]
    stamp = seen.headers["OK-ACCESS-TIMESTAMP"]
    expected = Signer(LIVE_KEY.secret).sign_request(stamp, "POST", seen.target, seen.body)
    assert seen.headers["OK-ACCESS-SIGN"] == expected
