"""Stage ``dedup``: a retry of a placing request is answered from the first attempt, not sent.

Runs after ``client-order-id`` (every order has an id then) and before ``sign``. The first
attempt claims its orders' ids (:mod:`signproxy.once.dedup`); a retry waits for the first
attempt if it is still in flight, then gets its answer with ``X-Signproxy-Replayed: 1`` (on a
WebSocket, an answer frame carrying the retry's own ``id``). The same id for a different order
is refused with SPX810; a batch mixing ids already sent with new ones with SPX811.

REST attempts are finished here, with their answer; WebSocket attempts when OKX answers them,
through the outcome observer (:meth:`Dedup.request_finished`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import TYPE_CHECKING, Any

from signproxy.errors import PROXY_ERROR_HEADER, SignproxyError, UpstreamDisconnected
from signproxy.ids import UniqueIds
from signproxy.okx.orders import Action
from signproxy.once import answers
from signproxy.once.dedup import Ending, Stored, stored_from
from signproxy.once.dedup_memory import MemoryStore
from signproxy.once.errors import (
    RESOLVED_HEADER,
    UNKNOWN_CODE,
    ClientOrderIdConflict,
    OutcomeStillUnknown,
    RetryMixed,
)
from signproxy.once.resolver import exp_time_of
from signproxy.once.settle import settle
from signproxy.proxy.pipeline import Next, Stage

if TYPE_CHECKING:
    from signproxy.once.dedup import Claim, Item, State, Store
    from signproxy.once.resolver import Resolver
    from signproxy.proxy.record import Answer, Exchange

_KEPT_HEADERS = ("Content-Type", RESOLVED_HEADER, PROXY_ERROR_HEADER)
_ANSWERED = frozenset({"0", "1", "2", UNKNOWN_CODE})
_CLAIM_TRIES = 3
_CUT_OFF = Stored(
    503,
    b'{"code":"SPX310","msg":"signproxy shut down before OKX answered","data":[]}',
    {"Content-Type": "application/json", PROXY_ERROR_HEADER: "SPX310"},
)


def fingerprint(path: str, item: object) -> str:
    """What makes two orders the same order: the endpoint and every field, in any key order."""
    text = json.dumps([path, item], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class Dedup(Stage):
    """Claim placing requests' client order ids; answer retries from the first attempt."""

    name = "dedup"

    def __init__(
        self, store: Store, *, wait_s: float, window_s: float, resolver: Resolver | None = None
    ) -> None:
        """Claim in ``store``; wait up to ``wait_s`` for a first attempt still in flight.

        With ``resolver``, a retry whose first attempt ended unknown looks its orders up again.
        """
        self._store = store
        self._resolver = resolver
        self._wait_s = wait_s
        self._window_s = window_s
        self._tasks: set[asyncio.Task[None]] = set()
        self._owner_ids = UniqueIds()

    async def run(self, exchange: Exchange, call_next: Next) -> Answer:
        """Send a first attempt; answer a retry from the first attempt."""
        endpoint = exchange.endpoint
        if endpoint is None or endpoint.action is not Action.PLACE:
            return await call_next(exchange)
        items = _items(exchange)
        if not items:
            return await call_next(exchange)
        account = exchange.account_name or ""
        for _ in range(_CLAIM_TRIES):
            owner = self._owner_ids()
            claim = await self._store.claim(account, items, owner)
            if claim.kind == "new":
                return await self._first(exchange, call_next, account, items, owner)
            self._refuse_unless_retry(claim)
            answer = await self._answer_retry(exchange, account, items, claim)
            if answer is not None:
                return answer
        raise OutcomeStillUnknown(
            "the first attempt with these clOrdIds is still in flight", [i for i, _ in items]
        )

    def _refuse_unless_retry(self, claim: Claim) -> None:
        if claim.kind == "conflict":
            raise ClientOrderIdConflict(
                f"clOrdId {claim.cl_ord_id} was used for a different order in the last"
                f" {self._window_s:g} s (SIGNPROXY_DEDUP_WINDOW); give this order a new one"
            )
        if claim.kind == "mixed":
            raise RetryMixed(
                "this batch mixes orders already sent (by clOrdId) with new ones; send the"
                " new ones on their own"
            )

    async def _answer_retry(
        self, exchange: Exchange, account: str, items: list[Item], claim: Claim
    ) -> Answer | None:
        """The first attempt's answer for a retry; None when its ids were released meanwhile.

        Raises:
            OutcomeStillUnknown: the first attempt is still in flight after the wait.
        """
        owner = claim.owner
        assert owner is not None  # noqa: S101 - an existing claim has its owner
        if claim.state == "inflight":
            claim = await self._store.wait(account, items[0][0], owner, self._wait_s)
        if claim.state == "released":
            return None  # the first attempt placed nothing: this one may go
        if claim.state == "inflight" or claim.stored is None:
            raise OutcomeStillUnknown(
                "the first attempt with these clOrdIds is still in flight", [i for i, _ in items]
            )
        stored = claim.stored
        if claim.state == "unknown" and self._resolver is not None:
            ending = await settle(self._resolver, exchange, [i for i, _ in items], stored)
            await self._store.finish(account, owner, ending)
            if not ending.keep:
                return None  # none was placed: this attempt may go
            stored = ending.stored
        return answers.replay(exchange, stored)

    async def _first(
        self, exchange: Exchange, call_next: Next, account: str, items: list[Item], owner: str
    ) -> Answer:
        exchange.dedup_owner = owner
        if exchange.transport != "rest":
            return await call_next(exchange)  # finished by request_finished()
        ids = [cl_ord_id for cl_ord_id, _ in items]
        try:
            answer = await call_next(exchange)
        except SignproxyError as exc:
            self._finish_later(account, owner, _error_ending(ids, exc, exchange))
            raise
        except BaseException:  # cancelled: the outcome is unknown
            self._finish_later(
                account, owner, Ending(ids, [], "unknown", _CUT_OFF, exchange.journal_key)
            )
            raise
        headers = {k: v for k in _KEPT_HEADERS if (v := answer.headers.get(k)) is not None}
        stored = Stored(answer.status, answer.body, headers, exp_time_of(exchange.headers))
        # Recorded after the answer is on its way (a retry meanwhile waits for it): the bot's
        # answer never waits for Redis.
        self._finish_later(account, owner, _ending(ids, exchange, stored))
        return answer

    def _finish_later(self, account: str, owner: str, ending: Ending) -> None:
        if isinstance(self._store, MemoryStore):
            self._store.end(account, owner, ending)
            return
        task = asyncio.get_running_loop().create_task(self._store.finish(account, owner, ending))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # Observer protocol (proxy/outcome.py): WebSocket attempts end when OKX answers.
    def request_started(self) -> None:
        """Nothing to do when a request arrives."""

    def request_finished(self, exchange: Exchange) -> None:
        """Finish a WebSocket first attempt from its record."""
        owner = exchange.dedup_owner
        if owner is None or exchange.transport == "rest":
            return
        ids = [view.cl_ord_id for view in exchange.orders if view.cl_ord_id]
        account = exchange.account_name or ""
        if exchange.error is not None:
            self._finish_later(account, owner, _error_ending(ids, exchange.error, exchange))
            return
        if exchange.status is None:  # sent without an id: OKX's answer cannot be matched
            unknown = UpstreamDisconnected(
                "OKX's answer to an op without an id", outcome_unknown=True
            )
            self._finish_later(account, owner, _error_ending(ids, unknown, exchange))
            return
        data = [
            {
                "clOrdId": r.cl_ord_id or "",
                "ordId": r.ord_id or "",
                "sCode": r.s_code or "",
                "sMsg": r.s_msg or "",
            }
            for r in exchange.results
        ]
        body = {"code": exchange.okx_code or "", "msg": "", "data": data}
        stored = stored_from(body, 200, {"Content-Type": "application/json"})
        stored = Stored(stored.status, stored.body, stored.headers, exp_time_of(exchange.headers))
        self._finish_later(account, owner, _ending(ids, exchange, stored))


def _items(exchange: Exchange) -> list[Item]:
    endpoint = exchange.endpoint
    assert endpoint is not None  # noqa: S101 - checked by the caller
    payload = exchange.payload
    objects: list[Any] = [payload] if isinstance(payload, dict) else payload
    if not isinstance(objects, list):
        return []
    field = endpoint.client_id_field
    return [
        (str(item[field]), fingerprint(endpoint.path, item))
        for item in objects
        if isinstance(item, dict) and item.get(field)
    ]


def _ending(ids: list[str], exchange: Exchange, stored: Stored) -> Ending:
    """Which ids stay claimed (placed, or unknown), which are released (definitely not placed).

    Read from OKX's code and per-order results as the send stage (or resolution) recorded them,
    so the answer is not parsed twice.
    """
    if exchange.okx_code not in _ANSWERED:
        return Ending([], ids, "done", stored)  # refused as a whole: nothing was placed
    codes = {r.cl_ord_id: r.s_code for r in exchange.results if r.cl_ord_id}
    keep = [i for i in ids if codes.get(i, "0") in ("0", UNKNOWN_CODE)]
    release = [i for i in ids if i not in keep]
    state: State = "unknown" if UNKNOWN_CODE in codes.values() else "done"
    return Ending(keep, release, state, stored, exchange.journal_key)


def _error_ending(ids: list[str], error: SignproxyError, exchange: Exchange) -> Ending:
    """An attempt that ended in the proxy's error: kept if its outcome is unknown, else released."""
    body = json.dumps({"code": error.code, "msg": error.message, "data": []}).encode()
    headers = {"Content-Type": "application/json", PROXY_ERROR_HEADER: error.code}
    stored = Stored(error.status, body, headers, exp_time_of(exchange.headers))
    if getattr(error, "outcome_unknown", False):
        return Ending(ids, [], "unknown", stored, exchange.journal_key)
    return Ending([], ids, "done", stored)
