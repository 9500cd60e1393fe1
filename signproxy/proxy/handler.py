"""Orchestration of one proxied request: read, check, canonicalize, sign, forward, relay."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import structlog
from aiohttp import web

from signproxy.errors import (
    BodyNotAllowed,
    BodyRequired,
    BodyTooLarge,
    MethodNotAllowed,
    UnsupportedMediaType,
)
from signproxy.okx.auth_hints import hint_fields
from signproxy.okx.canonical import BodyMode, body_bytes, split_target
from signproxy.okx.exptime import EXPTIME_HEADER, default_exptime
from signproxy.okx.signing import iso_timestamp, prehash
from signproxy.proxy.demo_flag import DemoFlagNotes
from signproxy.proxy.selection import CLIENT_TOKEN, Selector
from signproxy.upstream.inflight import InFlight, outcome_fields

if TYPE_CHECKING:
    from collections.abc import Callable

    from signproxy.settings.config import Settings
    from signproxy.upstream.client import Upstream
    from signproxy.upstream.clock import Clock

LOG_FIELDS = web.RequestKey("signproxy.log_fields", dict[str, Any])

# Client headers that reach OKX. Everything else is dropped: OK-ACCESS-* (replaced by the
# proxy's own), Authorization and tokens, Host and X-Forwarded-* (the upstream is fixed), cookies,
# and x-simulated-trading (set from the key's demo flag, never from the client).
_FORWARDED_HEADERS = ("Accept", "Accept-Language", "User-Agent", "expTime")
_OKX_CODE = re.compile(rb'"code"\s*:\s*"([^"]{0,16})"')
_CODE_SCAN_BYTES = 1024


def okx_code(body: bytes) -> str | None:
    """Find OKX's top-level ``code`` near the start of a response body, for the log line.

    OKX puts ``code`` first or second in its envelope, so scanning the head is enough and keeps
    big responses (instrument lists) from being parsed just to log one field.
    """
    match = _OKX_CODE.search(body, 0, _CODE_SCAN_BYTES)
    return match.group(1).decode("ascii", "replace") if match else None


class ProxyHandler:
    """Signs and forwards every request that passes the checks; raises RequestRejected otherwise."""

    def __init__(  # noqa: PLR0913 - collaborators are injected, the optional ones keyword-only
        self,
        settings: Settings,
        upstream: Upstream,
        clock: Clock,
        *,
        inflight: InFlight | None = None,
        on_timestamp_expired: Callable[[], None] | None = None,
        selector: Selector | None = None,
    ) -> None:
        """Take collaborators in; secrets live only in the accounts the ``selector`` holds.

        ``on_timestamp_expired`` is called when OKX answers 50102 (the clock re-measures).
        """
        self._selector = selector or Selector(settings.accounts)
        self._demo_notes = DemoFlagNotes()
        self._body_mode: BodyMode = settings.body_mode
        self._policy = settings.access.policy
        self._max_body = settings.max_body_bytes
        self._upstream = upstream
        self._clock = clock
        self._log = structlog.get_logger("signproxy")
        self._exptime_ms = settings.exptime_ms
        self._inflight = inflight if inflight is not None else InFlight()
        self._on_timestamp_expired = on_timestamp_expired

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Proxy one request. The aiohttp route handler."""
        fields = request[LOG_FIELDS]
        method = request.method
        if method not in ("GET", "POST"):
            raise MethodNotAllowed("OKX's REST API takes GET and POST only")
        # The account is taken once: a reload during this request does not change it.
        account, raw_path = self._selector.select(request, request.raw_path, fields)
        path, target = split_target(raw_path, method)
        fields["path"] = path
        self._policy.enforce(method, path)
        body = await self._read_body(request, method)

        headers = account.headers.copy()
        client_headers = request.headers
        flag = client_headers.get("x-simulated-trading")
        if flag is not None:  # rare: only SDKs that send their own demo flag
            token = request.get(CLIENT_TOKEN)
            client = token.name if token is not None else str(request.remote)
            self._demo_notes.check(client, account, flag)
        for name in _FORWARDED_HEADERS:
            value = client_headers.get(name)
            if value is not None:
                headers[name] = value
        # Read once, as late as possible (OKX rejects timestamps more than 30 s off its clock);
        # a default expTime counts from the same instant the request is signed at.
        now_ms = self._clock.now_ms()
        exptime = default_exptime(method, path, client_headers, now_ms, self._exptime_ms)
        if exptime is not None:
            headers[EXPTIME_HEADER] = exptime
        timestamp = iso_timestamp(now_ms)
        headers["OK-ACCESS-TIMESTAMP"] = timestamp
        headers["OK-ACCESS-SIGN"] = account.signer.sign_request(timestamp, method, target, body)
        if self._log.is_enabled_for(logging.DEBUG):  # the prehash holds no secret, and is what
            # people need to compare when OKX answers 50113.
            self._log.debug(
                "signproxy.prehash",
                request_id=fields["request_id"],
                prehash=prehash(timestamp, method, target, body).decode("utf-8", "replace"),
            )

        # Runs on even if this handler is cancelled (client gone): see inflight.py.
        answer = await self._inflight.send(
            self._upstream, method, target, headers, body, fields=fields, base_url=account.upstream
        )
        fields["upstream_ms"] = round(answer.elapsed_ms, 3)
        fields["okx_code"] = okx_code(answer.body)
        fields.update(hint_fields(fields["okx_code"]))  # auth refusals: what to do, in the log
        if fields["okx_code"] == "50102" and self._on_timestamp_expired is not None:
            self._on_timestamp_expired()
        if request.transport is None or request.transport.is_closing():
            # The client is gone; the answer cannot reach it, so the log line must say it all.
            fields.update(outcome_fields(answer), client_gone=True)
        return web.Response(status=answer.status, body=answer.body, headers=answer.headers)

    async def _read_body(self, request: web.Request, method: str) -> bytes:
        if method == "GET":
            if request.body_exists:
                raise BodyNotAllowed("GET requests are signed without a body; send none")
            return b""
        if not request.body_exists:
            raise BodyRequired("POST needs a JSON body; send {} when there are no parameters")
        mime, _, params = request.headers.get("Content-Type", "").partition(";")
        if mime.strip().lower() != "application/json" or not _utf8_or_unset(params):
            raise UnsupportedMediaType("request bodies must be Content-Type: application/json")
        length = request.content_length
        if length is not None and length > self._max_body:
            raise BodyTooLarge(f"body is over the {self._max_body}-byte limit")
        raw = await _read_at_most(request, self._max_body)
        if not raw:
            raise BodyRequired("POST needs a JSON body; send {} when there are no parameters")
        return body_bytes(raw, self._body_mode)


def _utf8_or_unset(params: str) -> bool:
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in (
            "utf-8",
            "utf8",
        ):
            return False
    return True


async def _read_at_most(request: web.Request, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.readany():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"body is over the {limit}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)
