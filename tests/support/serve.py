"""``signproxy serve`` as a real subprocess: its JSON log lines, its pid, a resource limit.

The hardening tests need the real server (the connection gate, the fd limit, signals), so they
run the command line in a subprocess and read its log.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

from tests.support.keys import LIVE_KEY, env_for
from tests.support.processes import SIGNPROXY, cli_env, reap, start


class Serve:
    """A ``signproxy serve --port 0`` subprocess and its JSON log lines."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[dict[str, Any]] = []
        self.raw = bytearray()
        self.url = ""
        self._reader = asyncio.create_task(self._read())

    @property
    def port(self) -> int:
        """The port it listens on."""
        return int(self.url.rsplit(":", 1)[1])

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            self.raw += raw
            with contextlib.suppress(ValueError):
                self.lines.append(json.loads(raw))

    def events(self, name: str) -> list[dict[str, Any]]:
        """The log lines of one event, in order."""
        return [line for line in self.lines if line.get("event") == name]

    async def wait_event(self, name: str, within: float = 20) -> dict[str, Any]:
        """Wait (at most ``within`` s) for the first line of an event."""
        async with asyncio.timeout(within):
            while not self.events(name):
                if self.process.returncode is not None:
                    await self._reader
                    raise AssertionError(self.raw.decode(errors="replace")[-3000:])
                await asyncio.sleep(0.02)
        return self.events(name)[0]

    def rss_kib(self) -> int:
        """The process's resident memory now (KiB)."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
        return int(line.split()[1])

    def open_fds(self) -> int:
        """How many file descriptors the process holds now."""
        return len(list(Path(f"/proc/{self.process.pid}/fd").iterdir()))

    async def finish(self, within: float = 20) -> int:
        """Wait for the exit; returns the exit status."""
        async with asyncio.timeout(within):
            code = await self.process.wait()
            await self._reader
        return code

    async def stop(self) -> None:
        """Kill its process group (workers included) and wait; the tests' clean-up."""
        await reap(self.process)
        # Bounded: a worker left behind would hold the output pipe open.
        with contextlib.suppress(Exception):
            async with asyncio.timeout(10):
                await self._reader
        self._reader.cancel()


async def start_serve(
    upstream: str,
    cwd: Path,
    *,
    nofile: tuple[int, int] | None = None,
    argv: tuple[str, ...] = (),
    without: tuple[str, ...] = (),
    **extra: str,
) -> Serve:
    """Start ``signproxy serve`` for ``upstream`` with LIVE_KEY; ``nofile``: (soft, hard) fds.

    ``without``: variables left out of its environment (e.g. keys that come from a file). The
    fd limit is set by ``prlimit`` (util-linux), which then runs signproxy in its place.
    """
    env = cli_env(**env_for(LIVE_KEY, upstream, **extra))
    for name in without:
        env.pop(name, None)
    program = SIGNPROXY
    if nofile is not None:
        program = ("prlimit", f"--nofile={nofile[0]}:{nofile[1]}", "--", *SIGNPROXY)
    process = await start("serve", "--port", "0", *argv, env=env, cwd=cwd, program=program)
    serve = Serve(process)
    try:
        serve.url = (await serve.wait_event("signproxy.listening"))["url"]
    except BaseException:
        await serve.stop()
        raise
    return serve
