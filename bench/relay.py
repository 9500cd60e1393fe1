"""A TCP relay on 127.0.0.1 that adds network round-trip time, for the TLS scenario.

Usage: ``relay.py LISTEN_PORT UPSTREAM_PORT RTT_MS [IDLE_CLOSE_S]``. A new connection waits one
round trip before anything flows (the TCP handshake a real network costs), then every chunk is
delayed by half a round trip in each direction, in order. With IDLE_CLOSE_S, a connection on
which nothing flowed either way for that long is closed, as a server's keep-alive idle timeout
(or a load balancer's) closes it. Runs until SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys


class _Activity:
    """When anything last flowed on one relayed connection, either way."""

    def __init__(self) -> None:
        self.last = asyncio.get_running_loop().time()


async def _pipe(
    src: asyncio.StreamReader, dst: asyncio.StreamWriter, delay: float, activity: _Activity
) -> None:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()

    async def deliver() -> None:
        while (item := await queue.get()) is not None:
            due, data = item
            if (wait := due - loop.time()) > 0:
                await asyncio.sleep(wait)
            dst.write(data)
        dst.close()

    delivery = asyncio.create_task(deliver())
    with contextlib.suppress(ConnectionError):
        while data := await src.read(65536):
            activity.last = loop.time()
            queue.put_nowait((loop.time() + delay, data))
    queue.put_nowait(None)
    await delivery


async def _close_when_idle(
    activity: _Activity, idle_close: float | None, *writers: asyncio.StreamWriter
) -> None:
    if idle_close is None:
        return
    loop = asyncio.get_running_loop()
    while (idle := loop.time() - activity.last) < idle_close:  # noqa: ASYNC110 - a moving deadline
        await asyncio.sleep(idle_close - idle)
    for writer in writers:
        writer.close()


async def main(argv: list[str]) -> None:
    """Relay until SIGTERM or SIGINT."""
    listen, upstream, rtt = int(argv[1]), int(argv[2]), float(argv[3]) / 1000
    idle_close = float(argv[4]) if len(argv) > 4 else None  # noqa: PLR2004

    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(rtt)
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", upstream)
        except OSError:
            writer.close()
            return
        activity = _Activity()
        pipes = asyncio.gather(
            _pipe(reader, up_writer, rtt / 2, activity),
            _pipe(up_reader, writer, rtt / 2, activity),
        )
        watchdog = asyncio.create_task(_close_when_idle(activity, idle_close, writer, up_writer))
        with contextlib.suppress(ConnectionError):
            await pipes
        watchdog.cancel()

    server = await asyncio.start_server(relay, "127.0.0.1", listen)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    server.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv))
