"""A fleet for rate-limit tests: an emulator process and N ``signproxy serve`` processes.

Every process runs in a temporary folder (no ``.env`` is read), on free ports of 127.0.0.1, and
is stopped when the fleet's ``with`` block ends, even when the test fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from tests.support.keys import LIVE_KEY, env_for
from tests.support.paths import ROOT
from tests.support.processes import cli_env

_START_TIMEOUT_S = 30.0


def free_port() -> int:
    """A free TCP port of 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Fleet:
    """The processes of one test, and where they listen."""

    directory: Path
    emulator_port: int = field(default_factory=free_port)
    proxy_ports: list[int] = field(default_factory=list)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def emulator_url(self) -> str:
        """The emulator's base URL."""
        return f"http://127.0.0.1:{self.emulator_port}"

    def proxy_url(self, index: int) -> str:
        """Proxy ``index``'s base URL."""
        return f"http://127.0.0.1:{self.proxy_ports[index]}"

    def log(self, index: int) -> Path:
        """Proxy ``index``'s log file (JSON lines)."""
        return self.directory / f"proxy{index}.log"

    async def start(self, proxies: int, **env: str) -> None:
        """Start the emulator, then ``proxies`` proxies with ``env`` added to their variables."""
        base = cli_env(PYTHONPATH=str(ROOT))
        self._spawn(
            [sys.executable, "-m", "tests.support.arrival_emulator", str(self.emulator_port)],
            base,
            self.directory / "emulator.log",
        )
        await self._wait_http(self.emulator_url + "/-/arrivals")
        for index in range(proxies):
            port = free_port()
            self.proxy_ports.append(port)
            variables = {
                **base,
                **env_for(LIVE_KEY, self.emulator_url),
                "SIGNPROXY_RATE_LIMITS": "on",
                "SIGNPROXY_LOG_FORMAT": "json",
                "SIGNPROXY_WS_UPSTREAM": f"ws://127.0.0.1:{self.emulator_port}",
                **env,
            }
            argv = [sys.executable, "-m", "signproxy", "serve", "--port", str(port)]
            self._spawn(argv, variables, self.log(index))
        for index in range(proxies):
            await self._wait_http(self.proxy_url(index) + "/-/health")

    def _spawn(self, argv: list[str], env: dict[str, str], out: Path) -> None:
        with out.open("wb") as sink:
            self.processes.append(
                subprocess.Popen(
                    argv, env=env, cwd=self.directory, stdout=sink, stderr=subprocess.STDOUT
                )
            )

    async def _wait_http(self, url: str) -> None:
        deadline = time.monotonic() + _START_TIMEOUT_S
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                for process in self.processes:
                    assert process.poll() is None, f"a fleet process exited: {process.args}"
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.get(url) as reply:
                        if reply.status == 200:
                            return
                await asyncio.sleep(0.05)
        msg = f"{url} did not answer in {_START_TIMEOUT_S} s"
        raise AssertionError(msg)

    async def arrivals(self) -> list[list[Any]]:
        """What the emulator saw: ``[at, method, target, status, code]`` rows."""
        async with (
            aiohttp.ClientSession() as session,
            session.get(self.emulator_url + "/-/arrivals") as reply,
        ):
            return list(await reply.json())

    def alive(self) -> bool:
        """Every process of the fleet is still running."""
        return all(process.poll() is None for process in self.processes)

    def stop(self) -> None:
        """Stop every process (SIGTERM, then SIGKILL after 10 s)."""
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    def log_events(self, index: int, event: str) -> list[dict[str, Any]]:
        """Proxy ``index``'s log lines of ``event``."""
        lines = self.log(index).read_text().splitlines()
        parsed = [json.loads(line) for line in lines if line.startswith("{")]
        return [line for line in parsed if line.get("event") == event]


def max_in_window(times: list[float], window: float) -> int:
    """The most ``times`` that fall in any window of ``window`` seconds (closed-open)."""
    ordered = sorted(times)
    best, start = 0, 0
    for end, at in enumerate(ordered):
        while ordered[start] <= at - window:
            start += 1
        best = max(best, end - start + 1)
    return best
