"""Stage ``body``: read, validate and canonicalize the JSON body; the order view.

The bytes this stage leaves in ``exchange.body`` are the ones signed and sent. For an
order-affecting endpoint the value validation parsed becomes ``payload``, and ``orders`` (the
view every stage that judges orders reads) is made from it; other requests keep neither.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from signproxy.errors import BodyNotAllowed, BodyRequired, BodyTooLarge, UnsupportedMediaType
from signproxy.okx.canonical import parse_body
from signproxy.okx.orders import order_endpoint, orders_in
from signproxy.proxy.pipeline import Next, Stage

if TYPE_CHECKING:
    from aiohttp import web

    from signproxy.okx.canonical import BodyMode
    from signproxy.proxy.record import Answer, Exchange

_SEND_EMPTY_OBJECT = "POST needs a JSON body; send {} when there are no parameters"


class ReadBody(Stage):
    """GET has no body; POST has an ``application/json`` body within the size limit."""

    name = "body"

    def __init__(self, max_bytes: int, mode: BodyMode) -> None:
        """Read at most ``max_bytes``; ``mode`` says whether whitespace is removed."""
        self._max = max_bytes
        self._mode: BodyMode = mode

    async def run(self, exchange: Exchange, call_next: Next) -> Answer:
        """Fill ``body`` (and for orders ``endpoint``, ``payload``, ``orders``), then go on."""
        request = exchange.http
        assert request is not None  # noqa: S101 - REST exchanges always carry their request
        assert exchange.path is not None  # noqa: S101 - the target stage runs first
        if exchange.method == "GET":
            if request.body_exists:
                raise BodyNotAllowed("GET requests are signed without a body; send none")
            return await call_next(exchange)
        exchange.body, value = await self._read(request)
        endpoint = order_endpoint(exchange.method, exchange.path)
        if endpoint is not None:
            exchange.endpoint = endpoint
            exchange.payload = value
            exchange.orders = orders_in(value, endpoint)
        return await call_next(exchange)

    async def _read(self, request: web.Request) -> tuple[bytes, Any]:
        if not request.body_exists:
            raise BodyRequired(_SEND_EMPTY_OBJECT)
        mime, _, params = request.headers.get("Content-Type", "").partition(";")
        if mime.strip().lower() != "application/json" or not _utf8_or_unset(params):
            raise UnsupportedMediaType("request bodies must be Content-Type: application/json")
        length = request.content_length
        if length is not None and length > self._max:
            raise BodyTooLarge(f"body is over the {self._max}-byte limit")
        raw = await _read_at_most(request, self._max)
        if not raw:
            raise BodyRequired(_SEND_EMPTY_OBJECT)
        return parse_body(raw, self._mode)


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
