"""Answers written while draining on SIGTERM close their keep-alive connection explicitly."""

from __future__ import annotations

import asyncio
import signal

from aiohttp import web

from tests.support.serve import start_serve

ORDER = b'{"instId":"BTC-USDT","tdMode":"cash","side":"buy","ordType":"market","sz":"1"}'


async def test_drained_answer_says_connection_close(aiohttp_server, tmp_path) -> None:
    """An order in flight at SIGTERM is answered with Connection: close, not left keep-alive."""
    arrived = asyncio.Event()

    async def slow_okx(_request: web.Request) -> web.Response:
        arrived.set()
        await asyncio.sleep(1.5)
        return web.json_response({"code": "0", "msg": "", "data": [{"ordId": "1"}]})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", slow_okx)
    upstream = await aiohttp_server(app)
    proxy = await start_serve(str(upstream.make_url("")).rstrip("/"), tmp_path)
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
    try:
        writer.write(
            b"POST /api/v5/trade/order HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\n"
            b"Content-Length: " + str(len(ORDER)).encode() + b"\r\n\r\n" + ORDER
        )
        await writer.drain()
        async with asyncio.timeout(10):
            await arrived.wait()
        proxy.process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(10):
            head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200")
        assert b"connection: close" in head.lower(), proxy.raw.decode()[-2000:]
        assert await proxy.finish() == 0
    finally:
        writer.close()
        await proxy.stop()
