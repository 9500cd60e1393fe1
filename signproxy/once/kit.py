"""The exactly-once parts of one proxy process, built from the settings, and their lifecycle.

:class:`OrderSafety` owns the journal, the resolver and the de-duplication store, makes the
stages that use them, and (as an aiohttp cleanup context) opens the journal, resolves the
journal's unknown rows left by a crash in the background, and closes the journal last.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections import defaultdict
from typing import TYPE_CHECKING, Any

import structlog

from signproxy.journal.db import Statement
from signproxy.journal.writer import Journal
from signproxy.okx.orders import ORDER_ENDPOINTS, Action, OrderView
from signproxy.once.dedup import MemoryStore
from signproxy.once.dedup_redis import RedisStore
from signproxy.once.resolver import Resolver
from signproxy.proxy.stages.clordid import ClientOrderId
from signproxy.proxy.stages.dedup import Dedup
from signproxy.proxy.stages.resolve import JournalResolve

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from aiohttp import web

    from signproxy.once.dedup import Store
    from signproxy.proxy.outcome import Outcomes
    from signproxy.settings.config import Settings
    from signproxy.state.redis import RedisLink
    from signproxy.upstream.client import Upstream
    from signproxy.upstream.clock import Clock

_STATES = {"placed": "ok", "not-placed": "not-placed", "unknown": "unknown"}


class OrderSafety:
    """Journal, resolver, de-duplication store and their stages, for one process."""

    def __init__(
        self,
        settings: Settings,
        upstream: Upstream,
        clock: Clock,
        redis: RedisLink | None,
    ) -> None:
        """Build what the settings ask for (nothing is opened yet)."""
        options = settings.order_safety
        self._settings = settings
        self.journal = (
            Journal(options.journal, options.journal_retention_s) if options.journal else None
        )
        self.resolver = (
            Resolver(upstream, clock, options.resolve_timeout_s)
            if options.resolve_timeout_s > 0
            else None
        )
        self.store: Store | None = None
        if options.dedup_window_s > 0:
            self.store = (
                RedisStore(redis, options.dedup_window_s)
                if redis is not None
                else MemoryStore(options.dedup_window_s)
            )
        self.client_order_id = ClientOrderId(options.clordid_prefix, settings.body_mode)
        self.dedup = (
            Dedup(
                self.store,
                wait_s=settings.request_timeout + options.resolve_timeout_s + 1.0,
                window_s=options.dedup_window_s,
                resolver=self.resolver,
            )
            if self.store is not None
            else None
        )
        self.journal_resolve = JournalResolve(self.journal, self.resolver)
        self._task: asyncio.Task[None] | None = None
        self._log = structlog.get_logger("signproxy")

    def observe(self, outcomes: Outcomes) -> None:
        """Let the journal and the de-duplication see every finished exchange."""
        if self.journal is not None:
            outcomes.add(self.journal)
        if self.dedup is not None:
            outcomes.add(self.dedup)

    async def lifecycle(self, _app: web.Application) -> AsyncIterator[None]:
        """The aiohttp cleanup context: open the journal, resolve its leftovers, close it."""
        if self.journal is not None:
            try:
                await self.journal.start()
            except (OSError, sqlite3.Error) as exc:
                # Orders are never refused because the journal failed (a read-only filesystem
                # without a volume): serve, and say so loudly once.
                self._log.error(
                    "signproxy.journal_unavailable",
                    path=str(self.journal.path),
                    error=repr(exc)[:200],
                )
            else:
                self._log.info("signproxy.journal_opened", path=str(self.journal.path))
                self._task = asyncio.get_running_loop().create_task(self.resolve_leftovers())
        yield
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.journal is not None:
            await self.journal.close()

    async def resolve_leftovers(self) -> None:
        """Look up the journal's placing requests whose outcome is unknown; log what was found."""
        journal = self.journal
        assert journal is not None  # noqa: S101 - only started with a journal
        try:
            found = await asyncio.to_thread(journal.read_unknown)
        except Exception as exc:  # noqa: BLE001 - a broken journal must not stop the proxy
            self._log.error("signproxy.journal_unreadable", error=repr(exc)[:200])
            return
        requests: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in found:
            if row["action"] == Action.PLACE.value and row["idx"] is not None:
                requests[row["key"]].append(row)
        counts = {"placed": 0, "not-placed": 0, "unknown": 0}
        settled: list[str] = []
        for key, orders in requests.items():
            findings = await self._resolve_row(orders)
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
                    "UPDATE requests SET state = ?, resolution = ? WHERE key = ?",
                    (state, resolution, key),
                )
            )
            journal.write(statements)
        if requests:
            self._log.info(
                "signproxy.journal_resolved",
                requests=len(requests),
                placed=counts["placed"],
                not_placed=counts["not-placed"],
                unknown=counts["unknown"],
                orders=settled[:50],
            )

    async def _resolve_row(self, orders: list[dict[str, Any]]) -> list[Any] | None:
        first = orders[0]
        endpoint = ORDER_ENDPOINTS.get(first["endpoint"])
        account = self._settings.accounts.get(first["account"] or "")
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
        if self.resolver is None:
            return None
        return await self.resolver.resolve(account, endpoint, views, exp_ms)
