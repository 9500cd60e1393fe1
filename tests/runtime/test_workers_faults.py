"""SIGNPROXY_WORKERS=2 under faults: the parent says which worker died and how; orphans stop."""

from __future__ import annotations

import asyncio
import os
import signal

from tests.support.serve import start_serve


async def _listening_pids(proxy, count: int) -> list[int]:
    async with asyncio.timeout(20):
        while len(proxy.events("signproxy.listening")) < count:  # noqa: ASYNC110 - subprocess
            await asyncio.sleep(0.05)
    return [line["pid"] for line in proxy.events("signproxy.listening")]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_killed_worker_is_named_with_its_signal(emulator_url, tmp_path) -> None:
    """A worker killed by SIGKILL is logged by the parent with its index, pid and the signal."""
    proxy = await start_serve(emulator_url, tmp_path, SIGNPROXY_WORKERS="2")
    try:
        pids = await _listening_pids(proxy, 2)
        os.kill(pids[1], signal.SIGKILL)
        assert await proxy.finish() == 128 + signal.SIGKILL
        first, second = proxy.events("signproxy.worker_exited")
        assert first["pid"] == pids[1]
        assert first["signal"] == "SIGKILL"
        assert first["level"] == "error"
        assert first["worker"] in (0, 1)
        assert second["pid"] == pids[0]
        assert second["level"] == "info"  # stopped by the parent, as it should be
    finally:
        await proxy.stop()


async def test_workers_stop_when_their_parent_is_killed(emulator_url, tmp_path) -> None:
    """SIGKILL to the parent: each worker notices and stops gracefully; none keeps serving."""
    proxy = await start_serve(emulator_url, tmp_path, SIGNPROXY_WORKERS="2")
    pids: list[int] = []
    try:
        pids = await _listening_pids(proxy, 2)
        proxy.process.kill()
        async with asyncio.timeout(20):
            while any(_alive(pid) for pid in pids):  # noqa: ASYNC110 - other processes
                await asyncio.sleep(0.1)
        async with asyncio.timeout(10):
            while len(proxy.events("signproxy.stopped")) < 2:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    finally:
        for pid in pids:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        await proxy.stop()
