"""Reading OKX's answer: bounded by size, counted against the bytes held for clients.

An answer larger than ``SIGNPROXY_MAX_RESPONSE_BYTES`` is refused as it arrives (``SPX303``),
and every byte read is taken from the process's :class:`~signproxy.upstream.held.HeldBytes`
while it is read, twice, since the chunks and their join exist together for a moment. A GET
whose answer does not fit is dropped (``SPX304``); any other method's answer is always read,
since it may carry an order's outcome. Once read, the bytes are given back: the answer is the
client socket's to hold (the connection gate counts it there when the client does not take it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import aiohttp

from signproxy.errors import AnswerNotHeld, UpstreamBadResponse, UpstreamDisconnected

if TYPE_CHECKING:
    from signproxy.upstream.held import HeldBytes

_WHILE_READ = 2
_CHUNK = 64 * 1024


async def read_answer(
    response: aiohttp.ClientResponse,
    max_bytes: int,
    held: HeldBytes | None,
    *,
    outcome_unknown: bool,
) -> bytes:
    """The whole body of ``response``, within ``max_bytes`` and the held-bytes budget.

    Raises:
        UpstreamBadResponse: the answer is larger than ``max_bytes``.
        AnswerNotHeld: a GET's answer does not fit in the held-bytes budget.
        UpstreamDisconnected: the connection broke during the answer (never retried: an answer
            had begun, so OKX processed the request).
    """
    try:
        return await _read(response, max_bytes, held, outcome_unknown=outcome_unknown)
    except (
        aiohttp.ClientPayloadError,
        aiohttp.ClientOSError,
        aiohttp.ServerDisconnectedError,
    ) as exc:
        raise UpstreamDisconnected(
            f"connection to OKX broke during its answer: {type(exc).__name__}",
            outcome_unknown=outcome_unknown,
        ) from None


async def _read(
    response: aiohttp.ClientResponse,
    max_bytes: int,
    held: HeldBytes | None,
    *,
    outcome_unknown: bool,
) -> bytes:
    too_large = UpstreamBadResponse(
        f"OKX's response is larger than {max_bytes} bytes", outcome_unknown=outcome_unknown
    )
    length = response.content_length
    if length is not None and length > max_bytes:
        raise too_large
    taken = 0
    try:
        if length is not None and "Content-Encoding" not in response.headers:
            taken = _take(held, _WHILE_READ * length, response.method)
            return await response.read()
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_chunked(_CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise too_large
            taken += _take(held, _WHILE_READ * len(chunk), response.method)
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        if held is not None and taken:
            held.give_back(taken)


def _take(held: HeldBytes | None, size: int, method: str) -> int:
    if held is None:
        return 0
    if method != "GET":  # it may carry an order's outcome: always relayed, still counted
        held.take(size)
    elif not held.try_take(size):
        raise AnswerNotHeld(
            "signproxy holds too many answer bytes for clients that read slowly"
            " (SIGNPROXY_MAX_HELD_BYTES); OKX answered this GET but the answer was dropped:"
            " send it again later"
        )
    return size
