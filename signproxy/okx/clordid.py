"""Client order ids the proxy makes, and their insertion into a body without re-serializing it.

Pure: no I/O. OKX's rule for ``clOrdId`` (and ``algoClOrdId``): at most 32 characters, letters
and digits only (OKX refuses ``-`` and ``_``), case-sensitive. An id is the configured prefix
followed by 20 characters of base 36: the time in milliseconds (9), a random part drawn once per
process (7, drawn again in a forked worker) and a counter (4). Two ids can only collide if one
process made more than 1.6 million in one millisecond, or two processes drew the same random
part (one chance in 78 billion) and made an id in the same millisecond with the same count.

The body the proxy signs keeps the client's number literals (``0.00000001`` stays as written),
so the id is inserted as text: ``"clOrdId":"<id>",`` right after the opening brace of each order
object that has none. Every other byte stays as it was.
"""

from __future__ import annotations

import itertools
import os
import re
import secrets
import time
from dataclasses import dataclass, field

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
_TIME_DIGITS = 9
_RANDOM_DIGITS = 7
_COUNT_DIGITS = 4
ID_CHARS = _TIME_DIGITS + _RANDOM_DIGITS + _COUNT_DIGITS
VALID_ID = re.compile(r"[A-Za-z0-9]{1,32}")
# Strings (skipped whole, escapes included) and the structural characters between them.
_STRUCTURE = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},]')
_OPEN = (b"{", b"[")
_CLOSE = (b"}", b"]")


def _base36(number: int, width: int) -> str:
    out = []
    for _ in range(width):
        number, digit = divmod(number, 36)
        out.append(_DIGITS[digit])
    return "".join(reversed(out))


@dataclass
class IdMaker:
    """Makes unique client order ids that start with ``prefix``."""

    prefix: str
    _random: str = field(init=False)
    _counter: itertools.count[int] = field(init=False)

    def __post_init__(self) -> None:
        """Draw this process's random part."""
        self.reset()
        os.register_at_fork(after_in_child=self.reset)

    def reset(self) -> None:
        """A fresh random part (a forked worker must not share its parent's)."""
        self._random = _base36(secrets.randbits(40), _RANDOM_DIGITS)
        self._counter = itertools.count()

    def __call__(self) -> str:
        """A new id: prefix, time, random part, counter."""
        now = _base36(time.time_ns() // 1_000_000, _TIME_DIGITS)
        count = _base36(next(self._counter) % 36**_COUNT_DIGITS, _COUNT_DIGITS)
        return f"{self.prefix}{now}{self._random}{count}"


class NotAnOrderBody(ValueError):
    """The body has no order object where one was expected (a bug in the caller)."""


def object_starts(body: bytes) -> dict[int, int]:
    """The offsets of the opening braces of the order objects in a JSON body, by index.

    The body itself (index 0) when it is an object; each object element of an array, by its
    place in the array (elements that are not objects have no entry).

    Raises:
        NotAnOrderBody: the body is neither an object nor an array.
    """
    first = body.lstrip(b" \t\r\n")[:1]
    if first == b"{":
        return {0: body.index(b"{")}
    if first != b"[":
        raise NotAnOrderBody("not an object or array")
    starts: dict[int, int] = {}
    depth = element = 0
    for match in _STRUCTURE.finditer(body):
        token = match.group()
        if token in _OPEN:
            if depth == 1 and token == b"{":
                starts[element] = match.start()
            depth += 1
        elif token in _CLOSE:
            depth -= 1
        elif token == b"," and depth == 1:
            element += 1
    return starts


def insert_ids(body: bytes, inserts: dict[int, str], id_field: str) -> bytes:
    """Insert ``"<id_field>":"<id>"`` into the order objects named by index in ``inserts``.

    ``inserts`` maps an order's index (0 for a single order, its place in a batch) to the id.
    Every other byte of ``body`` stays as it was.

    Raises:
        NotAnOrderBody: see :func:`object_starts`; also when an index has no object.
    """
    starts = object_starts(body)
    out = bytearray()
    done = 0
    for index in sorted(inserts):
        if index not in starts:
            raise NotAnOrderBody(f"no order object at index {index}")
        cut = starts[index] + 1
        empty = body[cut:].lstrip(b" \t\r\n")[:1] == b"}"
        out += body[done:cut]
        out += f'"{id_field}":"{inserts[index]}"'.encode()
        if not empty:
            out += b","
        done = cut
    out += body[done:]
    return bytes(out)
