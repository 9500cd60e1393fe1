"""De-duplication of placing requests by client order id: what a claim is, and a store's contract.

A placing request claims its orders' client order ids for its account, all or none at once.
A later request naming the same ids within the window finds the first attempt: it waits for it
if it is still in flight and gets its answer (a replay); the same id with a different order is
a conflict. When the first attempt ends, ids whose orders were definitely not placed (OKX
refused them, or resolution found them not placed) are released, so the order may be sent again;
ids of placed orders, or of orders whose outcome is unknown, stay claimed until the window ends.

:class:`~.dedup_memory.MemoryStore` serves one process; :mod:`.dedup_redis` shares claims
across a fleet.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
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
    journal_key: int | None = None  # the attempt's journal row, where its answer can be kept


class Store(Protocol):
    """Where claims live."""

    async def claim(self, account: str, items: Sequence[Item], owner: str) -> Claim:
        """Claim every id for ``owner``, or report who holds them."""

    async def finish(self, account: str, owner: str, ending: Ending) -> None:
        """End ``owner``'s attempt: kept ids get the state and answer, released ids go."""

    async def wait(self, account: str, cl_ord_id: str, owner: str, within: float) -> Claim:
        """Wait (up to ``timeout``) for ``owner``'s attempt on ``cl_ord_id`` to end; its claim."""


def stored_from(body: dict[str, Any], status: int, headers: dict[str, str]) -> Stored:
    """A stored answer from an envelope."""
    return Stored(status, json.dumps(body, separators=(",", ":")).encode(), headers)
