"""Stage ``journal-resolve``: the journal's intent before sending; unknown outcomes settled after.

Runs after ``sign`` (the ``expTime`` it records is the one sent) and just before ``send``.
For a placing request whose outcome is unknown (the connection broke after sending, a timeout,
a malformed answer, or an HTTP 5xx) it looks each order up by client order id before answering
(:class:`~signproxy.once.resolver.Resolver`):

- every order found: OKX's answer shape for placed orders, ``X-Signproxy-Resolved: placed``;
- a single order not placed: ``SPX801`` (it may be sent again);
- a single order still unknown: ``SPX301`` naming its clOrdId;
- a batch: item by item (see :mod:`signproxy.once.answers`).

A shutdown cut-off is not resolved here (the session is closing): the journal keeps it as
unknown and the next start resolves it. Amend and cancel outcomes are journalled, not resolved.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from signproxy.errors import UpstreamCutOff, UpstreamError
from signproxy.okx.orders import Action
from signproxy.once import answers
from signproxy.once.errors import OrderNotPlaced, OutcomeStillUnknown
from signproxy.once.resolver import Resolver, exp_time_of
from signproxy.proxy.pipeline import Next, Stage

if TYPE_CHECKING:
    from signproxy.journal.writer import Journal
    from signproxy.proxy.record import Answer, Exchange

_SERVER_ERROR = 500


class JournalResolve(Stage):
    """Write the intent, send, and settle an unknown outcome of a placing request."""

    name = "journal-resolve"

    def __init__(self, journal: Journal | None, resolver: Resolver | None) -> None:
        """Journal to ``journal`` and resolve with ``resolver`` (either may be None: off)."""
        self._journal = journal
        self._resolver = resolver

    async def run(self, exchange: Exchange, call_next: Next) -> Answer:
        """Intent, send, then resolve when the outcome of a placing request is unknown."""
        if exchange.endpoint is None:
            return await call_next(exchange)
        if self._journal is not None:
            await self._journal.intent(exchange)
        placing = exchange.endpoint.action is Action.PLACE and self._resolver is not None
        try:
            answer = await call_next(exchange)
        except UpstreamError as exc:
            if not placing or not exc.outcome_unknown or isinstance(exc, UpstreamCutOff):
                raise
            if not exchange.orders:
                raise
            return await self._resolve(exchange, exc.message.split(";")[0])
        if placing and answer.status >= _SERVER_ERROR and exchange.orders:
            return await self._resolve(exchange, f"OKX answered HTTP {answer.status}")
        return answer

    async def _resolve(self, exchange: Exchange, why: str) -> Answer:
        resolver, endpoint, account = self._resolver, exchange.endpoint, exchange.account
        assert resolver is not None  # noqa: S101 - checked by run()
        assert endpoint is not None  # noqa: S101
        assert account is not None  # noqa: S101 - the select-account stage runs first
        findings = await resolver.resolve(
            account, endpoint, exchange.orders, exp_time_of(exchange.headers)
        )
        exchange.resolved = answers.summary(findings)
        exchange.results = answers.results(findings, endpoint)
        if not endpoint.batch and len(findings) == 1 and findings[0].state != "placed":
            cl_ord_ids = [findings[0].cl_ord_id]
            if findings[0].state == "not-placed":
                raise OrderNotPlaced(cl_ord_ids)
            raise OutcomeStillUnknown(why, cl_ord_ids)
        code, answer = answers.resolved_answer(findings, endpoint)
        exchange.okx_code = code
        if exchange.resolved == "unknown" or code == "SPX301":
            unknown = [f.cl_ord_id for f in findings if f.state == "unknown"]
            exchange.error = OutcomeStillUnknown(why, unknown)
        return answer
