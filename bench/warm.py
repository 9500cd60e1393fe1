"""The keep-warm scenario: a keep-alive bot that sends one order every few seconds.

The upstream is TLS behind relay.py, which adds a round trip and closes connections idle for
``idle_close`` seconds (a server's keep-alive timeout). The bot (a ``requests.Session``, so it
keeps its connection when it can) sends one order every ``gap`` seconds, longer than the idle
timeout: sent directly, every order finds its connection closed and pays a new TCP and TLS
handshake. Through signproxy with keep-warm on, the proxy's connection is still open. The same
bot through signproxy with ``SIGNPROXY_UPSTREAM_KEEP_WARM=0`` is the reference that shows what
keeping warm is worth. The three bots run at once, their orders staggered so they never overlap.
"""

from __future__ import annotations

import statistics
import threading
import time
from typing import TYPE_CHECKING, Any

from servers import order_body

if TYPE_CHECKING:
    from pathlib import Path


def keep_alive_bot(
    url: str, orders: int, gap: float, start_at: float, ca_file: Path | None
) -> list[float]:
    """Send ``orders`` orders ``gap`` seconds apart from ``start_at``; their times in ms."""
    import requests  # noqa: PLC0415 - only the scenarios need it

    times = []
    with requests.Session() as session:
        for number in range(orders + 1):
            time.sleep(max(0.0, start_at + number * gap - time.monotonic()))
            started = time.perf_counter()
            answer = session.post(
                url,
                data=order_body(number),
                headers={"Content-Type": "application/json"},
                timeout=10,
                verify=str(ca_file) if ca_file is not None else True,
            )
            elapsed = (time.perf_counter() - started) * 1000
            if answer.status_code != 200 or answer.json().get("code") != "0":  # noqa: PLR2004
                msg = f"order through {url} failed: {answer.status_code}"
                raise RuntimeError(msg)
            if number:  # the first one opens the bot's own connection: not counted
                times.append(elapsed)
    return times


def compare(urls: dict[str, str], ca_file: Path, orders: int, gap: float) -> dict[str, Any]:
    """Run one bot per URL at once, staggered across the gap; summarize each."""
    results: dict[str, list[float]] = {}
    errors: list[BaseException] = []
    start = time.monotonic() + 0.5

    def run(name: str, url: str, offset: float) -> None:
        try:
            verify = ca_file if url.startswith("https") else None
            results[name] = keep_alive_bot(url, orders, gap, start + offset, verify)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
            errors.append(exc)

    threads = [
        threading.Thread(target=run, args=(name, url, index * gap / (len(urls) + 1)))
        for index, (name, url) in enumerate(urls.items())
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return {
        name: {
            "orders": len(times),
            "mean_ms": round(statistics.fmean(times), 2),
            "median_ms": round(statistics.median(times), 2),
            "max_ms": round(max(times), 2),
        }
        for name, times in results.items()
    }
