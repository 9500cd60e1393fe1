"""The in-process de-duplication store: compact claims, unseen by the garbage collector.

A busy proxy holds every client order id of the last ``SIGNPROXY_DEDUP_WINDOW`` seconds (300 s
by default: 100,000 ids and more), so memory per claim is what this store is built around:

- A claim is one dict entry, the id (a ``str``) -> a packed 34-byte record: the order's
  fingerprint, when the claim expires, its state, and where its answer is. ``str`` and ``bytes``
  are not tracked by Python's cyclic garbage collector, so a full store costs the collector
  nothing (a store of small objects cost it more CPU per request than the claims themselves).
- A claim in flight refers to an attempt object (the event a retry waits on), held only while
  the attempt is in flight.
- A finished attempt's answer is kept in the order journal when the request has a journal row
  (:class:`AnswerKeeper`; about 200 bytes per order stay in memory), else here, with its claims,
  as text (about 500 bytes more per order).
- Claims are filed in generations of window/16 seconds; a generation is dropped whole once its
  last claim has expired, so pruning costs nothing per request. A claim's own expiry is exact:
  it is checked when the claim is found.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import struct
import time
from collections import deque
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

import structlog

from signproxy.once.dedup import ANY_ORDER, Claim, Ending, State, Stored
from signproxy.once.journal_answers import stored_from_rows

if TYPE_CHECKING:
    from collections.abc import Sequence

    from signproxy.once.dedup import Item

_RECORD = struct.Struct("<16sdBBq")  # fingerprint, expires (monotonic s), state, where, ref
_STATES: tuple[State, ...] = ("inflight", "done", "unknown", "released")
_STATE_NUMBER = {state: number for number, state in enumerate(_STATES)}
_IN_FLIGHT, _JOURNAL, _MEMORY = 0, 1, 2  # where a claim's attempt (or answer) is; ref says which
_OWNER_PREFIX = {_JOURNAL: "journal-", _MEMORY: "memory-"}
_ANY = b"\xff" * 16  # the fingerprint of a claim restored from the journal: any order matches
_GENERATIONS = 16
_SERVER_ERROR = 500


class AnswerKeeper(Protocol):
    """Where finished attempts' answers are kept by the request's journal key (the journal)."""

    def keep_answer(self, key: int, answer: str) -> None:
        """Keep ``answer`` (:meth:`Stored.dumps` text) for request ``key``."""

    async def read_answer(self, key: int) -> tuple[str | None, list[dict[str, Any]]]:
        """Request ``key``'s kept answer (None if none was kept) and its orders' rows."""


class _Record(NamedTuple):
    fingerprint: bytes
    expires: float
    state: int
    where: int
    ref: int


class _Attempt:
    """An attempt in flight: who owns it, and what a retry waiting for it gets at its end."""

    __slots__ = ("ended", "number", "owner", "result")

    def __init__(self, owner: str, number: int) -> None:
        self.owner = owner
        self.number = number
        self.ended: asyncio.Event | None = None  # made by the first retry that waits
        self.result: Claim | None = None


class _Generation:
    """The claims made within one slice of time, and the answers kept with them."""

    __slots__ = ("answers", "claims", "start")

    def __init__(self, start: float) -> None:
        self.start = start
        self.claims: dict[str, dict[str, bytes]] = {}  # account -> client order id -> record
        self.answers: dict[int, str] = {}  # answers kept here, as Stored.dumps() text


def _fingerprint(text: str) -> bytes:
    """16 bytes for any fingerprint text (the stage's are hex digests already: kept as they are)."""
    if text == ANY_ORDER:
        return _ANY
    if len(text) == 32:  # noqa: PLR2004 - the stage's 128-bit hex digest
        try:
            return bytes.fromhex(text)
        except ValueError:
            pass
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


class MemoryStore:
    """Claims held in this process for ``window_s`` seconds after the first attempt."""

    def __init__(self, window_s: float, answers: AnswerKeeper | None = None) -> None:
        """Remember each id for ``window_s`` seconds; keep answers in ``answers`` when given."""
        self._window = window_s
        self._slice = window_s / _GENERATIONS
        self._keeper = answers
        self._generations: deque[_Generation] = deque()
        self._owners: dict[str, _Attempt] = {}  # attempts in flight, by owner
        self._in_flight: dict[int, _Attempt] = {}  # the same, by number
        self._numbers = itertools.count(1)
        self._log = structlog.get_logger("signproxy")

    def __len__(self) -> int:
        """Ids held now (expired ones count until their generation is dropped)."""
        return sum(len(ids) for g in self._generations for ids in g.claims.values())

    async def claim(self, account: str, items: Sequence[Item], owner: str) -> Claim:
        """Claim every id for ``owner``, or report who holds them (decided without an await)."""
        now = time.monotonic()
        self._prune(now)
        found = [self._find(account, cl_ord_id, now) for cl_ord_id, _ in items]
        if all(hit is None for hit in found):
            attempt = _Attempt(owner, next(self._numbers))
            self._owners[owner] = attempt
            self._in_flight[attempt.number] = attempt
            claims = self._current(now).claims.setdefault(account, {})
            expires = now + self._window
            for cl_ord_id, fingerprint in items:
                claims[cl_ord_id] = _RECORD.pack(
                    _fingerprint(fingerprint), expires, 0, _IN_FLIGHT, attempt.number
                )
            return Claim("new", owner=owner, state="inflight")
        for (cl_ord_id, fingerprint), hit in zip(items, found, strict=True):
            if hit is not None and hit[1].fingerprint not in (_fingerprint(fingerprint), _ANY):
                return Claim("conflict", cl_ord_id=cl_ord_id)
        holders = {(hit[1].where, hit[1].ref) if hit is not None else None for hit in found}
        if len(holders) != 1:
            return Claim("mixed")
        return await self._claim_of(found[0][1])  # type: ignore[index] # all found, one holder

    def restore(
        self, account: str, ids: Sequence[str], *, journal_key: int, age_s: float, state: State
    ) -> None:
        """Hold ``ids`` as journal request ``journal_key``, which ended ``age_s`` seconds ago.

        Restored oldest first at startup, before any request. The order's fields were not
        journalled, so any order under these ids counts as the same; its answer is read from
        the journal when a retry comes.
        """
        left = self._window - age_s
        if left <= 0:
            return
        now = time.monotonic()
        claims = self._current(now).claims.setdefault(account, {})
        record = _RECORD.pack(_ANY, now + left, _STATE_NUMBER[state], _JOURNAL, journal_key)
        for cl_ord_id in ids:
            claims[cl_ord_id] = record

    async def finish(self, account: str, owner: str, ending: Ending) -> None:
        """End ``owner``'s attempt; released ids are forgotten at once."""
        self.end(account, owner, ending)

    def end(self, account: str, owner: str, ending: Ending) -> None:
        """:meth:`finish` without a coroutine (nothing here waits): no task per order.

        ``owner`` is an attempt in flight, or (settling an unknown outcome again) the owner a
        claim reported for a finished attempt.
        """
        attempt = self._owners.pop(owner, None)
        journal_key = ending.journal_key
        if attempt is not None:
            del self._in_flight[attempt.number]
            holder = (_IN_FLIGHT, attempt.number)
        else:
            parsed = _parse_owner(owner)
            if parsed is None:
                return
            holder = parsed
            if holder[0] == _JOURNAL and journal_key is None:
                journal_key = holder[1]  # the settled answer replaces the journalled one
        now = time.monotonic()
        self._rewrite(account, ending.release, holder, now, None)
        result = Claim("existing", owner, "released", ending.stored)
        if ending.keep:  # else nothing stays claimed: no answer to keep for a retry
            where, ref = self._keep_answer(ending.stored, journal_key, now)
            state = _STATE_NUMBER[ending.state]
            self._rewrite(account, ending.keep, holder, now, (state, where, ref))
            result = Claim("existing", _owner(where, ref), ending.state, ending.stored)
        if attempt is not None:
            attempt.result = result
            if attempt.ended is not None:
                attempt.ended.set()

    def _rewrite(
        self,
        account: str,
        ids: Sequence[str],
        holder: tuple[int, int],
        now: float,
        kept: tuple[int, int, int] | None,
    ) -> None:
        """``holder``'s claims on ``ids``: released (``kept`` None) or kept (state, where, ref)."""
        for cl_ord_id in ids:
            hit = self._find(account, cl_ord_id, now)
            if hit is None or (hit[1].where, hit[1].ref) != holder:
                continue  # expired, or released and claimed again by another attempt
            generation, record = hit
            if kept is None:
                del generation.claims[account][cl_ord_id]
            else:
                generation.claims[account][cl_ord_id] = _RECORD.pack(
                    record.fingerprint, record.expires, *kept
                )

    async def wait(self, account: str, cl_ord_id: str, owner: str, within: float) -> Claim:  # noqa: ARG002 - the Store protocol's arguments
        """Wait for the attempt to end; its claim then (``released``: the ids are free)."""
        attempt = self._owners.get(owner)
        if attempt is None:  # not in flight here (ended, or another store's): claim again
            return Claim("existing", owner, "released")
        if attempt.ended is None:
            attempt.ended = asyncio.Event()
        try:
            await asyncio.wait_for(attempt.ended.wait(), within)
        except TimeoutError:
            return Claim("existing", owner, "inflight")
        assert attempt.result is not None  # noqa: S101 - set before the event
        return attempt.result

    # -- the generations

    def _current(self, now: float) -> _Generation:
        generations = self._generations
        if not generations or now >= generations[-1].start + self._slice:
            generations.append(_Generation(now))
        return generations[-1]

    def _prune(self, now: float) -> None:
        generations = self._generations
        horizon = self._slice + self._window  # a generation's last claim expires by then
        while generations and generations[0].start + horizon <= now:
            generations.popleft()

    def _find(self, account: str, cl_ord_id: str, now: float) -> tuple[_Generation, _Record] | None:
        """The id's live claim (newest first: an id released and claimed again is newer)."""
        for generation in reversed(self._generations):
            ids = generation.claims.get(account)
            packed = ids.get(cl_ord_id) if ids is not None else None
            if packed is not None:
                record = _Record(*_RECORD.unpack(packed))
                return (generation, record) if record.expires > now else None
        return None

    # -- answers

    def _keep_answer(self, stored: Stored, journal_key: int | None, now: float) -> tuple[int, int]:
        if journal_key is not None and self._keeper is not None:
            self._keeper.keep_answer(journal_key, stored.dumps())
            return _JOURNAL, journal_key
        number = next(self._numbers)
        self._current(now).answers[number] = stored.dumps()
        return _MEMORY, number

    async def _claim_of(self, record: _Record) -> Claim:
        """The claim of a found record (a finished attempt's answer read where it is kept)."""
        if record.where == _IN_FLIGHT:
            attempt = self._in_flight.get(record.ref)
            if attempt is None:  # cannot happen: an attempt's end rewrites its claims. If it
                # did, the stage would claim again, find this record, and after three tries
                # answer SPX301: never a send.
                return Claim("existing", "", "released")
            return Claim("existing", attempt.owner, "inflight")
        state = _STATES[record.state]
        owner = _owner(record.where, record.ref)
        if record.where == _MEMORY:
            text = next(
                (g.answers[record.ref] for g in self._generations if record.ref in g.answers),
                None,
            )
            return Claim("existing", owner, state, Stored.loads(text) if text else None)
        return await self._read(record.ref, owner, state)

    async def _read(self, key: int, owner: str, state: State) -> Claim:
        """A journalled attempt's claim; its answer rebuilt from its rows if none was kept."""
        if self._keeper is None:
            return Claim("existing", owner, "unknown", stored_from_rows([])[1])
        try:
            text, rows = await self._keeper.read_answer(key)
        except Exception as exc:  # noqa: BLE001 - a retry is then looked up, never sent again
            self._log.error("signproxy.journal_unreadable", error=repr(exc)[:200])
            text, rows = None, []
        if text is not None:
            try:
                kept = Stored.loads(text)
            except (ValueError, KeyError, TypeError) as exc:  # damaged: rebuilt from the rows
                self._log.error("signproxy.journal_unreadable", error=repr(exc)[:200])
            else:
                # A placed order's answer is never a 5xx: such a kept answer is an unknown
                # outcome settled since (at a start, in the rows), answered from the rows.
                if not (state == "done" and kept.status >= _SERVER_ERROR):
                    return Claim("existing", owner, state, kept)
        rebuilt_state, stored = stored_from_rows(rows)
        return Claim("existing", owner, rebuilt_state, stored)


def _owner(where: int, ref: int) -> str:
    return f"{_OWNER_PREFIX[where]}{ref}"


def _parse_owner(owner: str) -> tuple[int, int] | None:
    for where, prefix in _OWNER_PREFIX.items():
        if owner.startswith(prefix) and owner[len(prefix) :].isdigit():
            return where, int(owner[len(prefix) :])
    return None
