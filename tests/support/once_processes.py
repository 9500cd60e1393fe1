"""``signproxy serve`` and ``signproxy orders`` as real subprocesses, for the exactly-once tests.

Every process started through :func:`serving` is killed when the test ends, even when it fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from tests.support.keys import LIVE_KEY, env_for


def clean_env(upstream: str, **extra: str) -> dict[str, str]:
    """The process environment without OKX_/SIGNPROXY_ variables, pointed at ``upstream``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OKX_", "SIGNPROXY_"))}
    env.update(env_for(LIVE_KEY, upstream, SIGNPROXY_LOG_FORMAT="json", **extra))
    return env


class ServeProcess:
    """A ``signproxy serve --port 0`` subprocess and its JSON log lines."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[dict[str, Any]] = []
        self.url = ""
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            with contextlib.suppress(ValueError):
                self.lines.append(json.loads(raw))

    def events(self, name: str) -> list[dict[str, Any]]:
        """The log lines of one event, in order."""
        return [line for line in self.lines if line.get("event") == name]

    async def wait_event(self, name: str) -> dict[str, Any]:
        """Wait (at most 20 s) for the first line of an event."""
        async with asyncio.timeout(20):
            while not self.events(name):  # noqa: ASYNC110 - lines come from the subprocess
                await asyncio.sleep(0.02)
        return self.events(name)[0]

    async def kill(self) -> None:
        """SIGKILL: no cleanup, no drain, no last journal write."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


async def start_serve(cwd: Path, env: dict[str, str]) -> ServeProcess:
    """Start ``signproxy serve --port 0`` in ``cwd`` (no stray ./.env) and wait until it listens."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "signproxy",
        "serve",
        "--port",
        "0",
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
    )
    serve = ServeProcess(process)
    try:
        serve.url = (await serve.wait_event("signproxy.listening"))["url"]
    except BaseException:
        await serve.kill()
        raise
    return serve


@contextlib.asynccontextmanager
async def serving() -> AsyncIterator[list[ServeProcess]]:
    """Collect started processes; every one still running is killed at the end."""
    started: list[ServeProcess] = []
    try:
        yield started
    finally:
        for serve in started:
            await serve.kill()


async def orders_command(cwd: Path, env: dict[str, str], *args: str) -> list[dict[str, Any]]:
    """Run ``signproxy orders --json ARGS``; the rows it printed."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "signproxy",
        "orders",
        "--json",
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(30):
            out, err = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, err.decode()
    return [json.loads(line) for line in out.decode().splitlines() if line.strip()]
