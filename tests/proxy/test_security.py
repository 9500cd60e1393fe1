"""The guard: client tokens, Host, browsers, CORS, steering headers; nothing refused reaches OKX."""

import io

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from signproxy.proxy.guard import STEERING_HEADERS, Guard
from signproxy.refusals import HostRefused
from signproxy.runtime.logs import Redactor, configure
from signproxy.settings.access import Access
from signproxy.settings.config import Settings
from tests.conftest import Harness, MakeProxy, Reply, start_raw_server
from tests.support.keys import ALL_SECRETS, LIVE_KEY, env_for
from tests.support.logs import log_lines
from tests.support.rawhttp import send_raw

TOKEN_A = "tok-A-0123456789abcdefghijklmnop"
TOKEN_B = "tok-B-ZYXWVUTSRQPONMLKJIHGFEDCBA"
TOKENS = f"bot-a:{TOKEN_A},bot-b:{TOKEN_B}"
BALANCE = "/api/v5/account/balance?ccy=USDT"
ORDER = "/api/v5/trade/order"
ORDER_BODY = '{"instId":"BTC-USDT","tdMode":"cash","side":"buy","ordType":"market","sz":"1"}'


def assert_refused(reply: Reply, status: int, code: str, harness: Harness) -> None:
    """The proxy answered with its own error and sent nothing to the emulator."""
    assert reply.status == status, reply.body
    assert reply.headers["X-Signproxy-Error"] == code
    assert reply.json()["code"] == code
    assert harness.emulator.received == []
    assert not [name for name in reply.headers if name.lower().startswith("access-control-")]


# --- client tokens ---------------------------------------------------------------------------


async def test_missing_token_is_401(make_proxy: MakeProxy, log_output: io.StringIO) -> None:
    """With tokens configured, a request without one gets 401 SPX200 and a warning log line."""
    proxy = await make_proxy(SIGNPROXY_CLIENT_TOKENS=TOKENS)
    assert_refused(await proxy.get(BALANCE), 401, "SPX200", proxy)
    (line,) = log_lines(log_output, "signproxy.request")
    assert (line["level"], line["rule"], line["error"]) == ("warning", "client-token", "SPX200")


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer tok-A-0123456789abcdefghijklmnoX"},
        {"Authorization": f"Bearer {TOKEN_A[:-1]}"},
        {"X-Signproxy-Token": TOKEN_A + "x"},
        {"X-Signproxy-Token": "bot-a"},
        {"Authorization": "Bearer " + ALL_SECRETS[1]},
    ],
    ids=["one-char-off", "prefix", "suffix", "the-name", "okx-secret"],
)
async def test_wrong_token_is_401(make_proxy: MakeProxy, headers: dict[str, str]) -> None:
    """A token that matches no configured one gets 401 SPX201."""
    proxy = await make_proxy(SIGNPROXY_CLIENT_TOKENS=TOKENS)
    assert_refused(await proxy.post(ORDER, ORDER_BODY, headers=headers), 401, "SPX201", proxy)


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": f"Basic {TOKEN_A}"},
        {"Authorization": "Bearer"},
        {"Authorization": f"Bearer {TOKEN_A}", "X-Signproxy-Token": TOKEN_A},
        {"Authorization": f"Bearer {TOKEN_A}", "X-Signproxy-Token": TOKEN_B},
    ],
    ids=["basic", "bearer-empty", "both-same", "both-different"],
)
async def test_malformed_or_doubled_token_is_400(
    make_proxy: MakeProxy, headers: dict[str, str]
) -> None:
    """A non-Bearer Authorization, or a token sent twice, gets 400 SPX202."""
    proxy = await make_proxy(SIGNPROXY_CLIENT_TOKENS=TOKENS)
    assert_refused(await proxy.get(BALANCE, headers=headers), 400, "SPX202", proxy)


@pytest.mark.parametrize(
    ("headers", "name"),
    [
        ({"Authorization": f"Bearer {TOKEN_A}"}, "bot-a"),
        ({"authorization": f"bearer {TOKEN_B}"}, "bot-b"),
        ({"X-Signproxy-Token": TOKEN_B}, "bot-b"),
    ],
    ids=["bearer", "lower-case-bearer", "x-signproxy-token"],
)
async def test_valid_token_is_forwarded_without_it(
    make_proxy: MakeProxy, log_output: io.StringIO, headers: dict[str, str], name: str
) -> None:
    """A valid token passes; OKX never sees it; the log names the token, never shows it."""
    proxy = await make_proxy(SIGNPROXY_CLIENT_TOKENS=TOKENS)
    reply = await proxy.post(ORDER, ORDER_BODY, headers=headers)
    assert reply.status == 200, reply.body
    (received,) = proxy.emulator.received
    assert received.code == "0"
    assert "Authorization" not in received.headers
    assert "X-Signproxy-Token" not in received.headers
    (line,) = log_lines(log_output, "signproxy.request")
    assert line["client"] == name
    assert TOKEN_A not in log_output.getvalue()
    assert TOKEN_B not in log_output.getvalue()


async def test_token_in_the_target_is_redacted(
    make_proxy: MakeProxy, log_output: io.StringIO
) -> None:
    """A token pasted into a refused request's query never reaches the log."""
    proxy = await make_proxy(SIGNPROXY_CLIENT_TOKENS=TOKENS)
    # As cli.py does: the redactor learns every sensitive value of the settings.
    settings = Settings.from_env(env_for(LIVE_KEY, proxy.base, SIGNPROXY_CLIENT_TOKENS=TOKENS))
    redactor = Redactor(settings.sensitive_values())
    configure(level="debug", fmt="json", redactor=redactor, stream=log_output, cache=False)
    reply = await proxy.request("DELETE", f"/api/v5/account/balance?token={TOKEN_A}")
    assert_refused(reply, 401, "SPX200", proxy)
    assert "signproxy.request" in log_output.getvalue()
    assert TOKEN_A not in log_output.getvalue()


async def test_tokens_off_ignores_token_headers(proxy: Harness) -> None:
    """Without configured tokens, token headers are ignored and still not forwarded."""
    reply = await proxy.get(BALANCE, headers={"Authorization": "Basic eDp5"})
    assert reply.status == 200
    assert "Authorization" not in proxy.emulator.received[0].headers


# --- Host (DNS rebinding) --------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    ["attacker.example", "attacker.example:8787", "127.0.0.1.nip.io", "localhost.attacker.example"],
)
async def test_foreign_host_is_refused(make_proxy: MakeProxy, host: str) -> None:
    """A Host that is not loopback or configured (DNS rebinding) gets 403 SPX203."""
    proxy = await make_proxy()
    assert_refused(await proxy.get(BALANCE, headers={"Host": host}), 403, "SPX203", proxy)
    reply = await proxy.post(ORDER, ORDER_BODY, headers={"Host": host})
    assert_refused(reply, 403, "SPX203", proxy)


@pytest.mark.parametrize(
    "host",
    ["localhost", "LOCALHOST:8787", "localhost.:1", "127.0.0.1", "127.1.2.3:80", "[::1]:8787"],
)
async def test_loopback_hosts_are_allowed(make_proxy: MakeProxy, host: str) -> None:
    """Loopback names and addresses, with any port, are allowed by default."""
    proxy = await make_proxy()
    assert (await proxy.get(BALANCE, headers={"Host": host})).status == 200


@pytest.mark.parametrize("host", ["[::1", "[::1]x", "a b", "::1", "localhost:http", ""])
async def test_malformed_host_is_refused(make_proxy: MakeProxy, host: str) -> None:
    """A malformed Host header gets 403 SPX203."""
    proxy = await make_proxy()
    assert_refused(await proxy.get(BALANCE, headers={"Host": host}), 403, "SPX203", proxy)


async def test_configured_host_is_allowed(make_proxy: MakeProxy) -> None:
    """SIGNPROXY_ALLOWED_HOSTS adds names (a sidecar's service name); others stay refused."""
    proxy = await make_proxy(SIGNPROXY_ALLOWED_HOSTS="signproxy, Proxy.Internal")
    assert (await proxy.get(BALANCE, headers={"Host": "signproxy:8787"})).status == 200
    assert (await proxy.get(BALANCE, headers={"Host": "proxy.internal"})).status == 200
    reply = await proxy.get(BALANCE, headers={"Host": "signproxy.attacker.example"})
    assert reply.status == 403


@pytest.mark.parametrize(
    "head",
    [
        b"GET /api/v5/account/balance HTTP/1.0\r\n",
        b"GET /api/v5/account/balance HTTP/1.1\r\nConnection: close\r\n",
        (
            b"GET /api/v5/account/balance HTTP/1.1\r\nConnection: close\r\nHost: 127.0.0.1\r\n"
            b"Host: attacker.example\r\n"
        ),
    ],
    ids=["http10-no-host", "no-host", "two-hosts"],
)
async def test_missing_or_repeated_host_is_refused(make_proxy: MakeProxy, head: bytes) -> None:
    """A request without exactly one Host header is refused; nothing is forwarded."""
    proxy = await make_proxy()
    reply = await send_raw(proxy.proxy.port, head + b"\r\n")
    assert reply.status in (400, 403)
    assert proxy.emulator.received == []


# --- browsers and CORS ------------------------------------------------------------------------

# What Chrome sends for fetch("http://127.0.0.1:8787/api/v5/trade/order", {method: "POST",
# mode: "no-cors", body: "..."}) from https://evil.example: text/plain needs no preflight.
CROSS_SITE_SIMPLE_FETCH = {
    "Origin": "https://evil.example",
    "Referer": "https://evil.example/",
    "Content-Type": "text/plain;charset=UTF-8",
    "Sec-Fetch-Site": "cross-site",
    "Sec-Fetch-Mode": "cors",
    "Sec-Fetch-Dest": "empty",
    "Accept": "*/*",
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0 Safari/537.36",
}
# What Chrome sends when a page on https://evil.example auto-submits <form method="post">.
CROSS_SITE_FORM_POST = {
    "Origin": "https://evil.example",
    "Referer": "https://evil.example/",
    "Content-Type": "application/x-www-form-urlencoded",
    "Sec-Fetch-Site": "cross-site",
    "Sec-Fetch-Mode": "navigate",
    "Sec-Fetch-Dest": "document",
    "Sec-Fetch-User": "?1",
    "Upgrade-Insecure-Requests": "1",
    "Accept": "text/html,application/xhtml+xml,*/*;q=0.8",
}
# <img src="http://127.0.0.1:8787/api/v5/..."> and a link the user clicks: GETs without Origin.
CROSS_SITE_IMAGE = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"}
CROSS_SITE_LINK = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}


async def test_cross_site_simple_fetch_is_refused(make_proxy: MakeProxy) -> None:
    """A cross-site text/plain fetch (no preflight needed) gets 403 SPX204."""
    proxy = await make_proxy()
    reply = await proxy.post(ORDER, ORDER_BODY, headers=CROSS_SITE_SIMPLE_FETCH)
    assert_refused(reply, 403, "SPX204", proxy)


async def test_cross_site_form_post_is_refused(make_proxy: MakeProxy) -> None:
    """A cross-site HTML form post gets 403 SPX204."""
    proxy = await make_proxy()
    body = "instId=BTC-USDT&side=buy&ordType=market&sz=1"
    reply = await proxy.post(ORDER, body, headers=CROSS_SITE_FORM_POST)
    assert_refused(reply, 403, "SPX204", proxy)


async def test_form_post_without_origin_is_still_refused(make_proxy: MakeProxy) -> None:
    """Without Origin, a form post is refused by its fetch metadata, or else by its type."""
    proxy = await make_proxy()
    no_origin = {k: v for k, v in CROSS_SITE_FORM_POST.items() if k != "Origin"}
    assert_refused(await proxy.post(ORDER, "a=b", headers=no_origin), 403, "SPX205", proxy)
    bare = {"Content-Type": "application/x-www-form-urlencoded"}
    assert_refused(await proxy.post(ORDER, "a=b", headers=bare), 415, "SPX103", proxy)


@pytest.mark.parametrize(
    "headers",
    [
        CROSS_SITE_IMAGE,
        CROSS_SITE_LINK,
        {"Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-User": "?1"},
        {"Sec-Fetch-Site": "same-site"},
        {"Sec-Fetch-Mode": "no-cors"},
        {"Sec-Fetch-Dest": "image"},
        {"Sec-Fetch-User": "?1"},
    ],
    ids=["image", "link", "typed-url", "same-site", "mode-no-cors", "dest-image", "user"],
)
async def test_browser_metadata_is_refused(make_proxy: MakeProxy, headers: dict[str, str]) -> None:
    """Fetch-metadata values only browsers send get 403 SPX205, even on a GET."""
    proxy = await make_proxy()
    assert_refused(await proxy.get(BALANCE, headers=headers), 403, "SPX205", proxy)


@pytest.mark.parametrize(
    "origin", ["null", "http://127.0.0.1:8787", "http://localhost:3000", "https://evil.example"]
)
async def test_any_unlisted_origin_is_refused(make_proxy: MakeProxy, origin: str) -> None:
    """Every Origin is refused by default, loopback pages and 'null' included."""
    proxy = await make_proxy()
    assert_refused(await proxy.get(BALANCE, headers={"Origin": origin}), 403, "SPX204", proxy)


async def test_node_fetch_headers_pass(proxy: Harness) -> None:
    """Node's fetch sends 'Sec-Fetch-Mode: cors' with no Origin: it is a program, not a page."""
    node = {"Sec-Fetch-Mode": "cors", "Accept-Language": "*", "User-Agent": "node"}
    assert (await proxy.post(ORDER, ORDER_BODY, headers=node)).status == 200


async def test_allowed_origin_passes_without_cors_headers(make_proxy: MakeProxy) -> None:
    """An explicitly allowed origin is served, but no response grants CORS access."""
    proxy = await make_proxy(SIGNPROXY_ALLOWED_ORIGINS="http://localhost:3000")
    page = {
        "Origin": "http://localhost:3000",
        "Sec-Fetch-Site": "same-site",
        "Sec-Fetch-Mode": "cors",
    }
    reply = await proxy.get(BALANCE, headers=page)
    assert reply.status == 200
    assert not [name for name in reply.headers if name.lower().startswith("access-control-")]
    reply = await proxy.get(BALANCE, headers={**page, "Origin": "http://localhost:3001"})
    assert reply.status == 403


@pytest.mark.parametrize(
    "headers",
    [
        {
            "Origin": "https://evil.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
            "Sec-Fetch-Mode": "cors",
            "Sec-Fetch-Site": "cross-site",
        },
        {},
    ],
    ids=["preflight", "bare-options"],
)
async def test_options_never_allows(make_proxy: MakeProxy, headers: dict[str, str]) -> None:
    """OPTIONS (a CORS preflight) gets 403 SPX206 without any Access-Control-Allow-* header."""
    proxy = await make_proxy(SIGNPROXY_ALLOWED_ORIGINS="https://evil.example")
    assert_refused(await proxy.request("OPTIONS", ORDER, headers=headers), 403, "SPX206", proxy)


async def test_upstream_cors_headers_are_not_relayed(make_proxy: MakeProxy, aiohttp_server) -> None:
    """Access-Control-* headers from the upstream never reach the client."""

    async def permissive(_request: web.Request) -> web.Response:
        return web.json_response(
            {"code": "0", "msg": "", "data": []},
            headers={
                "Access-Control-Allow-Origin": "*",
                "Access-Control-Allow-Credentials": "true",
                "X-Other": "kept",
            },
        )

    proxy = await make_proxy(upstream=await start_raw_server(permissive, aiohttp_server))
    reply = await proxy.get(BALANCE)
    assert reply.status == 200
    assert reply.headers["X-Other"] == "kept"
    assert "Access-Control-Allow-Origin" not in reply.headers
    assert "Access-Control-Allow-Credentials" not in reply.headers


# --- steering the upstream ------------------------------------------------------------------


@pytest.mark.parametrize("name", STEERING_HEADERS)
async def test_steering_header_is_refused(make_proxy: MakeProxy, name: str) -> None:
    """Each header that could name another host, URL or method gets 403 SPX207."""
    proxy = await make_proxy()
    value = "GET" if "Method" in name else "host=attacker.example;proto=http"
    reply = await proxy.post(ORDER, ORDER_BODY, headers={name: value})
    assert_refused(reply, 403, "SPX207", proxy)


async def test_client_identifying_headers_are_dropped_not_refused(proxy: Harness) -> None:
    """X-Forwarded-For and X-Real-IP only describe the client: served, never forwarded."""
    reply = await proxy.get(BALANCE, headers={"X-Forwarded-For": "10.0.0.1", "X-Real-IP": "1.2"})
    assert reply.status == 200
    (received,) = proxy.emulator.received
    assert "X-Forwarded-For" not in received.headers
    assert "X-Real-IP" not in received.headers


@pytest.mark.parametrize(
    "request_line",
    [
        b"GET http://attacker.example/api/v5/account/balance HTTP/1.1",
        b"GET http://127.0.0.1/api/v5/account/balance HTTP/1.1",
        b"POST https://www.okx.com/api/v5/trade/order HTTP/1.1",
        b"CONNECT www.okx.com:443 HTTP/1.1",
        b"CONNECT attacker.example:80 HTTP/1.1",
        b"GET * HTTP/1.1",
        b"GET //attacker.example/api/v5/account/balance HTTP/1.1",
    ],
    ids=["absolute", "absolute-loopback", "absolute-post", "connect", "connect-80", "star", "//"],
)
async def test_other_upstreams_cannot_be_named(make_proxy: MakeProxy, request_line: bytes) -> None:
    """Absolute-form, authority-form (CONNECT), '*' and '//' targets are refused."""
    proxy = await make_proxy()
    body = ORDER_BODY.encode()
    request = (
        request_line + b"\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    reply = await send_raw(proxy.proxy.port, request)
    assert 400 <= reply.status < 500, reply
    assert proxy.emulator.received == []


def test_host_decisions_survive_the_cache_filling_up() -> None:
    """Remembered Host decisions stay right after many distinct Host values evict them."""
    guard = Guard(Access())

    def check(host: str) -> bool:
        try:
            guard.check(make_mocked_request("GET", BALANCE, headers={"Host": host}))
        except HostRefused:
            return False
        return True

    assert not check("attacker.example")
    for n in range(600):
        assert check(f"127.0.{n // 250}.{n % 250}:8787")
        assert not check(f"h{n}.attacker.example")
    assert not check("attacker.example")
    assert check("localhost")


async def test_liveness_needs_no_token_but_everything_else_does(
    make_proxy: MakeProxy, emulator
) -> None:
    """With client tokens, /-/health answers without one (container health checks); ready, metrics and the API do not."""
    proxy = await make_proxy(SIGNPROXY_CLIENT_TOKENS=TOKENS)
    assert (await proxy.get("/-/health")).status == 200
    for target in ("/-/ready", "/-/metrics", "/api/v5/account/balance"):
        reply = await proxy.get(target)
        assert reply.status == 401, target
    assert (await proxy.get("/-/health", headers={"Host": "attacker.example"})).status == 403
    assert emulator.received == []
