"""Background tasks stopped the one way: cancelled, then awaited until they have finished."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any


async def cancel_and_wait(*tasks: asyncio.Task[Any] | None) -> None:
    """Cancel every task given (None is skipped), then wait for each to finish.

    The cancellation each task raises is swallowed; any other exception a task ended with is
    raised here, as awaiting it would.
    """
    running = [task for task in tasks if task is not None]
    for task in running:
        task.cancel()
    for task in running:
        with contextlib.suppress(asyncio.CancelledError):
            await task
