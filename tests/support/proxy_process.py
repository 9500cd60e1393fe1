"""Real ``signproxy serve`` processes a test talks to while it runs, and CLI commands.

Built on :mod:`tests.support.processes` (own process group, minimal environment, killed at the
end whatever happens). ``serve`` keeps reading the server's JSON log lines while the test goes
on, and commands run as asyncio subprocesses, so an emulator served by the test's own event
loop keeps answering while a command waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support import processes


@dataclass
class Served:
    """One ``signproxy serve`` process and its log lines."""

    process: asyncio.subprocess.Process
    lines: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    reader: asyncio.Task[None] | None = None

    async def read(self) -> None:
        """Collect the JSON log lines from stdout."""
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
            while not self.events(name):
                if self.process.returncode is not None:
                    msg = f"signproxy exited with {self.process.returncode} before {name}"
                    raise RuntimeError(msg)
                await asyncio.sleep(0.02)
        return self.events(name)[0]


class Processes:
    """Starts ``signproxy`` processes in ``cwd`` (no stray ./.env) and kills them at the end."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self.served: list[Served] = []

    async def serve(self, env: dict[str, str], port: int = 0) -> Served:
        """Start ``signproxy serve --port <port>`` and wait until it (a worker) listens."""
        process = await processes.start(
            "serve", "--port", str(port), env=processes.cli_env(**env), cwd=self.cwd
        )
        served = Served(process)
        served.reader = asyncio.create_task(served.read())
        self.served.append(served)
        served.url = (await served.wait_event("signproxy.listening"))["url"]
        return served

    async def command(self, *args: str, env: dict[str, str]) -> tuple[int, str]:
        """Run ``signproxy <args>``; its exit status and output."""
        return await processes.run(*args, env=processes.cli_env(**env), cwd=self.cwd, timeout=120)

    async def stop(self, served: Served, *, kill: bool = False) -> int:
        """SIGTERM one server (its workers stop with it), or SIGKILL it and its workers."""
        if kill:
            processes.kill_group(served.process.pid)
        else:
            served.process.terminate()
        async with asyncio.timeout(20):
            code = await served.process.wait()
            if served.reader is not None:
                await served.reader
        return code

    async def close(self) -> None:
        """Kill every server still running, with its workers."""
        for served in self.served:
            if served.process.returncode is None:  # not reaped: its pid is still its group's
                await processes.reap(served.process)
            if served.reader is not None and not served.reader.done():
                served.reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await served.reader
