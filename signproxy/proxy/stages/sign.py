"""Stage ``sign``: the headers OKX needs, signed over exactly the bytes that will be sent."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import structlog

from signproxy.okx.exptime import EXPTIME_HEADER, default_exptime
from signproxy.okx.signing import iso_timestamp, prehash
from signproxy.proxy.demo_flag import DemoFlagNotes
from signproxy.proxy.pipeline import Stage

if TYPE_CHECKING:
    from signproxy.proxy.record import Exchange
    from signproxy.upstream.clock import Clock

# Client headers that reach OKX. Everything else is dropped: OK-ACCESS-* (replaced by the
# proxy's own), Authorization and tokens, Host and X-Forwarded-* (the upstream is fixed), cookies,
# and x-simulated-trading (set from the key's demo flag, never from the client).
_FORWARDED_HEADERS = ("Accept", "Accept-Language", "User-Agent", "expTime")


class Sign(Stage):
    """Fill ``headers``: the account's fixed headers, forwarded ones, expTime, timestamp, sign.

    Runs after every stage that may change the target or body: nothing after it may.
    """

    name = "sign"

    def __init__(self, clock: Clock, exptime_ms: int | None) -> None:
        """Sign at ``clock``'s time (kept in step with OKX); add ``expTime`` if configured."""
        self._clock = clock
        self._exptime_ms = exptime_ms
        self._demo_notes = DemoFlagNotes()
        self._log = structlog.get_logger("signproxy")

    def check(self, exchange: Exchange) -> None:
        """Sign the exchange's method, target and body with its account's key."""
        account, request = exchange.account, exchange.http
        assert account is not None  # noqa: S101 - the select-account stage runs first
        assert exchange.target is not None  # noqa: S101 - the target stage runs first
        headers = account.headers.copy()
        client_headers = request.headers if request is not None else {}
        flag = client_headers.get("x-simulated-trading")
        if flag is not None:  # rare: only SDKs that send their own demo flag
            client = exchange.client or (str(request.remote) if request is not None else "")
            self._demo_notes.check(client, account, flag)
        for name in _FORWARDED_HEADERS:
            value = client_headers.get(name)
            if value is not None:
                headers[name] = value
        headers.update(exchange.headers)  # what earlier stages decided (e.g. expTime)
        # Read once, as late as possible (OKX rejects timestamps more than 30 s off its clock);
        # a default expTime counts from the same instant the request is signed at.
        now_ms = self._clock.now_ms()
        method, target, body = exchange.method, exchange.target, exchange.body
        assert exchange.path is not None  # noqa: S101 - set with the target
        exptime = default_exptime(method, exchange.path, headers, now_ms, self._exptime_ms)
        if exptime is not None:
            headers[EXPTIME_HEADER] = exptime
        timestamp = iso_timestamp(now_ms)
        headers["OK-ACCESS-TIMESTAMP"] = timestamp
        headers["OK-ACCESS-SIGN"] = account.signer.sign_request(timestamp, method, target, body)
        exchange.headers = headers
        if self._log.is_enabled_for(logging.DEBUG):  # the prehash holds no secret, and is what
            # people need to compare when OKX answers 50113.
            self._log.debug(
                "signproxy.prehash",
                request_id=exchange.request_id,
                prehash=prehash(timestamp, method, target, body).decode("utf-8", "replace"),
            )
