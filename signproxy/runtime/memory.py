"""Giving memory back to the system after big answers are gone (glibc's ``malloc_trim``).

A 30 MB answer is freed by Python once written, but glibc keeps the pages it came from for
later allocations: a proxy that once relayed a few big answers at the same time would stay that
large for good. :func:`trim_soon` asks glibc to return free memory, at most once per
:data:`TRIM_GAP_S` and a little after the call, when the bytes are really gone. Where the C
library has no ``malloc_trim`` (musl, macOS) it does nothing.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import gc
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

TRIM_GAP_S = 1.0


def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return None
    trim = getattr(libc, "malloc_trim", None)
    return None if trim is None else trim


_TRIM = _malloc_trim()
_pending: list[asyncio.TimerHandle] = []


def trim_soon() -> None:
    """Return free heap memory to the system within :data:`TRIM_GAP_S` (debounced)."""
    if _TRIM is None or _pending:
        return
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    _pending.append(loop.call_later(TRIM_GAP_S, _trim))


def _trim() -> None:
    _pending.clear()
    # A request's objects (and the answer they hold) sit in reference cycles until the
    # collector's next full run (a slow reader's have aged into the oldest generation); collect
    # first so the trim can return their pages. Rare: only after 16 MiB were held (held.py).
    gc.collect()
    if _TRIM is not None:
        _TRIM(0)
