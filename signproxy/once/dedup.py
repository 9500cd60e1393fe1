"""De-duplication of placing requests by client order id: the claims, and the in-process store.

A placing request claims its orders' client order ids for its account, all or none at once.
A later request naming the same ids within the window finds the first attempt: it waits for it
if it is still in flight and gets its answer (a replay); the same id with a different order is
a conflict. When the first attempt ends, ids whose orders were definitely not placed (OKX
refused them, or resolution found them not placed) are released, so the order may be sent again;
ids of placed orders, or of orders whose outcome is unknown, stay claimed until the window ends.

:class:`MemoryStore` serves one process; :mod:`.dedup_redis` shares claims across a fleet.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from collections.abc import Sequence

State = Literal["inflight", "done", "unknown", "released"]


@dataclass(frozen=True, slots=True)
class Stored:
    """A finished attempt's answer, as replayed: status, body and the headers that matter.

    ``exp_time`` is the attempt's ``expTime`` (Unix ms), so a retry can settle an outcome that
    was still unknown.
    """

    status: int
    body: bytes
    headers: dict[str, str]
    exp_time: int | None = None

    def dumps(self) -> str:
        """As JSON text (for Redis)."""
        return json.dumps(
            {
                "status": self.status,
                "body": self.body.decode("utf-8", "replace"),
                "headers": self.headers,
                "exp_time": self.exp_time,
            }
        )

    @classmethod
    def loads(cls, text: str) -> Stored:
        """From :meth:`dumps`' text."""
        data = json.loads(text)
        exp = data.get("exp_time")
        return cls(
            int(data["status"]),
            str(data["body"]).encode(),
            dict(data["headers"]),
            int(exp) if isinstance(exp, int) else None,
        )


@dataclass(frozen=True, slots=True)
class Claim:
    """What claiming found.

    ``new``: the ids are this attempt's now. ``existing``: one earlier attempt holds them all,
    for the same orders (``state`` and, when done, ``stored``). ``conflict``: ``cl_ord_id`` was
    used for a different order. ``mixed``: some ids are new or belong to other attempts.
    """

    kind: Literal["new", "existing", "conflict", "mixed"]
    owner: str | None = None
    state: State | None = None
    stored: Stored | None = None
    cl_ord_id: str | None = None


Item = tuple[str, str]  # (client order id, fingerprint of the order)
ANY_ORDER = "*"  # the fingerprint of a claim restored from the journal: the order is not known


@dataclass(frozen=True, slots=True)
class Ending:
    """How an attempt ended: ids that stay claimed (with ``state``), ids released, the answer."""

    keep: Sequence[str]
    release: Sequence[str]
    state: State
    stored: Stored


class Store(Protocol):
    """Where claims live."""

    async def claim(self, account: str, items: Sequence[Item], owner: str) -> Claim:
        """Claim every id for ``owner``, or report who holds them."""

    async def finish(self, account: str, owner: str, ending: Ending) -> None:
        """End ``owner``'s attempt: kept ids get the state and answer, released ids go."""

    async def wait(self, account: str, cl_ord_id: str, owner: str, within: float) -> Claim:
        """Wait (up to ``timeout``) for ``owner``'s attempt on ``cl_ord_id`` to end; its claim."""


@dataclass
class _Attempt:
    owner: str
    state: State = "inflight"
    stored: Stored | None = None
    ended: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class _Entry:
    fingerprint: str
    attempt: _Attempt
    expires: float


class MemoryStore:
    """Claims held in this process for ``window_s`` seconds after the first attempt."""

    def __init__(self, window_s: float) -> None:
        """Remember each id for ``window_s`` seconds."""
        self._window = window_s
        self._entries: OrderedDict[tuple[str, str], _Entry] = OrderedDict()
        self._attempts: dict[str, _Attempt] = {}

    def __len__(self) -> int:
        """Ids held now."""
        return len(self._entries)

    def _prune(self, now: float) -> None:
        while self._entries:
            key, entry = next(iter(self._entries.items()))
            if entry.expires > now:
                return
            del self._entries[key]
            if entry.attempt.state != "inflight":
                self._attempts.pop(entry.attempt.owner, None)

    async def claim(self, account: str, items: Sequence[Item], owner: str) -> Claim:
        """Claim every id for ``owner``, or report who holds them (atomic: no await inside)."""
        now = time.monotonic()
        self._prune(now)
        found = [self._entries.get((account, cl_ord_id)) for cl_ord_id, _ in items]
        if all(entry is None for entry in found):
            attempt = self._attempts[owner] = _Attempt(owner)
            for cl_ord_id, fingerprint in items:
                self._entries[(account, cl_ord_id)] = _Entry(
                    fingerprint, attempt, now + self._window
                )
            return Claim("new", owner=owner, state="inflight")
        for (cl_ord_id, fingerprint), entry in zip(items, found, strict=True):
            if entry is not None and entry.fingerprint not in (fingerprint, ANY_ORDER):
                return Claim("conflict", cl_ord_id=cl_ord_id)
        attempts = {id(entry.attempt) if entry else None for entry in found}
        if len(attempts) != 1:
            return Claim("mixed")
        attempt = found[0].attempt  # type: ignore[union-attr] # all found, one attempt
        return Claim("existing", attempt.owner, attempt.state, attempt.stored)

    def restore(
        self, account: str, ids: Sequence[str], *, owner: str, age_s: float, ending: Ending
    ) -> None:
        """Hold ``ids`` as an attempt that ended ``age_s`` seconds ago (from the journal).

        Restored oldest first at startup, before any request, so the expiry order holds. The
        order's fields were not journalled, so any order under these ids counts as the same.
        """
        left = self._window - age_s
        if left <= 0:
            return
        attempt = self._attempts[owner] = _Attempt(owner, ending.state, ending.stored)
        attempt.ended.set()
        expires = time.monotonic() + left
        for cl_ord_id in ids:
            self._entries[(account, cl_ord_id)] = _Entry(ANY_ORDER, attempt, expires)

    async def finish(self, account: str, owner: str, ending: Ending) -> None:
        """End ``owner``'s attempt; released ids are forgotten at once."""
        self.end(account, owner, ending)

    def end(self, account: str, owner: str, ending: Ending) -> None:
        """:meth:`finish` without a coroutine (nothing here waits): no task per order."""
        attempt = self._attempts.get(owner)
        if attempt is None:
            return
        for cl_ord_id in ending.release:
            entry = self._entries.get((account, cl_ord_id))
            if entry is not None and entry.attempt is attempt:
                del self._entries[(account, cl_ord_id)]
        attempt.state = ending.state if ending.keep else "released"
        attempt.stored = ending.stored
        attempt.ended.set()
        if not ending.keep:
            self._attempts.pop(owner, None)

    async def wait(self, account: str, cl_ord_id: str, owner: str, within: float) -> Claim:
        """Wait for the attempt to end; its claim then (``released``: the ids are free)."""
        entry = self._entries.get((account, cl_ord_id))
        attempt = entry.attempt if entry is not None else None
        if attempt is None or attempt.owner != owner:
            return Claim("existing", owner, "released")
        try:
            await asyncio.wait_for(attempt.ended.wait(), within)
        except TimeoutError:
            return Claim("existing", owner, "inflight")
        return Claim("existing", owner, attempt.state, attempt.stored)


def stored_from(body: dict[str, Any], status: int, headers: dict[str, str]) -> Stored:
    """A stored answer from an envelope."""
    return Stored(status, json.dumps(body, separators=(",", ":")).encode(), headers)
