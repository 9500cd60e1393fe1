"""The OKX emulator (rate limits on) in a process of its own, for tests of a fleet of proxies.

``python -m tests.support.arrival_emulator PORT`` serves LIVE_KEY on 127.0.0.1:PORT until
SIGTERM. ``GET /-/arrivals`` answers every request and WebSocket order op it saw, with the time
it arrived: ``[[at, method, target, status, code, first clOrdId], ...]`` (``at`` in seconds since the epoch;
WebSocket ops have method ``WS`` and their op as target). Its own process keeps the arrival
times free of the test's load.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable

from aiohttp import web

from signproxy.emulator import EMULATOR, create_emulator_app
from signproxy.runtime.loop import loop_factory
from tests.support.keys import LIVE_KEY

ARRIVALS = "/-/arrivals"


def _first_id(body: bytes) -> str:
    """The first ``clOrdId`` in a body, to match an arrival with the proxy's log line."""
    marker = body.find(b'"clOrdId"')
    if marker < 0:
        return ""
    return body[marker : marker + 40].split(b'"')[3].decode("ascii", "replace")


def main() -> None:
    """Serve until SIGTERM."""
    port = int(sys.argv[1])
    app = create_emulator_app([LIVE_KEY])
    state = app[EMULATOR]

    @web.middleware
    async def arrivals(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if request.path != ARRIVALS:
            return await handler(request)
        seen = [*state.received, *state.ws_ops]
        rows = [[r.at, r.method, r.target, r.status, r.code, _first_id(r.body)] for r in seen]
        return web.json_response(rows)

    app.middlewares.append(arrivals)
    # uvloop when installed, as `signproxy serve` runs: a burst of requests is handled sooner.
    web.run_app(
        app,
        host="127.0.0.1",
        port=port,
        print=None,
        access_log=None,
        loop=loop_factory()() if loop_factory() else None,
    )


if __name__ == "__main__":
    main()
