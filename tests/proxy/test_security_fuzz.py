"""Property: arbitrary requests never crash the proxy, never get a 5xx, never leak a secret.

The proxy and the emulator run on their own event loop in a thread, so hypothesis can drive them
from a plain test with a raw socket: every byte of each request is hypothesis's choice.
"""

import asyncio
import io
import threading
from collections.abc import Iterator

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from signproxy.emulator import create_emulator_app
from signproxy.proxy.app import create_app
from signproxy.runtime.logs import Redactor, configure
from signproxy.settings.config import Settings
from tests.support.keys import ALL_SECRETS, LIVE_KEY, env_for
from tests.support.rawhttp import send_raw_sync

TOKEN = "fuzz-token-0123456789abcdefghijkl"
# What this proxy holds. The other test key's values are thrown in as well: they are just
# client input here, so only where they come from matters to the answer check.
SECRETS = (LIVE_KEY.api_key, LIVE_KEY.secret, LIVE_KEY.passphrase, TOKEN)
INPUTS = (*ALL_SECRETS, TOKEN)
# Framing headers are the test's job: a wrong Content-Length would only make the server wait.
FRAMING = {"content-length", "transfer-encoding", "connection", "expect", "upgrade", "keep-alive"}


@pytest.fixture
def live_proxy(log_output: io.StringIO) -> Iterator[int]:
    """A proxy (with a client token) and an emulator on a loop in a thread; yields the port."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    runners: list[web.AppRunner] = []

    async def start() -> int:
        emulator = web.AppRunner(
            create_emulator_app([LIVE_KEY], rate_limits=False), access_log=None
        )
        await emulator.setup()
        runners.append(emulator)
        await web.TCPSite(emulator, "127.0.0.1", 0).start()
        upstream = f"http://127.0.0.1:{emulator.addresses[0][1]}"
        config = Settings.from_env(
            env_for(LIVE_KEY, upstream, SIGNPROXY_CLIENT_TOKENS=f"fuzz:{TOKEN}")
        )
        # As cli.py does: the redactor learns every sensitive value of the settings.
        redactor = Redactor(config.sensitive_values())
        configure(level="debug", fmt="json", redactor=redactor, stream=log_output, cache=False)
        proxy = web.AppRunner(create_app(config), access_log=None)
        await proxy.setup()
        runners.append(proxy)
        await web.TCPSite(proxy, "127.0.0.1", 0).start()
        return int(proxy.addresses[0][1])

    async def stop() -> None:
        for runner in reversed(runners):
            await runner.cleanup()

    try:
        yield asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=30)
    finally:
        asyncio.run_coroutine_threadsafe(stop(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        loop.close()


def _no_crlf(text: str) -> bytes:
    return text.replace("\r", "").replace("\n", "").encode("utf-8", "surrogateescape")


METHODS = st.sampled_from(["GET", "POST", "OPTIONS", "PUT", "DELETE", "HEAD", "PATCH"]) | (
    st.from_regex(r"[A-Za-z!#$%&'*+.^_`|~-]{1,12}", fullmatch=True)
)
SECRET_TEXT = st.sampled_from(INPUTS)
SEGMENT = st.sampled_from(["api", "v5", "account", "balance", "asset", "withdrawal", ".", ".."])
PATHS = st.one_of(
    st.lists(SEGMENT | st.text(max_size=12) | SECRET_TEXT, max_size=6).map(
        lambda parts: "/" + "/".join(parts)
    ),
    st.sampled_from(["/api/v5/account/balance", "/api/v5/asset/withdrawal", "*", "http://x/"]),
    st.text(max_size=40),
).flatmap(
    lambda path: st.one_of(
        st.just(path), (st.text(max_size=30) | SECRET_TEXT).map(lambda q: f"{path}?{q}")
    )
)
HEADER_NAMES = st.sampled_from(
    [
        "Host",
        "Origin",
        "Sec-Fetch-Site",
        "Sec-Fetch-Mode",
        "Authorization",
        "X-Signproxy-Token",
        "Forwarded",
        "X-Forwarded-Host",
        "Content-Type",
        "X-Request-Id",
        "OK-ACCESS-KEY",
        "x-simulated-trading",
        "expTime",
    ]
) | st.from_regex(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,20}", fullmatch=True).filter(
    lambda name: name.lower() not in FRAMING
)
HEADER_VALUES = st.one_of(
    st.text(max_size=40),
    SECRET_TEXT,
    st.sampled_from([f"Bearer {TOKEN}", "application/json", "127.0.0.1", "cross-site", "cors"]),
)
BODIES = st.one_of(
    st.binary(max_size=80),
    st.sampled_from([b"", b"{}", b'{"ccy":"USDT"}', b"[]", b'{"a":1,"a":2}']),
    SECRET_TEXT.map(lambda secret: b'{"x":"' + secret.encode() + b'"}'),
)


@st.composite
def raw_requests(draw: st.DrawFn) -> bytes:
    """One request's bytes; most carry a secret where a refused request's log line shows it."""
    path = draw(PATHS)
    headers = draw(st.lists(st.tuples(HEADER_NAMES, HEADER_VALUES), max_size=6))
    body = draw(BODIES)
    spot = draw(st.sampled_from(["path", "query", "header", "request-id", "none"]))
    planted = draw(SECRET_TEXT)
    if spot == "path":
        path = f"/api/v5/{planted}"
    elif spot == "query":
        path = f"{path}?x={planted}"
    elif spot in ("header", "request-id"):
        headers.append(("X-Request-Id" if spot == "request-id" else "X-Note", planted))
    if draw(st.booleans()):
        headers.append(("X-Signproxy-Token", TOKEN))
    lines = [f"{draw(METHODS)} ".encode() + _no_crlf(path) + b" HTTP/1.1", b"Host: 127.0.0.1"]
    lines += [_no_crlf(name) + b": " + _no_crlf(value) for name, value in headers]
    lines += [b"Connection: close", b"Content-Length: %d" % len(body)]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(request=raw_requests())
def test_arbitrary_requests_are_answered_safely(
    live_proxy: int, log_output: io.StringIO, request: bytes
) -> None:
    """No crash, no 5xx, and no secret in the log or in an answer that did not come from input."""
    logged_before = len(log_output.getvalue())
    reply = send_raw_sync(live_proxy, request)
    assert 200 <= reply.status < 500, reply
    answer = reply.head + reply.body
    for secret in SECRETS:
        assert secret.encode() not in answer or secret.encode() in request
    output = log_output.getvalue()[logged_before:]
    for secret in SECRETS:
        assert secret not in output
