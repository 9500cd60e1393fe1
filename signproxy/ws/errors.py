"""Refusals of a WebSocket connection, made before the upgrade (HTTP answers, SPX70x).

    RequestRejected (signproxy.errors)
    ├── WebSocketUnavailable   503 SPX700: no OKX WebSocket host is configured for the account
    ├── NotWebSocket           426 SPX701: a plain HTTP request to a /ws/v5/ path
    └── TooManyWebSockets      503 SPX702: SIGNPROXY_WS_MAX_CONNECTIONS are already open

Refusals of single frames on an open connection are OKX-shaped error events, not exceptions;
their codes (SPX710, SPX711) are in :mod:`signproxy.ws.frames`.
"""

from __future__ import annotations

from signproxy.errors import RequestRejected


class WebSocketUnavailable(RequestRejected):
    """The upstream has no known WebSocket host and SIGNPROXY_WS_UPSTREAM is not set."""

    status = 503
    code = "SPX700"


class NotWebSocket(RequestRejected):
    """The /ws/v5/ paths speak WebSocket only."""

    status = 426
    code = "SPX701"


class TooManyWebSockets(RequestRejected):
    """The proxy already relays its maximum number of WebSocket connections."""

    status = 503
    code = "SPX702"
