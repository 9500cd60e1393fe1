"""The proxy's own signed calls to OKX (cancel-all-after, pending orders, cancels).

The switches call OKX themselves, outside any client's request: each call is signed with the
account's key at the signing clock's time, exactly as a forwarded request would be, and sent
through the one upstream session. Pure plumbing: no retries (a caller decides what a failure
means; a POST is never sent twice).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from signproxy.okx import envelope

if TYPE_CHECKING:
    from signproxy.okx.envelope import Envelope
    from signproxy.settings.accounts import Account
    from signproxy.upstream.client import Upstream
    from signproxy.upstream.clock import Clock

_COMPACT = (",", ":")


class OkxCaller:
    """Signs and sends one request with an account; answers OKX's parsed envelope."""

    def __init__(self, upstream: Upstream, clock: Clock) -> None:
        """Send through ``upstream``, sign at ``clock``'s time."""
        self._upstream = upstream
        self._clock = clock

    async def call(
        self, account: Account, method: str, target: str, body: object = None
    ) -> tuple[int, Envelope | None]:
        """Send ``method target`` (``body`` as compact JSON); the HTTP status and envelope.

        Raises:
            UpstreamError: OKX could not be reached or its answer was unusable.
        """
        raw = b"" if body is None else json.dumps(body, separators=_COMPACT).encode()
        headers = account.signed_headers(self._clock.now_ms(), method, target, raw)
        answer = await self._upstream.send(method, target, headers, raw, base_url=account.upstream)
        return answer.status, envelope.parse(answer.body, limit=len(answer.body))
