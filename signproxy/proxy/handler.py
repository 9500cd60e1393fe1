"""The REST route handler: run the pipeline over the request's record, relay the answer.

All the work is in the stages (:mod:`signproxy.proxy.stages`); this module only connects the
aiohttp route to the pipeline and turns its answer into a response.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from signproxy.proxy.record import EXCHANGE

if TYPE_CHECKING:
    from signproxy.proxy.pipeline import Pipeline


class ProxyHandler:
    """Runs every REST request through one pipeline; stages raise to refuse."""

    __slots__ = ("pipeline",)

    def __init__(self, pipeline: Pipeline) -> None:
        """Serve with ``pipeline`` (built once, shared by every request)."""
        self.pipeline = pipeline

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Proxy one request. The aiohttp route handler."""
        answer = await self.pipeline(request[EXCHANGE])
        return web.Response(status=answer.status, body=answer.body, headers=answer.headers)
