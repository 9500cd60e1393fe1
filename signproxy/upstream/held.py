"""The process-wide budget of answer bytes held for clients (``SIGNPROXY_MAX_HELD_BYTES``).

Two things hold answer bytes: OKX answers being read (:mod:`.client`, counted twice: the chunks
and their join exist together for a moment), and answers sitting in
the socket buffers of clients that do not read them (the connection gate in
:mod:`signproxy.runtime.connections`). Both take from one :class:`HeldBytes`. A GET whose answer
would go past the budget is not relayed (``SPX304``: OKX answered it, nothing changed, it can
be sent again); a POST's answer is always relayed, since it may carry an order's outcome; a
client whose buffered answer would go past it is disconnected.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

# Once this much was held and all of it is given back, ``on_empty`` runs (memory trimming).
# Above what one default-sized answer holds while read (2 x 8 MiB): a full GC runs then.
_BIG = 16 * 1024 * 1024


class HeldBytes:
    """A counter of bytes held, with a limit that :meth:`try_take` respects.

    Attributes:
        limit: the budget; held: bytes held now; peak: the most ever held at once.
    """

    __slots__ = ("_on_empty", "_since_empty", "held", "limit", "peak")

    def __init__(self, limit: int, on_empty: Callable[[], None] | None = None) -> None:
        """Start with nothing held; ``on_empty`` runs when a big holding is all given back."""
        self.limit = limit
        self.held = 0
        self.peak = 0
        self._on_empty = on_empty
        self._since_empty = 0

    def try_take(self, size: int) -> bool:
        """Take ``size`` bytes if that stays within the limit; False (nothing taken) if not."""
        if self.held + size > self.limit:
            return False
        self.take(size)
        return True

    def take(self, size: int) -> None:
        """Take ``size`` bytes whatever the limit (an answer that must be relayed)."""
        self.held += size
        self.peak = max(self.peak, self.held)
        self._since_empty = max(self._since_empty, self.held)

    def give_back(self, size: int) -> None:
        """Return ``size`` bytes taken before."""
        self.held -= size
        if self.held == 0 and self._since_empty > _BIG:
            self._since_empty = 0
            if self._on_empty is not None:
                self._on_empty()
