"""SIGNPROXY_WORKERS: several real proxy processes on one port, stopped together by SIGTERM."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from signproxy.errors import ConfigError
from signproxy.runtime.loop import loop_name
from signproxy.settings.config import Settings
from tests.support.keys import LIVE_KEY, env_for
from tests.support.processes import cli_env, kill_group, popen


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _wait_for_listeners(out_path, count: int, proc: subprocess.Popen) -> list[dict]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert proc.poll() is None, out_path.read_text()
        events = [json.loads(line) for line in out_path.read_text().splitlines() if line]
        listening = [event for event in events if event["event"] == "signproxy.listening"]
        if len(listening) >= count:
            return listening
        await asyncio.sleep(0.05)
    pytest.fail("the workers did not start in 20 s")


async def test_two_workers_share_the_port_and_stop_together(emulator_url, emulator, tmp_path):
    """Two workers listen on one port, both sign correctly, and SIGTERM stops every process."""
    port = _free_port()
    out = tmp_path / "proxy.log"
    env = cli_env(**env_for(LIVE_KEY, emulator_url), SIGNPROXY_WORKERS="2")
    argv = [sys.executable, "-m", "signproxy", "serve", "--port", str(port)]
    with out.open("wb") as sink:
        # Popen returns at once; the output goes to a file read while the test awaits.
        proc = popen(argv, env=env, stdout=sink, stderr=subprocess.STDOUT)
    try:
        listening = await _wait_for_listeners(out, 2, proc)
        pids = {event["pid"] for event in listening}
        assert len(pids) == 2
        assert proc.pid not in pids
        assert {event["event_loop"] for event in listening} == {loop_name()}
        # A new connection per request lets the kernel hand requests to either worker.
        connector = aiohttp.TCPConnector(force_close=True)
        async with aiohttp.ClientSession(connector=connector) as session:
            for _ in range(40):
                async with session.get(
                    f"http://127.0.0.1:{port}/api/v5/account/balance?ccy=BTC"
                ) as reply:
                    assert reply.status == 200
                    assert (await reply.json())["code"] == "0"
        # A worker logs its request line just after answering: wait (bounded) for the 40th.
        served: list[dict] = []
        for _ in range(200):
            served = [
                json.loads(line)
                for line in out.read_text().splitlines()
                if '"signproxy.request"' in line
            ]
            if len(served) >= 40:
                break
            await asyncio.sleep(0.05)
        assert len(served) == 40
        assert len(emulator.received) == 40
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(proc.wait, 15) == 0
        for pid in pids:
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
    finally:
        kill_group(proc.pid)
        proc.wait()


def test_workers_setting_is_checked():
    """SIGNPROXY_WORKERS defaults to 1 and must be a whole number from 1 to 64."""
    base = {"OKX_API_KEY": "k", "OKX_API_SECRET": "s", "OKX_API_PASSPHRASE": "p"}
    assert Settings.from_env(base).workers == 1
    assert Settings.from_env({**base, "SIGNPROXY_WORKERS": "3"}).workers == 3
    for bad in ("0", "65", "two"):
        with pytest.raises(ConfigError, match="SIGNPROXY_WORKERS"):
            Settings.from_env({**base, "SIGNPROXY_WORKERS": bad})


def test_event_loop_is_uvloop_when_installed():
    """The proxy runs on uvloop whenever uvloop is importable, else on asyncio's loop."""
    expected = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    assert loop_name() == expected


def _start_workers(emulator_url, out, port: int) -> subprocess.Popen:
    env = cli_env(**env_for(LIVE_KEY, emulator_url), SIGNPROXY_WORKERS="2")
    argv = [sys.executable, "-m", "signproxy", "serve", "--port", str(port)]
    with out.open("wb") as sink:
        return popen(argv, env=env, stdout=sink, stderr=subprocess.STDOUT)


async def test_a_killed_worker_fails_the_whole_proxy(emulator_url, tmp_path):
    """When a worker is killed (OOM, SIGKILL) the others stop and the proxy exits 128+signal, not 0."""
    out = tmp_path / "proxy.log"
    proc = _start_workers(emulator_url, out, _free_port())
    try:
        listening = await _wait_for_listeners(out, 2, proc)
        os.kill(listening[0]["pid"], signal.SIGKILL)
        status = await asyncio.to_thread(proc.wait, 30)
    finally:
        kill_group(proc.pid)
        proc.wait()
    assert status == 128 + signal.SIGKILL


async def test_sighup_while_starting_does_not_end_the_proxy(aiohttp_server, tmp_path):
    """A SIGHUP (key rotation) during the workers' startup clock sync is survived; SIGTERM then exits 0."""

    async def stall(_request: web.Request) -> web.Response:
        await asyncio.sleep(10)  # OKX's clock cannot be read: startup waits its budget (5 s)
        return web.Response(status=503)

    app = web.Application()
    app.router.add_get("/{tail:.*}", stall)
    upstream = str((await aiohttp_server(app)).make_url("")).rstrip("/")
    out = tmp_path / "proxy.log"
    env = cli_env(
        **env_for(
            LIVE_KEY,
            upstream,
            SIGNPROXY_WORKERS="2",
            SIGNPROXY_CLOCK_SYNC_INTERVAL="60",
            SIGNPROXY_TIMEOUT="2",
        )
    )
    argv = [sys.executable, "-m", "signproxy", "serve", "--port", str(_free_port())]
    with out.open("wb") as sink:
        proc = popen(argv, env=env, stdout=sink, stderr=subprocess.STDOUT)
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
    try:
        for _ in range(200):  # bounded: until both workers are forked
            # A /proc read is instant; no need for a thread.
            if proc.poll() is not None or len(children.read_text().split()) == 2:  # noqa: ASYNC240
                break
            await asyncio.sleep(0.02)
        assert "signproxy.listening" not in out.read_text()  # still starting
        for _ in range(3):
            proc.send_signal(signal.SIGHUP)
            await asyncio.sleep(0.1)
        await _wait_for_listeners(out, 2, proc)
        proc.send_signal(signal.SIGTERM)
        status = await asyncio.to_thread(proc.wait, 30)
    finally:
        kill_group(proc.pid)
        proc.wait()
    assert status == 0, out.read_text()
    assert "signproxy.reload_skipped" in out.read_text()


async def test_a_crashing_worker_says_why(emulator_url, tmp_path):
    """A worker that cannot listen (its port is taken) logs one signproxy.worker_crashed line naming the port and cause, no traceback; the proxy exits 2."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = tmp_path / "proxy.log"
        proc = _start_workers(emulator_url, out, port)
        status = await asyncio.to_thread(proc.wait, 30)
    crashes = [
        json.loads(line)
        for line in out.read_text().splitlines()
        if line.startswith("{") and '"signproxy.worker_crashed"' in line
    ]
    assert status == 2
    assert crashes
    assert f"cannot listen on 127.0.0.1:{port}: address already in use" in crashes[0]["problem"]
    assert "exception" not in crashes[0]
    assert "Traceback" not in out.read_text()
    assert LIVE_KEY.secret not in out.read_text()
