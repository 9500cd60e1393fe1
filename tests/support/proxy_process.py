"""Real ``signproxy`` processes for tests: ``serve`` with its JSON log lines, and CLI commands.

Everything runs with asyncio subprocesses, so an emulator served by the test's own event loop
keeps answering while a command waits. :class:`Processes` kills whatever is still running when
the test ends, even when it fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Served:
    """One ``signproxy serve --port 0`` process and its log lines."""

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


def clean_env(**variables: str) -> dict[str, str]:
    """The process environment without any OKX_ or SIGNPROXY_ variable, plus ``variables``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OKX_", "SIGNPROXY_"))}
    env.update(variables)
    env["SIGNPROXY_LOG_FORMAT"] = "json"
    return env


class Processes:
    """Starts ``signproxy`` processes in ``cwd`` (no stray ./.env) and kills them at the end."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self.started: list[asyncio.subprocess.Process] = []
        self.served: list[Served] = []

    async def serve(self, env: dict[str, str], port: int = 0) -> Served:
        """Start ``signproxy serve --port <port>`` and wait until it (a worker) listens."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "signproxy",
            "serve",
            "--port",
            str(port),
            env=clean_env(**env),
            cwd=self.cwd,
            stdout=asyncio.subprocess.PIPE,
            start_new_session=True,  # its workers too can be killed as one group
        )
        self.started.append(process)
        served = Served(process)
        served.reader = asyncio.create_task(served.read())
        self.served.append(served)
        served.url = (await served.wait_event("signproxy.listening"))["url"]
        return served

    async def command(self, *args: str, env: dict[str, str]) -> tuple[int, str]:
        """Run ``signproxy <args>``; its exit status and stdout (stderr goes to the test's)."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "signproxy",
            *args,
            env=clean_env(**env),
            cwd=self.cwd,
            stdout=asyncio.subprocess.PIPE,
        )
        self.started.append(process)
        async with asyncio.timeout(120):
            out, _ = await process.communicate()
        return process.returncode or 0, out.decode()

    async def stop(self, served: Served, *, kill: bool = False) -> int:
        """SIGTERM one server (its workers stop with it), or SIGKILL it and its workers."""
        if kill:
            _kill_group(served.process)
        else:
            served.process.terminate()
        async with asyncio.timeout(20):
            code = await served.process.wait()
            if served.reader is not None:
                await served.reader
        return code

    async def close(self) -> None:
        """Kill everything still running (a server's workers included)."""
        for process in self.started:
            if process.returncode is None:
                _kill_group(process)
                with contextlib.suppress(ProcessLookupError):
                    await process.wait()
        for served in self.served:
            if served.reader is not None and not served.reader.done():
                served.reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await served.reader


def _kill_group(process: asyncio.subprocess.Process) -> None:
    """SIGKILL the process's group (a server and its workers); commands are killed alone.

    Called only while the process has not been reaped, so its pid (the group's id) cannot have
    been reused by anything else.
    """
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        process.kill()
