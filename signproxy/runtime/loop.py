"""The event loop the proxy runs on: uvloop when it is installed, asyncio's own loop otherwise.

uvloop (libuv, in C) runs the same asyncio code with a cheaper event loop; it is a default
dependency on Linux and macOS (see pyproject.toml) and simply absent elsewhere.
"""

from __future__ import annotations

import asyncio
import importlib.util
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine
    from typing import Any

T = TypeVar("T")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """Return uvloop's loop constructor when uvloop is installed, else None (asyncio's)."""
    if importlib.util.find_spec("uvloop") is None:
        return None
    import uvloop  # noqa: PLC0415 - optional, imported only when present

    return uvloop.new_event_loop


def loop_name() -> str:
    """Name the event loop :func:`run` uses, for the startup log line."""
    return "uvloop" if loop_factory() is not None else "asyncio"


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` to completion on a new event loop (uvloop when installed)."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)
