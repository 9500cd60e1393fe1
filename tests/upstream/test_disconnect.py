"""A client that disconnects mid-request does not cancel the order, and its outcome is logged."""

from __future__ import annotations

import asyncio

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


async def test_disconnected_client_order_still_completes_and_is_logged(
    aiohttp_server, serve_proxy, emulator: EmulatorState, emulator_url: str, log_output
) -> None:
    """The order reaches the emulator after the client left; the log has status, code and ids."""
    slow_url, slow = await start_slow_upstream(emulator_url, 0.4, aiohttp_server)
    server = await serve_proxy(create_app(Settings.from_env(env_for(LIVE_KEY, slow_url))))
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(raw_post(ORDER))
    await writer.drain()
    await slow.wait_arrived(1)
    writer.close()  # the bot gives up while OKX is still working on the order
    await writer.wait_closed()
    assert await reader.read() == b""
    line = await wait_for_line(log_output, "client-gone-1")
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
