"""The cost floor of signproxy's design: a bare signing proxy on the same stack, nothing else.

aiohttp server and client, uvloop, one ClientSession: read the body, sign (HMAC-SHA256 over
timestamp + method + target + body), forward, relay the answer. No checks, logs or metrics.
Usage: ``bare_signer.py PORT|SOCKET_PATH UPSTREAM_BASE_URL`` (credentials from OKX_API_*).
"""

import asyncio
import base64
import hashlib
import hmac
import os
import sys
import time

import aiohttp
import uvloop
from aiohttp import web
from yarl import URL

KEY, PASSPHRASE = os.environ["OKX_API_KEY"], os.environ["OKX_API_PASSPHRASE"]
SECRET, UPSTREAM = os.environ["OKX_API_SECRET"].encode(), sys.argv[2]


async def forward(request: web.Request) -> web.Response:
    """Sign the request as it came and relay OKX's answer."""
    body, now = await request.read(), time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"
    prehash = f"{stamp}{request.method}{request.raw_path}".encode() + body
    sign = base64.b64encode(hmac.new(SECRET, prehash, hashlib.sha256).digest()).decode()
    headers = {"OK-ACCESS-KEY": KEY, "OK-ACCESS-SIGN": sign, "OK-ACCESS-TIMESTAMP": stamp,
               "OK-ACCESS-PASSPHRASE": PASSPHRASE, "Content-Type": "application/json"}  # fmt: skip
    url = URL(UPSTREAM + request.raw_path, encoded=True)
    session = request.app["session"]
    async with session.request(request.method, url, data=body or None, headers=headers) as answer:
        payload = await answer.read()
    return web.Response(body=payload, status=answer.status, content_type="application/json")


async def main() -> None:
    """Serve until killed."""
    app = web.Application()
    app["session"] = aiohttp.ClientSession()
    app.router.add_route("*", "/{tail:.*}", forward)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    where = sys.argv[1]
    if where.startswith("/"):
        await web.UnixSite(runner, where).start()
    else:
        await web.TCPSite(runner, "127.0.0.1", int(where)).start()
    await asyncio.Event().wait()


uvloop.run(main())
