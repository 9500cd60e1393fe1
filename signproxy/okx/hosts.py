"""Which OKX WebSocket host goes with a REST upstream. Pure: no I/O.

OKX serves WebSocket on hosts of its own, one pair (live, demo) per region; the REST host alone
does not say which. The table follows OKX's API docs (https://www.okx.com/docs-v5/en/).
``tr.okx.com`` has no confirmed WebSocket host, and an unknown HTTPS host may be anything, so
for both the operator must set ``SIGNPROXY_WS_UPSTREAM`` explicitly.
"""

from __future__ import annotations

from urllib.parse import urlsplit

# REST host -> (live WebSocket base, demo WebSocket base).
_GLOBAL = ("wss://ws.okx.com:8443", "wss://wspap.okx.com:8443")
WS_HOSTS: dict[str, tuple[str, str]] = {
    "www.okx.com": _GLOBAL,
    "okx.com": _GLOBAL,
    "openapi.okx.com": _GLOBAL,
    "eea.okx.com": ("wss://wseea.okx.com:8443", "wss://wseeapap.okx.com:8443"),
    "us.okx.com": ("wss://wsus.okx.com:8443", "wss://wsuspap.okx.com:8443"),
}


def derive_ws_base(rest_upstream: str, *, demo: bool) -> str | None:
    """Return the WebSocket base URL (no path) for a validated REST base URL, or None.

    An ``http://`` upstream (the emulator, tests) maps to ``ws://`` on the same host and port,
    since the emulator serves both. None means: no known host, the setting is required.
    """
    parts = urlsplit(rest_upstream)
    if parts.scheme == "http":
        return "ws://" + parts.netloc
    hosts = WS_HOSTS.get((parts.hostname or "").lower())
    if hosts is None or parts.port not in (None, 443):
        return None
    return hosts[1] if demo else hosts[0]
