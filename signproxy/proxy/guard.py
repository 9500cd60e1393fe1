"""Request-level checks that run before anything is read, signed or forwarded.

In this order: CORS preflights, the ``Host`` header (DNS rebinding), browser requests (``Origin``
and fetch-metadata headers), headers that try to steer the upstream, compressed request bodies
(``Content-Encoding``), and the client token. The
canonical-log middleware runs :meth:`Guard.admit` before any handler (one middleware instead of
two saves a few µs per request), so every refusal still gets the one log line, with the refusing
rule in its ``rule`` field. ``Access-Control-*`` headers from OKX are dropped with the other
headers that are not relayed (``upstream.py``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from signproxy.errors import EncodedBody
from signproxy.proxy.selection import CLIENT_TOKEN
from signproxy.refusals import (
    BrowserRefused,
    HostRefused,
    OriginRefused,
    PreflightRefused,
    SteeringRefused,
    TokenAmbiguous,
    TokenInvalid,
    TokenMissing,
)
from signproxy.settings.netnames import host_allowed, host_header_name, normalize_origin
from signproxy.settings.tokens import ClientToken, identify

if TYPE_CHECKING:
    from aiohttp import web
    from multidict import CIMultiDictProxy

    from signproxy.settings.access import Access

# Headers that name another host, scheme, port, path or method for a request. The proxy never
# forwards them (the upstream and the signed target are fixed), but a client that sends one
# expects an effect it will not get, or is probing: refusing is louder and safer than ignoring.
# X-Forwarded-For and X-Real-IP only describe the client, so they are left alone (and dropped).
STEERING_HEADERS = (
    "Forwarded",
    "X-Forwarded-Host",
    "X-Forwarded-Proto",
    "X-Forwarded-Scheme",
    "X-Forwarded-Port",
    "X-Forwarded-Prefix",
    "X-Forwarded-Server",
    "X-Forwarded-Uri",
    "X-Forwarded-Path",
    "X-Original-URL",
    "X-Original-URI",
    "X-Original-Host",
    "X-Rewrite-URL",
    "X-Host",
    "X-HTTP-Method-Override",
    "X-HTTP-Method",
    "X-Method-Override",
)
TOKEN_HEADER = "X-Signproxy-Token"  # noqa: S105 - a header name, not a secret
# Node's fetch (undici) sends "Sec-Fetch-Mode: cors" on every request, with no Origin and no
# Sec-Fetch-Site; browsers always send Sec-Fetch-Site with it. So "cors" alone is not a browser.
_NON_BROWSER_MODES = frozenset({"cors"})
_STEERING = frozenset(name.lower() for name in STEERING_HEADERS)
# Host decisions are remembered: parsing addresses costs more than the rest of the guard, and
# clients send the same one or two Host values. Bounded, as the values come from clients.
_HOST_CACHE_SIZE = 256
# The relayed WebSocket paths (with or without an /a/<account> prefix), decoded as routed.
_WS_PATH = re.compile(r"/ws/v5/(?:private|business|public)\Z")


class Guard:
    """Checks one request's headers against the access settings; raises :class:`Refused`."""

    def __init__(
        self,
        access: Access,
        *,
        token_exempt_paths: frozenset[str] = frozenset(),
        operator_tokens: tuple[ClientToken, ...] = (),
    ) -> None:
        """Keep the settings the checks need.

        ``token_exempt_paths`` need no client token (all other checks still apply): the
        liveness endpoint, which reveals nothing and must answer a container health check, and
        the operator endpoints, which check operator tokens themselves. ``operator_tokens`` are
        refused everywhere else, even when client tokens are off: they cannot sign.
        """
        self._tokens = access.client_tokens
        self._operators = operator_tokens
        self._token_exempt = token_exempt_paths
        self._hosts = access.allowed_hosts
        self._origins = access.allowed_origins
        self._ws_origins = access.ws_allowed_origins
        self._host_decisions: dict[str, bool] = {}

    def check(self, request: web.Request) -> ClientToken | None:
        """Return the client's token (None when tokens are off), or raise :class:`Refused`."""
        headers = request.headers
        if request.method == "OPTIONS":
            raise PreflightRefused(
                "OPTIONS (CORS preflight) is never allowed: browsers may not call the proxy",
                rule="cors-preflight",
            )
        self._check_host(headers.getall("Host", ()))
        self._check_browser(headers, websocket=_WS_PATH.search(request.path) is not None)
        steering = _STEERING.intersection(name.lower() for name in headers)
        if steering:
            name = next(n for n in STEERING_HEADERS if n.lower() in steering)
            raise SteeringRefused(
                f"header {name} is refused: the upstream and the request target are fixed"
                " by the proxy's configuration",
                rule="steering-header",
            )
        encodings = {value.strip().lower() for value in headers.getall("Content-Encoding", ())}
        if encodings - {"", "identity"}:
            # aiohttp would decompress it before the proxy signs: the signed bytes would not be
            # the ones the client sent, and a body labelled gzip that is not would be a 500.
            raise EncodedBody(
                "request bodies must not be compressed (Content-Encoding); send plain JSON"
            )
        if request.path in self._token_exempt:
            return None
        if not self._tokens:
            if self._operators:
                self._refuse_operator_token(headers)
            return None
        return self._authenticate(headers)

    def _refuse_operator_token(self, headers: CIMultiDictProxy[str]) -> None:
        presented = [value.strip() for value in headers.getall(TOKEN_HEADER, ())]
        presented += [
            value.strip().partition(" ")[2].strip() for value in headers.getall("Authorization", ())
        ]
        if any(identify(value, self._operators) is not None for value in presented if value):
            raise TokenInvalid(
                "an operator token cannot be used for requests; send a client token",
                rule="client-token",
            )

    def admit(self, request: web.Request) -> str | None:
        """Run :meth:`check`; a client token is kept on the request and its name returned."""
        token = self.check(request)
        if token is None:
            return None
        request[CLIENT_TOKEN] = token
        return token.name

    def _check_host(self, values: list[str] | tuple[()]) -> None:
        if len(values) != 1:
            raise HostRefused("exactly one Host header is required", rule="host")
        allowed = self._host_decisions.get(values[0])
        if allowed is None:
            name = host_header_name(values[0])
            allowed = name is not None and host_allowed(name, self._hosts)
            if len(self._host_decisions) >= _HOST_CACHE_SIZE:
                self._host_decisions.clear()
            self._host_decisions[values[0]] = allowed
        if not allowed:
            raise HostRefused(
                "Host is not one this proxy answers to (loopback names and addresses, and"
                " SIGNPROXY_ALLOWED_HOSTS)",
                rule="host",
            )

    def _check_browser(self, headers: CIMultiDictProxy[str], *, websocket: bool) -> None:
        origins = headers.getall("Origin", ())
        if origins:
            origin = normalize_origin(origins[0]) if len(origins) == 1 else None
            if websocket:
                # Not SIGNPROXY_ALLOWED_ORIGINS: a REST answer is unreadable to a page without
                # CORS headers, but a WebSocket's frames are the page's to read and write.
                if origin is None or origin not in self._ws_origins:
                    raise OriginRefused(
                        "WebSocket connections from web pages are refused unless"
                        " SIGNPROXY_WS_ALLOWED_ORIGINS lists their Origin",
                        rule="ws-origin",
                    )
                return
            if origin is None or origin not in self._origins:
                raise OriginRefused(
                    "requests from web pages are refused unless SIGNPROXY_ALLOWED_ORIGINS lists"
                    " their Origin",
                    rule="origin",
                )
            return
        modes = {mode.strip().lower() for mode in headers.getall("Sec-Fetch-Mode", ())}
        dests = {dest.strip().lower() for dest in headers.getall("Sec-Fetch-Dest", ())}
        if (
            "Sec-Fetch-Site" in headers
            or "Sec-Fetch-User" in headers
            or modes - _NON_BROWSER_MODES
            or dests - {"empty"}
        ):
            raise BrowserRefused(
                "browser requests are refused (Sec-Fetch-* headers); call the proxy from a"
                " program, not a web page",
                rule="browser",
            )

    def _authenticate(self, headers: CIMultiDictProxy[str]) -> ClientToken:
        presented = [value.strip() for value in headers.getall(TOKEN_HEADER, ())]
        for value in headers.getall("Authorization", ()):
            scheme, _, credentials = value.strip().partition(" ")
            if scheme.lower() != "bearer" or not credentials.strip():
                raise TokenAmbiguous(
                    "Authorization must be 'Bearer <client token>'", rule="client-token"
                )
            presented.append(credentials.strip())
        if not presented:
            raise TokenMissing(
                f"a client token is required: send Authorization: Bearer <token> or {TOKEN_HEADER}",
                rule="client-token",
            )
        if len(presented) > 1:
            raise TokenAmbiguous("send exactly one client token", rule="client-token")
        token = identify(presented[0], self._tokens)
        if token is None:
            raise TokenInvalid("the client token is not valid", rule="client-token")
        return token
