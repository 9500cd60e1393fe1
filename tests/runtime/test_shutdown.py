"""Graceful shutdown of a real ``signproxy serve`` process with requests in flight."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from yarl import URL

from signproxy.emulator import EmulatorState
from tests.support.keys import LIVE_KEY, env_for
from tests.support.processes import cli_env, kill_group
from tests.support.processes import start as start_process
from tests.support.slowupstream import start_slow_upstream


class Serve:
    """A ``signproxy serve --port 0`` subprocess and its JSON log lines."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[dict] = []
        self.url = ""
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            with contextlib.suppress(ValueError):
                self.lines.append(json.loads(raw))

    def events(self, name: str) -> list[dict]:
        """The log lines of one event, in order."""
        return [line for line in self.lines if line.get("event") == name]

    async def wait_event(self, name: str) -> dict:
        """Wait (at most 10 s) for the first line of an event."""
        async with asyncio.timeout(10):
            while not self.events(name):  # noqa: ASYNC110 - lines come from the subprocess
                await asyncio.sleep(0.01)
        return self.events(name)[0]

    async def finish(self) -> int:
        """Wait (at most 15 s) for the exit; returns the exit status."""
        async with asyncio.timeout(15):
            code = await self.process.wait()
            await self._reader
        return code


@pytest.fixture
async def start_serve(tmp_path: Path) -> AsyncIterator:
    started: list[Serve] = []

    async def start(upstream: str, **extra: str) -> Serve:
        env = cli_env(**env_for(LIVE_KEY, upstream, **extra))
        process = await start_process("serve", "--port", "0", env=env, cwd=tmp_path)
        serve = Serve(process)
        started.append(serve)
        serve.url = (await serve.wait_event("signproxy.listening"))["url"]
        return serve

    yield start
    for serve in started:  # the group too: nothing it started outlives the test
        kill_group(serve.process.pid)
        await serve.process.wait()


def order(cl_ord_id: str) -> bytes:
    return json.dumps(
        {
            "instId": "BTC-USDT",
            "tdMode": "cash",
            "side": "buy",
            "ordType": "market",
            "sz": "1",
            "clOrdId": cl_ord_id,
        }
    ).encode()


async def post(session: aiohttp.ClientSession, base: str, body: bytes) -> tuple[int, dict]:
    url = URL(base + "/api/v5/trade/order", encoded=True)
    headers = {"Content-Type": "application/json"}
    async with session.post(url, data=body, headers=headers) as response:
        return response.status, await response.json()


async def refused(url: str) -> bool:
    parsed = URL(url)
    try:
        _, writer = await asyncio.open_connection(parsed.host, parsed.port)
    except ConnectionRefusedError:
        return True
    writer.close()
    return False


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_signal_drains_in_flight_requests_and_refuses_new_ones(
    start_serve, aiohttp_server, emulator: EmulatorState, emulator_url: str, signum: int
) -> None:
    """In-flight orders finish after the signal, new connections are refused, the exit is 0."""
    slow_url, slow = await start_slow_upstream(emulator_url, 1.5, aiohttp_server)
    serve = await start_serve(slow_url, SIGNPROXY_SHUTDOWN_GRACE="8")
    async with aiohttp.ClientSession() as session:
        pending = [
            asyncio.create_task(post(session, serve.url, order(f"drain{i}"))) for i in range(3)
        ]
        await slow.wait_arrived(3)
        serve.process.send_signal(signum)
        stopping = await serve.wait_event("signproxy.stopping")
        async with asyncio.timeout(2):
            while not await refused(serve.url):  # noqa: ASYNC110 - the listener closes next
                await asyncio.sleep(0.01)
        assert slow.answered == 0  # refused while the three were still in flight
        replies = await asyncio.gather(*pending)
    assert await serve.finish() == 0
    assert [(status, body["code"]) for status, body in replies] == [(200, "0")] * 3
    assert sorted(o["clOrdId"] for o in emulator.all_orders()) == [
        "drain0",
        "drain1",
        "drain2",
    ]
    assert stopping["in_flight"] == 3
    assert serve.events("signproxy.stopped")[0]["cut_off"] == 0
    assert not serve.events("signproxy.cut_off")
    assert [line["status"] for line in serve.events("signproxy.request")] == [200] * 3


async def test_grace_running_out_cuts_off_and_logs_it(
    start_serve, aiohttp_server, emulator_url: str
) -> None:
    """Past the grace period the client gets 503 SPX310 (outcome unknown), the cut is logged."""
    slow_url, slow = await start_slow_upstream(emulator_url, 5, aiohttp_server)
    serve = await start_serve(slow_url, SIGNPROXY_SHUTDOWN_GRACE="0.5")
    async with aiohttp.ClientSession() as session:
        pending = asyncio.create_task(post(session, serve.url, order("late1")))
        await slow.wait_arrived(1)
        serve.process.send_signal(signal.SIGTERM)
        status, body = await asyncio.wait_for(pending, 5)
    assert await serve.finish() == 0
    assert (status, body["code"]) == (503, "SPX310")
    assert "outcome is unknown" in body["msg"]
    [cut] = serve.events("signproxy.cut_off")
    assert (cut["method"], cut["path"], cut["outcome_unknown"]) == (
        "POST",
        "/api/v5/trade/order",
        True,
    )
    assert serve.events("signproxy.stopped")[0]["cut_off"] == 1
    [line] = serve.events("signproxy.request")
    assert (line["status"], line["error"], line["request_id"]) == (503, "SPX310", cut["request_id"])


async def test_websockets_close_while_rest_requests_drain(aiohttp_server, start_serve) -> None:
    """On SIGTERM a relayed WebSocket is closed (1001) at once, not after the REST drain: both fit the grace."""
    arrived = asyncio.Event()

    async def stalled_order(_request: aiohttp.web.Request) -> aiohttp.web.Response:
        arrived.set()
        await asyncio.sleep(10)  # longer than the grace: this order is cut off
        return aiohttp.web.Response(status=503)

    async def okx_ws(request: aiohttp.web.Request) -> aiohttp.web.WebSocketResponse:
        ws = aiohttp.web.WebSocketResponse()
        await ws.prepare(request)
        async for _ in ws:  # idle until the proxy closes its side
            pass
        return ws

    app = aiohttp.web.Application()
    app.router.add_get("/ws/v5/public", okx_ws)
    app.router.add_post("/{tail:.*}", stalled_order)
    upstream = str((await aiohttp_server(app)).make_url("")).rstrip("/")
    serve = await start_serve(upstream, SIGNPROXY_SHUTDOWN_GRACE="3")
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(serve.url.replace("http", "ws", 1) + "/ws/v5/public")
        order = asyncio.create_task(
            session.post(
                serve.url + "/api/v5/trade/order",
                data=b'{"instId":"BTC-USDT"}',
                headers={"Content-Type": "application/json"},
            )
        )
        await asyncio.wait_for(arrived.wait(), 5)
        loop = asyncio.get_running_loop()
        stopped_at = loop.time()
        serve.process.send_signal(signal.SIGTERM)
        message = await ws.receive(timeout=10)
        closed_after = loop.time() - stopped_at
        assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert closed_after < 2.0, closed_after
        answer = await order
        assert answer.status == 503
        assert (await answer.json())["code"] == "SPX310"
    assert await serve.finish() == 0
