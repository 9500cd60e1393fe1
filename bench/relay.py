"""A TCP relay on 127.0.0.1 that adds network round-trip time, for the TLS scenario.

Usage: ``relay.py LISTEN_PORT UPSTREAM_PORT RTT_MS``. A new connection waits one round trip
before anything flows (the TCP handshake a real network costs), then every chunk is delayed by
half a round trip in each direction, in order. Runs until SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys


async def _pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, delay: float) -> None:
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
            queue.put_nowait((loop.time() + delay, data))
    queue.put_nowait(None)
    await delivery


async def main(argv: list[str]) -> None:
    """Relay until SIGTERM or SIGINT."""
    listen, upstream, rtt = int(argv[1]), int(argv[2]), float(argv[3]) / 1000

    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(rtt)
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", upstream)
        except OSError:
            writer.close()
            return
        with contextlib.suppress(ConnectionError):
            await asyncio.gather(
                _pipe(reader, up_writer, rtt / 2), _pipe(up_reader, writer, rtt / 2)
            )

    server = await asyncio.start_server(relay, "127.0.0.1", listen)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    server.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv))
