"""Fault knobs for tests: make the emulator fail the way a network or OKX fails around an order.

A test queues :class:`Fault` s on ``EmulatorState.faults`` (in process) or through the control
route ``POST /-/emulator/faults`` (``{"path": ..., "action": ..., "count": n}``; not part of
OKX's API and never signed). Each matching request (by method POST and path) uses one up:

- ``drop``: process the request (the order is placed), then close the connection unanswered;
- ``error500``: process it, then answer HTTP 500 with OKX's ``50001``;
- ``hold``: process it, then never answer (until the client goes away);
- ``blackhole``: never process it and never answer (the order never reached OKX).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, cast

from aiohttp import web

if TYPE_CHECKING:
    from signproxy.emulator import EmulatorState

Action = Literal["drop", "error500", "hold", "blackhole"]
ACTIONS: tuple[Action, ...] = ("drop", "error500", "hold", "blackhole")
CONTROL_ROUTE = "/-/emulator/faults"
SERVER_ERROR: dict[str, object] = {
    "code": "50001",
    "msg": "Service temporarily unavailable. Please try again later.",
    "data": [],
}


@dataclass
class Fault:
    """``action`` on the next ``count`` POSTs to ``path``."""

    path: str
    action: Action
    count: int = 1


def take(faults: list[Fault], method: str, path: str) -> Action | None:
    """The action for this request, if a fault matches it (using one up)."""
    if method != "POST":
        return None
    for fault in faults:
        if fault.path == path and fault.count > 0:
            fault.count -= 1
            if fault.count == 0:
                faults.remove(fault)
            return fault.action
    return None


def install_control(app: web.Application, state: EmulatorState) -> None:
    """Add ``POST /-/emulator/faults`` (queue a fault) and ``DELETE`` (clear them)."""

    async def add(request: web.Request) -> web.Response:
        try:
            spec = json.loads(await request.read())
            action = spec["action"]
            if action not in ACTIONS:
                raise ValueError(action)  # noqa: TRY301 - one refusal for every bad spec
            fault = Fault(str(spec["path"]), cast("Action", action), int(spec.get("count", 1)))
        except (ValueError, KeyError, TypeError):
            return web.json_response(
                {"error": f"want {{path, action: one of {', '.join(ACTIONS)}, count}}"},
                status=400,
            )
        state.faults.append(fault)
        return web.json_response({"queued": len(state.faults)})

    async def clear(_request: web.Request) -> web.Response:
        state.faults.clear()
        return web.json_response({"queued": 0})

    app.router.add_post(CONTROL_ROUTE, add)
    app.router.add_delete(CONTROL_ROUTE, clear)
