"""Helpers the latency scripts share: run ``signproxy`` subprocesses, read percentiles."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import sys
from dataclasses import dataclass


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


@dataclass(frozen=True)
class Pair:
    """A running ``signproxy emulator`` and a ``signproxy serve`` in front of it."""

    key: str
    secret: str
    passphrase: str
    emulator: asyncio.subprocess.Process
    emulator_url: str
    proxy: asyncio.subprocess.Process
    proxy_url: str

    async def stop(self) -> None:
        """Stop both (SIGTERM) and wait for them."""
        for process in (self.proxy, self.emulator):
            process.terminate()
            await process.wait()


async def start_emulator_and_proxy() -> Pair:
    """Start the emulator with throwaway credentials and the proxy signing with them for it."""
    key, secret, passphrase = "bench-key", secrets.token_hex(16), "bench-pass"
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("OKX_", "SIGNPROXY_"))}
    env = {
        **base_env,
        "OKX_API_KEY": key,
        "OKX_API_SECRET": secret,
        "OKX_API_PASSPHRASE": passphrase,
        "SIGNPROXY_LOG_FORMAT": "json",
    }
    emulator, emulator_url = await start("emulator", "--port", "0", env=env)
    proxy_env = {**env, "SIGNPROXY_UPSTREAM": emulator_url, "SIGNPROXY_ALLOW_CUSTOM_UPSTREAM": "1"}
    proxy, proxy_url = await start("serve", "--port", "0", env=proxy_env)
    return Pair(key, secret, passphrase, emulator, emulator_url, proxy, proxy_url)
