"""The switches' ``/-/`` routes: the operator's halt, resume and status, and the bots' heartbeat.

    POST /-/halt       operator token; body {"reason": "...", "cancel_open": true} (both optional)
    POST /-/resume     operator token
    GET  /-/status     operator token: the halt, every dead-man switch, the rules loaded
    GET  /-/heartbeat  client token (like any request): marks its account's bot as seen

Operator tokens (``SIGNPROXY_OPERATOR_TOKENS``) are sent as ``Authorization: Bearer <token>``
and are a separate list: a client token is never an operator token, and the guard refuses an
operator token on every other route (it cannot sign). The halt's answer with ``cancel_open``
reports, per account, how many orders and algo orders were cancelled and which were not.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from signproxy.proxy.record import EXCHANGE
from signproxy.proxy.selection import PATH_PREFIX
from signproxy.settings.tokens import identify
from signproxy.switches.cancel_open import CancelOpen
from signproxy.switches.errors import (
    OperatorBadRequest,
    OperatorOff,
    OperatorTokenInvalid,
    OperatorTokenRequired,
)

if TYPE_CHECKING:
    from signproxy.switches.board import Switchboard

HALT_PATH = "/-/halt"
RESUME_PATH = "/-/resume"
STATUS_PATH = "/-/status"
HEARTBEAT_PATH = "/-/heartbeat"
OPERATOR_PATHS = frozenset({HALT_PATH, RESUME_PATH, STATUS_PATH})
_MAX_BODY = 4096


class SwitchRoutes:
    """The handlers, bound to one application's switchboard."""

    def __init__(self, board: Switchboard) -> None:
        """Serve ``board``."""
        self._board = board

    def install(self, app: web.Application) -> None:
        """Add the routes (before the proxy's catch-all)."""
        app.router.add_post(HALT_PATH, self.halt)
        app.router.add_post(RESUME_PATH, self.resume)
        app.router.add_get(STATUS_PATH, self.status)
        app.router.add_get(HEARTBEAT_PATH, self.heartbeat)
        app.router.add_get(PATH_PREFIX + "{account}" + HEARTBEAT_PATH, self.heartbeat)

    def _operator(self, request: web.Request) -> str:
        tokens = self._board.settings.switches.operator_tokens
        if not tokens:
            raise OperatorOff(
                "no operator tokens are configured (SIGNPROXY_OPERATOR_TOKENS): halting through"
                " the proxy is off"
            )
        values = request.headers.getall("Authorization", ())
        scheme, _, presented = (values[0] if len(values) == 1 else "").strip().partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            raise OperatorTokenRequired("send exactly one Authorization: Bearer <operator token>")
        token = identify(presented.strip(), tokens)
        if token is None:
            raise OperatorTokenInvalid("not an operator token")
        request[EXCHANGE].client = f"operator:{token.name}"
        return token.name

    async def halt(self, request: web.Request) -> web.Response:
        """Halt trading; with ``cancel_open``, then cancel every account's pending orders."""
        operator = self._operator(request)
        body = await _body(request)
        reason = body.get("reason", "")
        cancel_open = body.get("cancel_open", False)
        if not isinstance(reason, str) or not reason.isprintable():
            raise OperatorBadRequest("reason must be a printable string")
        if not isinstance(cancel_open, bool):
            raise OperatorBadRequest("cancel_open must be true or false")
        state = await self._board.halt.change(halted=True, reason=reason, by=operator)
        answer: dict[str, Any] = {"halted": True, "reason": state.reason, "by": state.by}
        answer["at_ms"] = state.at_ms
        if cancel_open:
            accounts = list(self._board.selector.accounts)
            results = await asyncio.gather(
                *(CancelOpen(self._board.caller, account).run() for account in accounts)
            )
            answer["cancel_open"] = {
                account.name: result.report()
                for account, result in zip(accounts, results, strict=True)
            }
        return web.json_response(answer)

    async def resume(self, request: web.Request) -> web.Response:
        """Resume trading."""
        operator = self._operator(request)
        state = await self._board.halt.change(halted=False, reason="", by=operator)
        return web.json_response({"halted": False, "by": state.by, "at_ms": state.at_ms})

    async def status(self, request: web.Request) -> web.Response:
        """The halt, the dead-man switches and the rules."""
        self._operator(request)
        state = self._board.halt.state
        now = time.time_ns() // 1_000_000
        rules = self._board.guardrails.rules
        return web.json_response(
            {
                "halted": state.halted,
                "reason": state.reason,
                "by": state.by,
                "at_ms": state.at_ms,
                "deadman": {
                    name: entry.describe(now) for name, entry in self._board.deadman.entries.items()
                },
                "rules": {"file": rules.source, "names": [rule.name for rule in rules.rules]},
            }
        )

    async def heartbeat(self, request: web.Request) -> web.Response:
        """Mark the bot of the request's account as seen (account chosen like any request's)."""
        exchange = request[EXCHANGE]
        account, _ = self._board.selector.select(request, request.raw_path, exchange)
        self._board.deadman.seen(account.name)
        entry = self._board.deadman.entries.get(account.name)
        now = time.time_ns() // 1_000_000
        return web.json_response(
            {
                "account": account.name,
                "deadman": {"seconds": 0} if entry is None else entry.describe(now),
                "halted": self._board.halt.halted,
            }
        )


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    raw = await request.content.read(_MAX_BODY + 1)
    if len(raw) > _MAX_BODY:
        raise OperatorBadRequest(f"the body is over {_MAX_BODY} bytes")
    if not raw.strip():
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError:
        raise OperatorBadRequest("the body must be a JSON object") from None
    if not isinstance(parsed, dict):
        raise OperatorBadRequest("the body must be a JSON object")
    return parsed
