"""A client that disconnects mid-request does not cancel the order, and its outcome is logged."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from signproxy.emulator import EmulatorState
from signproxy.proxy.app import create_app
from signproxy.settings.config import Settings
from tests.support.keys import LIVE_KEY, env_for
from tests.support.logs import log_lines
from tests.support.slowupstream import start_slow_upstream

ORDER = (
    b'{"instId":"BTC-USDT","tdMode":"cash","side":"buy","ordType":"limit","px":"1",'
    b'"sz":"1","clOrdId":"gone1"}'
)


def raw_post(body: bytes) -> bytes:
    return (
        b"POST /api/v5/trade/order HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nX-Request-Id: client-gone-1\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    )


async def start_proxy(app: web.Application, aiohttp_server, *, cancel_handlers: bool):
    """Serve ``app``; aiohttp's test server cancels handlers on disconnect, AppRunner does not."""
    if cancel_handlers:
        server = await aiohttp_server(app)
        return server.host, server.port, None
    runner = web.AppRunner(app, handler_cancellation=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    return host, port, runner


@pytest.mark.parametrize("cancel_handlers", [True, False], ids=["cancelling", "default"])
async def test_disconnected_client_order_still_completes_and_is_logged(
    aiohttp_server,
    emulator: EmulatorState,
    emulator_url: str,
    log_output,
    cancel_handlers: bool,  # noqa: FBT001
) -> None:
    """The order reaches the emulator after the client left; the log has status, code and ids."""
    slow_url, slow = await start_slow_upstream(emulator_url, 0.4, aiohttp_server)
    # As `signproxy serve` does: exchanges run inline when the server never cancels handlers.
    app = create_app(
        Settings.from_env(env_for(LIVE_KEY, slow_url)), cancels_handlers=cancel_handlers
    )
    host, port, runner = await start_proxy(app, aiohttp_server, cancel_handlers=cancel_handlers)
    try:
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(raw_post(ORDER))
        await writer.drain()
        await slow.wait_arrived(1)
        writer.close()  # the bot gives up while OKX is still working on the order
        await writer.wait_closed()
        assert await reader.read() == b""
        line = await wait_for_line(log_output, "client-gone-1")
    finally:
        if runner is not None:
            await runner.cleanup()
    assert slow.answered == 1
    [order] = emulator.all_orders()
    assert order["clOrdId"] == "gone1"
    assert line["client_gone"] is True
    assert (line["status"], line["okx_code"], line["level"]) == (200, "0", "info")
    assert line["orders"] == [{"ordId": order["ordId"], "clOrdId": "gone1", "sCode": "0"}]
    assert log_lines(log_output, "signproxy.request") == [
        line
    ]  # one canonical line, not one per path through the code


async def wait_for_line(log_output, request_id: str) -> dict:
    async with asyncio.timeout(5):
        while True:
            for line in log_lines(log_output, "signproxy.request"):
                if line["request_id"] == request_id:
                    return line
            await asyncio.sleep(0.01)
