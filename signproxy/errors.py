"""The exception tree, and the one place that turns it into responses.

Every error the proxy raises on purpose, wherever its class lives:

    SignproxyError                      kind       every error the proxy raises on purpose
    ├── ConfigError              SPX900 config     bad settings; names the variable, never the value
    ├── InternalError       500  SPX500 internal   a bug in signproxy; details only in the log
    ├── RequestRejected          SPX199 refused    the request is refused; nothing was forwarded
    │   ├── NotFound            404 SPX100         not an /api/v5/ path
    │   ├── MethodNotAllowed    405 SPX101         OKX v5 REST takes GET and POST only
    │   ├── MalformedTarget     400 SPX102         a path or query the proxy will not sign
    │   ├── UnsupportedMediaType 415 SPX103        a body that is not application/json
    │   ├── BodyNotAllowed      400 SPX104         a body on GET
    │   ├── BodyRequired        400 SPX105         POST without a body
    │   ├── BodyTooLarge        413 SPX106         over SIGNPROXY_MAX_BODY_BYTES
    │   ├── InvalidJson         400 SPX107         not JSON, duplicate keys, NaN, not object/array
    │   ├── EncodedBody         415 SPX108         a body with a Content-Encoding (gzip...)
    │   ├── Refused                                the guard and the endpoint policy, SPX200-208
    │   │                                          (tree in :mod:`signproxy.refusals`)
    │   ├── ClientOrderIdConflict, RetryMixed      exactly-once, SPX810-811
    │   │                                          (in :mod:`signproxy.once.errors`)
    │   ├── RateLimited         429 SPX400-419     rate budgets
    │   │                                          (tree in :mod:`signproxy.ratelimit.errors`)
    │   ├── Account*                               account selection, SPX600-603
    │   │                                          (tree in :mod:`signproxy.proxy.selection`)
    │   └── WebSocket*                             before a WebSocket upgrade, SPX700-702
    │                                              (tree in :mod:`signproxy.ws.errors`)
    └── UpstreamError            SPX399 upstream   OKX could not be reached or answered badly
        ├── UpstreamUnreachable 502 SPX300         connect or TLS failure; the request was not sent
        ├── UpstreamDisconnected 502 SPX301        the connection broke after the request was sent
        │   └── OutcomeStillUnknown 502 SPX301     resolution ran out of time (signproxy.once)
        ├── OrderNotPlaced      502 SPX801         looked up after its expTime: not placed
        ├── UpstreamTimeout     504 SPX302         no complete answer in time
        ├── UpstreamBadResponse 502 SPX303         a malformed or oversized answer
        ├── AnswerNotHeld       503 SPX304         a GET answer past SIGNPROXY_MAX_HELD_BYTES
        └── UpstreamCutOff      503 SPX310         the proxy shut down before OKX answered

Refusals of single frames on an open WebSocket are OKX-shaped error events, not exceptions
(SPX710, SPX711, SPX712, in :mod:`signproxy.ws.frames`).

``kind`` (an :class:`ErrorKind`) is what metrics, readiness and the log level read; nothing
matches on code prefixes. Every error the proxy answers with uses OKX's envelope with a code of
the form ``SPXnnn``, which cannot be mistaken for one of OKX's numeric codes, and carries the
``X-Signproxy-Error`` header so a bot can tell the proxy's refusals from OKX's own errors.
"""

from __future__ import annotations

import enum
import json
from typing import ClassVar

from aiohttp import web

PROXY_ERROR_HEADER = "X-Signproxy-Error"


class ErrorKind(enum.Enum):
    """Which side an error is on: what metrics, readiness and log levels go by."""

    CONFIG = "config"  # the operator's settings
    REFUSED = "refused"  # the client's request, refused by a check or a rule
    UPSTREAM = "upstream"  # OKX, or the way to it
    INTERNAL = "internal"  # a bug in signproxy


class SignproxyError(Exception):
    """Base of every error the proxy raises on purpose.

    Attributes:
        status: the HTTP status the client gets.
        code: the proxy's own error code (``SPXnnn``), documented in docs/requests-and-errors.md.
        kind: which side the error is on.
        message: a sentence for the client; never holds a secret.
    """

    status: ClassVar[int] = 500
    code: ClassVar[str] = "SPX500"
    kind: ClassVar[ErrorKind] = ErrorKind.INTERNAL
    # The answer closes the connection: what follows on it cannot be read as a next request.
    closes_connection: ClassVar[bool] = False

    def __init__(self, message: str) -> None:
        """Keep the client-facing message."""
        super().__init__(message)
        self.message = message


class ConfigError(SignproxyError):
    """A setting is missing or invalid. Names the variable, never its value."""

    code = "SPX900"
    kind = ErrorKind.CONFIG

    def __init__(self, variable: str, problem: str) -> None:
        """Build the message from the variable's name and what is wrong with it."""
        super().__init__(f"{variable}: {problem}")
        self.variable = variable


class InternalError(SignproxyError):
    """An unexpected failure inside the proxy (a bug); the details are in the log."""


class RequestRejected(SignproxyError):
    """The proxy refused the client's request; nothing was sent to OKX."""

    status = 400
    code = "SPX199"
    kind = ErrorKind.REFUSED


class NotFound(RequestRejected):
    """The path is not one the proxy forwards."""

    status = 404
    code = "SPX100"


class MethodNotAllowed(RequestRejected):
    """OKX's v5 REST API uses GET and POST only."""

    status = 405
    code = "SPX101"


class MalformedTarget(RequestRejected):
    """The request target is not a plain /api/v5/ path with a well-formed query."""

    code = "SPX102"


class UnsupportedMediaType(RequestRejected):
    """A request body must be application/json."""

    status = 415
    code = "SPX103"


class BodyNotAllowed(RequestRejected):
    """GET requests are signed with an empty body, so a body would be unsigned."""

    code = "SPX104"


class BodyRequired(RequestRejected):
    """OKX rejects a POST without a body (50000); the proxy says so before sending."""

    code = "SPX105"


class BodyTooLarge(RequestRejected):
    """The body is over the configured limit."""

    status = 413
    code = "SPX106"


class InvalidJson(RequestRejected):
    """The body is not a JSON object or array the proxy can sign unambiguously."""

    code = "SPX107"


class EncodedBody(RequestRejected):
    """A compressed request body: the proxy signs exactly the bytes it sends, never a decoding."""

    status = 415
    code = "SPX108"
    closes_connection = True  # the unread, encoded body is still on the connection


class UpstreamError(SignproxyError):
    """OKX could not be reached, or its answer could not be relayed.

    Attributes:
        outcome_unknown: True when the request may have reached OKX, so an order may exist.
        retryable: True when no answer was received at all (nothing came back on the
            connection), so a GET may safely be sent again.
    """

    status = 502
    code = "SPX399"
    kind = ErrorKind.UPSTREAM

    def __init__(
        self, message: str, *, outcome_unknown: bool = False, retryable: bool = False
    ) -> None:
        """Add the look-up advice when an order's outcome is unknown."""
        if outcome_unknown:
            message += (
                "; the request may have reached OKX, so its outcome is unknown: look the order"
                " up (by clOrdId) before sending it again"
            )
        super().__init__(message)
        self.outcome_unknown = outcome_unknown
        self.retryable = retryable


class UpstreamUnreachable(UpstreamError):
    """No connection to OKX could be made; the request was not sent."""

    code = "SPX300"


class UpstreamDisconnected(UpstreamError):
    """The connection broke after the request was (maybe) sent."""

    code = "SPX301"


class UpstreamTimeout(UpstreamError):
    """OKX did not answer completely in time."""

    status = 504
    code = "SPX302"


class UpstreamBadResponse(UpstreamError):
    """OKX's answer was malformed or larger than the proxy relays."""

    code = "SPX303"


class AnswerNotHeld(UpstreamError):
    """A GET's answer would take the bytes held for clients past SIGNPROXY_MAX_HELD_BYTES."""

    status = 503
    code = "SPX304"


class UpstreamCutOff(UpstreamError):
    """The shutdown grace period ran out while the request was still waiting for OKX."""

    status = 503
    code = "SPX310"


def error_response(error: SignproxyError, request_id: str) -> web.Response:
    """Render an error in OKX's envelope, marked as the proxy's own."""
    body = json.dumps({"code": error.code, "msg": error.message, "data": []})
    headers = {PROXY_ERROR_HEADER: error.code, "X-Request-Id": request_id}
    # An error may add headers of its own (a rate-limit refusal's Retry-After).
    headers.update(getattr(error, "headers", None) or {})
    response = web.Response(
        status=error.status, text=body, content_type="application/json", headers=headers
    )
    if error.closes_connection:
        response.force_close()
    return response
