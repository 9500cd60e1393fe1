"""The one HTTP client session to OKX: keep-alive, timeouts, and failures as typed errors.

A request other than GET is never retried, here or anywhere: if its bytes may have reached OKX,
an order may exist, and sending it again could double it. aiohttp itself resends idempotent
methods (GET here) once when the connection closes before any answer; POST never.
"""

from __future__ import annotations

import asyncio
import random
import ssl
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import aiohttp
import structlog
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from signproxy.errors import (
    UpstreamBadResponse,
    UpstreamDisconnected,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnreachable,
)
from signproxy.upstream.pool import FreshConnector
from signproxy.upstream.reading import read_answer

if TYPE_CHECKING:
    from collections.abc import Mapping

    from signproxy.upstream.held import HeldBytes

# Hop-by-hop headers (RFC 9110 section 7.6.1) belong to one connection, never relayed. The body
# is relayed decoded with its own length, so its encoding and length headers go too. Cookies from
# OKX's edge are the proxy's connection business, not the bot's.
_NOT_RELAYED = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "content-encoding",
        "set-cookie",
    }
)

# First back-off before a GET is sent again; doubles per try, with full jitter.
_RETRY_BACKOFF_S = 0.05


@dataclass(frozen=True, slots=True)
class UpstreamResponse:
    """What OKX answered, ready to relay."""

    status: int
    headers: CIMultiDict[str]
    body: bytes
    elapsed_ms: float


def relayable_headers(headers: CIMultiDictProxy[str]) -> CIMultiDict[str]:
    """Drop hop-by-hop headers, any the ``Connection`` header names, and ``Access-Control-*``.

    OKX's answers may carry CORS headers; relaying one could let a web page read a response.
    """
    relayed = CIMultiDict(headers)
    for name in _NOT_RELAYED:
        if name in relayed:
            relayed.popall(name)
    for value in headers.getall("Connection", ()):
        for token in value.split(","):
            relayed.popall(token.strip(), None)
    for name in [name for name in relayed if name[:15].lower() == "access-control-"]:
        relayed.popall(name, None)
    return relayed


class Upstream:
    """Sends signed requests to the configured OKX base URL over one pooled session."""

    def __init__(  # noqa: PLR0913 - one keyword-only argument per setting
        self,
        base_url: str,
        *,
        connect_timeout: float,
        request_timeout: float,
        max_response_bytes: int,
        get_retries: int = 0,
        idle_timeout: float = 15.0,
        held: HeldBytes | None = None,
    ) -> None:
        """Remember the settings; the session is made by :meth:`start` inside the event loop.

        ``held`` is the process's budget of answer bytes held for clients (see held.py).
        """
        self._base = base_url
        self._timeout = aiohttp.ClientTimeout(
            total=request_timeout, connect=connect_timeout, sock_connect=connect_timeout
        )
        self._max_bytes = max_response_bytes
        self._get_retries = get_retries
        self._log = structlog.get_logger("signproxy")
        self._idle_timeout = idle_timeout
        self._held = held
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        """Open the session (one per process, reused for every request)."""
        self._session = aiohttp.ClientSession(
            timeout=self._timeout,
            # Never keep OKX's cookies: they would be shared across every bot behind the proxy.
            cookie_jar=aiohttp.DummyCookieJar(),
            connector=FreshConnector(
                limit=256, ttl_dns_cache=300, keepalive_timeout=self._idle_timeout
            ),
            skip_auto_headers=("User-Agent",),
        )

    async def close(self) -> None:
        """Close the session and its pooled connections."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(  # noqa: PLR0913 - the request, then keyword-only options
        self,
        method: str,
        target: str,
        headers: Mapping[str, str],
        body: bytes,
        *,
        base_url: str | None = None,
        retries: int | None = None,
    ) -> UpstreamResponse:
        """Send one request exactly as given and read the whole answer (up to the limit).

        ``target`` is sent byte for byte: the URL is marked as already encoded so the client
        does not re-quote it (re-quoting after signing is the classic cause of 50113).
        ``base_url`` is the account's REST host; the one session serves every host.

        A GET is sent again, up to ``get_retries`` times with a jittered back-off, when nothing
        at all came back (no connection, or it closed before any answer). Nothing else is
        retried: not a timeout, not after an answer began, and never a method other than GET.
        ``retries`` overrides ``get_retries`` (the clock counts every request it sends).

        Raises:
            UpstreamError: one of its subclasses, saying whether the outcome is unknown.
        """
        if retries is None:
            retries = self._get_retries
        retries = retries if method == "GET" else 0
        url = URL((base_url or self._base) + target, encoded=True)
        attempt = 0
        while True:
            try:
                return await self._send_once(method, url, headers, body)
            except UpstreamError as exc:
                if not exc.retryable or attempt >= retries:
                    raise
                attempt += 1
                delay = random.uniform(0, _RETRY_BACKOFF_S * 2**attempt)  # noqa: S311 - jitter
                self._log.info(
                    "signproxy.upstream_retry",
                    method=method,
                    attempt=attempt,
                    error=exc.code,
                    delay_ms=round(delay * 1000, 1),
                )
                await asyncio.sleep(delay)

    async def _send_once(
        self, method: str, url: URL, headers: Mapping[str, str], body: bytes
    ) -> UpstreamResponse:
        if self._session is None:
            msg = "Upstream.start() was not awaited"
            raise RuntimeError(msg)
        may_have_sent = method != "GET"
        started = time.perf_counter()
        try:
            async with self._session.request(
                method, url, headers=headers, data=body or None, allow_redirects=False
            ) as response:
                payload = await read_answer(
                    response, self._max_bytes, self._held, outcome_unknown=may_have_sent
                )
                return UpstreamResponse(
                    status=response.status,
                    headers=relayable_headers(response.headers),
                    body=payload,
                    elapsed_ms=(time.perf_counter() - started) * 1000,
                )
        except UpstreamError:
            raise
        except (aiohttp.ClientConnectorCertificateError, aiohttp.ClientConnectorSSLError) as exc:
            raise UpstreamUnreachable(
                f"TLS with OKX failed: {type(exc).__name__}; the request was not sent"
            ) from None
        except aiohttp.ConnectionTimeoutError:
            raise UpstreamTimeout(
                "could not connect to OKX in time; the request was not sent"
            ) from None
        except aiohttp.ClientConnectorError as exc:
            raise UpstreamUnreachable(
                f"cannot connect to OKX: {exc.strerror or type(exc).__name__};"
                " the request was not sent",
                retryable=True,
            ) from None
        except TimeoutError:
            raise UpstreamTimeout(
                "OKX did not answer in time", outcome_unknown=may_have_sent
            ) from None
        except (aiohttp.ClientPayloadError, aiohttp.ClientResponseError) as exc:
            raise UpstreamBadResponse(
                f"OKX sent a malformed response: {type(exc).__name__}",
                outcome_unknown=may_have_sent,
            ) from None
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError, ssl.SSLError) as exc:
            # Closed before any answer: a GET may go again (aiohttp itself already resent it
            # once when the connection came from the pool).
            raise UpstreamDisconnected(
                f"connection to OKX broke: {type(exc).__name__}",
                outcome_unknown=may_have_sent,
                retryable=not isinstance(exc, ssl.SSLError),
            ) from None
        except aiohttp.ClientError as exc:
            raise UpstreamDisconnected(
                f"request to OKX failed: {type(exc).__name__}", outcome_unknown=may_have_sent
            ) from None
