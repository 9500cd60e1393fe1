"""What the proxy does with its journal at startup: claims restored, unknown outcomes settled.

- :func:`restore_claims`: the client order ids of orders journalled within the de-duplication
  window are claimed again in the in-process store, so a bot's retry after a restart (a crash,
  ``SIGKILL``) is answered, not sent: from the journal when the order was placed, by looking it
  up again when its outcome was unknown.
- :func:`resolve_leftovers`: placing requests whose outcome is unknown are looked up, the
  journal is updated and the result logged (``signproxy.journal_resolved``).
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from typing import TYPE_CHECKING, Any

import structlog

from signproxy.journal.db import Statement
from signproxy.okx.orders import ORDER_ENDPOINTS, Action, OrderView

if TYPE_CHECKING:
    from signproxy.journal.writer import Journal
    from signproxy.once.dedup_memory import MemoryStore
    from signproxy.once.resolver import Resolver
    from signproxy.settings.accounts import Accounts

_STATES = {"placed": "ok", "not-placed": "not-placed", "unknown": "unknown"}


def _log() -> Any:  # noqa: ANN401 - structlog's bound logger
    return structlog.get_logger("signproxy")


async def restore_claims(journal: Journal, store: MemoryStore, window_s: float) -> None:
    """Claim again the ids of orders journalled within the window (a restart keeps them)."""
    window_ms = int(window_s * 1000)
    now_ms = time.time_ns() // 1_000_000
    try:
        found = await asyncio.to_thread(journal.read_recent_claims, now_ms - window_ms)
    except Exception as exc:  # noqa: BLE001 - a broken journal must not stop the proxy
        _log().error("signproxy.journal_unreadable", error=repr(exc)[:200])
        return
    requests: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in found:
        requests[row["key"]].append(row)
    for key, rows in requests.items():
        first = rows[0]
        store.restore(
            first["account"] or "",
            [row["cl_ord_id"] for row in rows],
            journal_key=int(key),
            age_s=(now_ms - first["received_ms"]) / 1000,
            state="done" if all(row["outcome"] == "ok" for row in rows) else "unknown",
        )
    if requests:
        _log().info("signproxy.dedup_restored", requests=len(requests))


async def resolve_leftovers(
    journal: Journal, resolver: Resolver | None, accounts: Accounts
) -> None:
    """Look up the journal's placing requests whose outcome is unknown; log what was found."""
    try:
        found = await asyncio.to_thread(journal.read_unknown)
    except Exception as exc:  # noqa: BLE001 - a broken journal must not stop the proxy
        _log().error("signproxy.journal_unreadable", error=repr(exc)[:200])
        return
    requests: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in found:
        if row["action"] == Action.PLACE.value and row["idx"] is not None:
            requests[row["key"]].append(row)
    counts = {"placed": 0, "not-placed": 0, "unknown": 0}
    settled: list[str] = []
    for key, orders in requests.items():
        findings = await _resolve_row(resolver, accounts, orders)
        if findings is None:
            counts["unknown"] += len(orders)
            continue
        statements = []
        for finding in findings:
            counts[finding.state] += 1
            settled.append(f"{finding.cl_ord_id}:{finding.state}")
            ord_id = (finding.order or {}).get("ordId") or (finding.order or {}).get("algoId")
            statements.append(
                Statement(
                    "UPDATE orders SET ord_id = COALESCE(?, ord_id), outcome = ?, s_code = ?"
                    " WHERE key = ? AND idx = ?",
                    (ord_id, _STATES[finding.state], None, key, finding.index),
                )
            )
        summary = {f.state for f in findings}
        resolution = summary.pop() if len(summary) == 1 else "partial"
        state = "unknown" if resolution == "unknown" else "resolved"
        statements.append(
            Statement(
                # The kept answer said "unknown": a retry now gets one rebuilt from the rows.
                "UPDATE requests SET state = ?, resolution = ?, answer = NULL WHERE key = ?",
                (state, resolution, key),
            )
        )
        journal.write(statements)
    if requests:
        _log().info(
            "signproxy.journal_resolved",
            requests=len(requests),
            placed=counts["placed"],
            not_placed=counts["not-placed"],
            unknown=counts["unknown"],
            orders=settled[:50],
        )


async def _resolve_row(
    resolver: Resolver | None, accounts: Accounts, orders: list[dict[str, Any]]
) -> list[Any] | None:
    first = orders[0]
    endpoint = ORDER_ENDPOINTS.get(first["endpoint"])
    account = accounts.get(first["account"] or "")
    if endpoint is None or account is None:
        return None
    views = [
        OrderView(
            index=row["idx"],
            inst_id=row["inst_id"],
            cl_ord_id=row["cl_ord_id"],
            ord_id=row["ord_id"],
            side=row["side"],
            ord_type=row["ord_type"],
            sz=row["sz"],
            px=row["px"],
            tag=None,
            reduce_only=None,
        )
        for row in orders
    ]
    exp = first["exp_time"]
    exp_ms = int(exp) if isinstance(exp, str) and exp.isdigit() else None
    if resolver is None:
        return None
    return await resolver.resolve(account, endpoint, views, exp_ms)
