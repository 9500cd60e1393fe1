"""Helpers the latency scripts share: run ``signproxy`` subprocesses, read percentiles."""

from __future__ import annotations

import asyncio
import json
import sys


async def start(*args: str, env: dict[str, str]) -> tuple[asyncio.subprocess.Process, str]:
    """Start ``signproxy *args`` and return it with the URL from its listening log line."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "signproxy", *args, env=env, stdout=asyncio.subprocess.PIPE
    )
    assert process.stdout is not None
    while line := await asyncio.wait_for(process.stdout.readline(), 30):
        entry = json.loads(line)
        if entry["event"] in ("signproxy.listening", "signproxy.emulator_listening"):
            # Drain the rest of its log so the pipe never fills and stalls it.
            asyncio.get_running_loop().create_task(drain(process.stdout))
            return process, entry["url"]
    raise SystemExit(f"signproxy {' '.join(args)} exited before listening")


async def drain(stream: asyncio.StreamReader) -> None:
    """Read and drop a subprocess's output."""
    while await stream.read(65536):
        pass


def percentile(samples: list[float], fraction: float) -> float:
    """The sample below which ``fraction`` of the samples lie."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]
