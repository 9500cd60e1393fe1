"""The test launcher leaves nothing behind: a failing or timed-out test still kills its process group."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from tests.support.keys import LIVE_KEY, env_for
from tests.support.processes import cli_env, run, running


def alive(pid: int) -> bool:
    """Whether ``pid`` is a process that has not exited (a zombie has)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def children(parent: int | None = None) -> set[int]:
    """Pids of the children of ``parent`` (default: this test process)."""
    parent = os.getpid() if parent is None else parent
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text(encoding="ascii")
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
                found.add(int(entry.name))
    return found


async def none_alive(pids: set[int]) -> bool:
    for _ in range(200):  # bounded: 10 s
        if not any(alive(pid) for pid in pids):
            return True
        await asyncio.sleep(0.05)
    return False


async def fail_while_running(env: dict[str, str], pids: set[int]) -> None:
    """Start serve with two workers, note every pid, then fail as a test would."""
    async with running("serve", "--port", "0", env=env):
        (serve,) = children()
        async with asyncio.timeout(30):
            while len(children(serve)) < 2:  # noqa: ASYNC110 - the workers are forked
                await asyncio.sleep(0.05)
        pids.update({serve, *children(serve)})
        raise RuntimeError("the test failed")


async def test_a_failing_test_kills_serve_and_its_workers(emulator_url) -> None:
    """An exception inside `running()` kills the proxy and every worker it forked."""
    env = cli_env(**env_for(LIVE_KEY, emulator_url, SIGNPROXY_WORKERS="2"))
    pids: set[int] = set()
    with pytest.raises(RuntimeError, match="the test failed"):
        await fail_while_running(env, pids)
    assert len(pids) == 3  # the parent and its two workers
    assert await none_alive(pids)


async def test_a_timed_out_run_kills_the_process() -> None:
    """`run()` past its timeout raises TimeoutError and leaves no process running."""
    seen: set[int] = set()

    async def watch() -> None:
        while True:
            seen.update(children())
            await asyncio.sleep(0.05)

    watcher = asyncio.create_task(watch())
    try:
        with pytest.raises(TimeoutError):
            await run("emulator", "--port", "0", env=cli_env(), timeout=3)
    finally:
        watcher.cancel()
    assert seen
    assert await none_alive(seen)
