"""The exactly-once parts of one proxy process, built from the settings, and their lifecycle.

:class:`OrderSafety` owns the journal, the resolver and the de-duplication store, makes the
stages that use them, and (as an aiohttp cleanup context) opens the journal, restores the
claims it holds and resolves its unknown rows left by a crash (:mod:`.startup`), and closes the
journal last.
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import TYPE_CHECKING

import structlog

from signproxy.journal.writer import Journal
from signproxy.once.dedup_memory import MemoryStore
from signproxy.once.resolver import Resolver
from signproxy.once.startup import resolve_leftovers, restore_claims
from signproxy.proxy.stages.clordid import ClientOrderId
from signproxy.proxy.stages.dedup import Dedup
from signproxy.proxy.stages.resolve import JournalResolve
from signproxy.tasks import cancel_and_wait

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from aiohttp import web

    from signproxy.once.dedup import Store
    from signproxy.proxy.outcome import Outcomes
    from signproxy.settings.config import Settings
    from signproxy.state.redis import RedisLink
    from signproxy.upstream.client import Upstream
    from signproxy.upstream.clock import Clock


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
            Journal(options.journal, options.journal_retention_s, options.dedup_window_s)
            if options.journal
            else None
        )
        self.resolver = (
            Resolver(upstream, clock, options.resolve_timeout_s)
            if options.resolve_timeout_s > 0
            else None
        )
        self.store: Store | None = None
        if options.dedup_window_s > 0 and redis is not None:
            from signproxy.once.dedup_redis import RedisStore  # noqa: PLC0415 - redis-py (~7 MB) only with Redis

            self.store = RedisStore(redis, options.dedup_window_s)
        elif options.dedup_window_s > 0:
            self.store = MemoryStore(options.dedup_window_s, answers=self.journal)
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
                if isinstance(self.store, MemoryStore):
                    window_s = self._settings.order_safety.dedup_window_s
                    await restore_claims(self.journal, self.store, window_s)
                self._task = asyncio.get_running_loop().create_task(
                    resolve_leftovers(self.journal, self.resolver, self._settings.accounts)
                )
        yield
        await cancel_and_wait(self._task)
        if self.journal is not None:
            await self.journal.close()
