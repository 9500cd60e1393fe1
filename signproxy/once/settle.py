"""A retry of an order whose first attempt ended with its outcome still unknown: look again.

The first attempt's claim stays while its outcome is unknown, so the retry is not sent; instead
its orders are looked up once more (by then the first attempt's ``expTime`` has usually passed,
so a missing order can be concluded not placed). What is found replaces the first attempt's
answer: placed orders stay claimed, orders not placed are released (so the retry, or part of a
batch, may be sent), orders still unknown stay unknown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from signproxy.errors import PROXY_ERROR_HEADER
from signproxy.once import answers
from signproxy.once.dedup import Ending, Stored
from signproxy.once.errors import RESOLVED_HEADER

if TYPE_CHECKING:
    from signproxy.once.resolver import Resolver
    from signproxy.proxy.record import Exchange

_KEPT = ("Content-Type", RESOLVED_HEADER, PROXY_ERROR_HEADER)


async def settle(resolver: Resolver, exchange: Exchange, ids: list[str], first: Stored) -> Ending:
    """The first attempt's new ending after looking the retry's orders up."""
    endpoint, account = exchange.endpoint, exchange.account
    if endpoint is None or account is None or not exchange.orders:
        return Ending(ids, [], "unknown", first)
    findings = await resolver.resolve(account, endpoint, exchange.orders, first.exp_time)
    states = {finding.cl_ord_id: finding.state for finding in findings}
    if all(state == "unknown" for state in states.values()):
        return Ending(ids, [], "unknown", first)
    _, answer = answers.resolved_answer(findings, endpoint)
    headers = {k: v for k in _KEPT if (v := answer.headers.get(k)) is not None}
    stored = Stored(answer.status, answer.body, headers, first.exp_time)
    keep = [i for i in ids if states.get(i, "unknown") != "not-placed"]
    release = [i for i in ids if i not in keep]
    unknown = any(states.get(i, "unknown") == "unknown" for i in keep)
    return Ending(keep, release, "unknown" if unknown else "done", stored)
