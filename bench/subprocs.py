"""What the latency scripts share: an emulator with a proxy in front of it, and percentiles.

Both are started by :class:`servers.Processes`, on top of the tests' launcher, with the fake
credentials the tests use too.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from servers import FAKE_KEY, Processes, free_port, start_emulator, start_signproxy


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
    emulator_url: str
    proxy_url: str
    procs: Processes

    async def stop(self) -> None:
        """Stop both (SIGTERM, then SIGKILL after 10 s) and remove their logs."""
        await asyncio.to_thread(self.procs.close)
        shutil.rmtree(self.procs.workdir, ignore_errors=True)


async def start_emulator_and_proxy() -> Pair:
    """Start the emulator accepting the fake key and the proxy signing with it for it."""
    procs = Processes(Path(tempfile.mkdtemp(prefix="signproxy-bench-")))

    def start() -> tuple[str, str]:
        emulator_port, proxy_port = free_port(), free_port()
        start_emulator(procs, emulator_port)
        emulator_url = f"http://127.0.0.1:{emulator_port}"
        start_signproxy(procs, proxy_port, emulator_url)
        return emulator_url, f"http://127.0.0.1:{proxy_port}"

    try:
        emulator_url, proxy_url = await asyncio.to_thread(start)
    except BaseException:
        procs.close()
        raise
    key = FAKE_KEY
    return Pair(key.api_key, key.secret, key.passphrase, emulator_url, proxy_url, procs)
