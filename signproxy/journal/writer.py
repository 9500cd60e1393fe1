"""The journal's one writer: a thread fed by a queue, so the event loop never waits on SQLite.

:meth:`Journal.intent` queues a request's intent and awaits its commit (in the thread) before the
request leaves for OKX: if the proxy dies while the request is out, the journal knows about it.
That commit is not fsynced (WAL, ``synchronous=NORMAL``), so it costs a write into the OS's page
cache, not a disk flush. Outcomes are not awaited: they wait in a list beside the queue and are
committed with the next intent, or after at most 50 ms; only the first outcome after a commit
wakes the writer, so under load outcomes cost the thread no wake-up of their own. Whatever is
queued while a commit runs is written by the next one, so under load one commit carries many
rows, and its intents' futures are settled by one callback on the event loop.

If the database cannot be written (disk full, permissions), the failure is logged and requests
go on: an order is never refused because the journal failed.

The journal also keeps the answer a de-duplicated retry is replayed (:meth:`Journal.keep_answer`),
so the de-duplication store holds only a reference per order. A read of it
(:meth:`Journal.read_answer`) goes through the same queue, after every write queued before it
(and every outcome: a commit takes all the outcomes waiting when it starts).
"""

from __future__ import annotations

import asyncio
import collections
import queue
import threading
import time
from typing import TYPE_CHECKING, Any

import structlog

from signproxy.journal import db, rows

if TYPE_CHECKING:
    import sqlite3
    from pathlib import Path

    from signproxy.proxy.record import Exchange

PRUNE_EVERY_S = 3600.0
# An outcome waits at most this long for an intent to share its commit with.
OUTCOME_DELAY_S = 0.05
MAX_WAITING = 512
CHECKPOINT_EVERY = 256  # commits between checkpoints (about a megabyte of WAL at most)
_STOP = object()
_OUTCOMES = object()  # wakes the writer: outcomes are waiting beside the queue


class _Read:
    """A queued read of one request's kept answer (run after the writes queued before it)."""

    __slots__ = ("key",)

    def __init__(self, key: int) -> None:
        self.key = key


class Journal:
    """The order journal of one process (several processes may share the file)."""

    def __init__(self, path: Path, retention_s: float, answers_s: float = 0.0) -> None:
        """Write to ``path``; rows older than ``retention_s`` are pruned hourly.

        Kept answers are cleared hourly once ``answers_s`` (the de-duplication window, plus a
        minute) has passed: a retry can no longer come, and they would double the file's size.
        """
        self.path = path
        self._retention_ms = int(retention_s * 1000)
        self._answers_ms = int((answers_s + 60) * 1000)
        self._answers_from = 0  # requests before this key have no kept answer any more
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        # Outcomes, appended by the event loop and taken by the writer at each commit (a deque's
        # append and popleft are atomic). ``_outcomes_woken``: a wake-up for them is queued.
        self._outcomes: collections.deque[db.Outcome] = collections.deque()
        self._outcomes_woken = False
        self._thread: threading.Thread | None = None
        self._log = structlog.get_logger("signproxy")
        self._loop: asyncio.AbstractEventLoop | None = None
        self.failures = 0

    async def start(self) -> None:
        """Open (or create) the journal and start the writer thread.

        Raises:
            OSError, sqlite3.Error: the journal cannot be opened.
        """
        self._loop = asyncio.get_running_loop()
        conn = await asyncio.to_thread(db.connect, self.path)
        self._thread = threading.Thread(
            target=self._write_loop, args=(conn,), name="signproxy-journal", daemon=True
        )
        self._thread.start()

    async def close(self) -> None:
        """Write what is queued, then stop the thread."""
        if self._thread is None:
            return
        self._queue.put(_STOP)
        await asyncio.to_thread(self._thread.join, 10.0)
        self._thread = None
        # Whatever was queued behind the stop is not written; a reader waiting for it is told.
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            done = item[1] if isinstance(item, tuple) else None
            if done is not None and not done.done():
                done.set_exception(RuntimeError("the journal closed"))

    # Observer protocol (proxy/outcome.py): the outcome of every journalled exchange.
    def request_started(self) -> None:
        """Nothing to do when a request arrives."""

    def request_finished(self, exchange: Exchange) -> None:
        """Queue the outcome of an exchange whose intent was written."""
        key = exchange.journal_key
        if key is not None and self._thread is not None:
            self._outcomes.append(rows.outcome(key, exchange))
            if not self._outcomes_woken:
                self._outcomes_woken = True
                self._queue.put(_OUTCOMES)

    async def intent(self, exchange: Exchange) -> None:
        """Write ``exchange``'s intent and wait for the commit; sets ``journal_key``."""
        if self._thread is None:
            return
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._queue.put(([rows.intent(exchange)], done))
        try:
            exchange.journal_key = await done
        except Exception:  # noqa: BLE001 - logged by the writer; the order goes on
            return

    def keep_answer(self, key: int, answer: str) -> None:
        """Queue ``answer`` (text) as request ``key``'s answer to replay to a retry."""
        if self._thread is not None:
            self._queue.put(([db.Statement(_KEEP_ANSWER, (answer, key))], None))

    async def read_answer(self, key: int) -> tuple[str | None, list[dict[str, Any]]]:
        """Request ``key``'s kept answer (None if none was) and its orders' rows.

        Raises:
            sqlite3.Error, RuntimeError: the journal cannot be read (or is not open).
        """
        if self._thread is None:
            msg = "the journal is not open"
            raise RuntimeError(msg)
        done: asyncio.Future[tuple[str | None, list[dict[str, Any]]]]
        done = asyncio.get_running_loop().create_future()
        self._queue.put((_Read(key), done))
        return await done

    def write(self, statements: list[db.Statement]) -> None:
        """Queue ``statements`` (startup resolution's outcomes)."""
        if self._thread is not None:
            self._queue.put((statements, None))

    def _write_loop(self, conn: sqlite3.Connection) -> None:
        self._prune(conn)  # at startup, then hourly
        last_prune = time.monotonic()
        commits = 0
        waiting: list[tuple[Any, Any]] = []  # queued work not yet committed
        try:
            while True:
                pending = bool(waiting or self._outcomes)
                if commits >= CHECKPOINT_EVERY and not pending and self._queue.empty():
                    commits = 0
                    self._checkpoint(conn)
                batch = self._take(block_s=OUTCOME_DELAY_S if pending else None)
                stop = _STOP in batch
                waiting += [item for item in batch if item is not _STOP and item is not _OUTCOMES]
                # Outcomes ride along with the next intent's commit, or go after a short wait:
                # one commit per order instead of two (a commit costs far more than a row).
                urgent = any(done is not None for _, done in waiting)
                many = len(waiting) + len(self._outcomes) >= MAX_WAITING
                if urgent or stop or not batch or many:
                    self._commit(conn, self._drain_outcomes(), waiting)
                    waiting = []
                    commits += 1
                if time.monotonic() - last_prune > PRUNE_EVERY_S:
                    last_prune = time.monotonic()
                    self._prune(conn)
                if stop:
                    if self._outcomes:  # queued by the loop after the stop: still written
                        self._commit(conn, self._drain_outcomes(), [])
                    return
        finally:
            conn.close()

    def _drain_outcomes(self) -> list[db.Outcome]:
        # Cleared first: an outcome appended after the drain queues a new wake-up.
        self._outcomes_woken = False
        drained = []
        while self._outcomes:
            drained.append(self._outcomes.popleft())
        return drained

    def _take(self, block_s: float | None) -> list[Any]:
        """Everything queued, after waiting up to ``block_s`` (None: forever) for the first."""
        try:
            batch = [self._queue.get(timeout=block_s)]
        except queue.Empty:
            return []
        while True:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                return batch

    def _commit(
        self, conn: sqlite3.Connection, outcomes: list[db.Outcome], work: list[tuple[Any, Any]]
    ) -> None:
        reads = [(item, done) for item, done in work if isinstance(item, _Read)]
        if reads:
            work = [(item, done) for item, done in work if not isinstance(item, _Read)]
        self._write(conn, outcomes, work)
        for read, done in reads:  # after the writes: they see every answer kept before them
            self._read(conn, read, done)

    def _read(self, conn: sqlite3.Connection, read: _Read, done: asyncio.Future[Any]) -> None:
        result: Any = None
        error: BaseException | None = None
        try:
            result = db.answer_of(conn, read.key)
        except Exception as exc:  # noqa: BLE001 - handed to the reader, which decides
            error = exc
        if self._loop is not None:
            self._loop.call_soon_threadsafe(_settle, done, result, error)

    def _write(
        self, conn: sqlite3.Connection, outcomes: list[db.Outcome], work: list[tuple[Any, Any]]
    ) -> None:
        if not work and not outcomes:
            return
        error: BaseException | None = None
        keys: list[int] = []
        try:
            statements = [statement for statements, _ in work for statement in statements]
            keys = db.run(conn, [*outcomes, *statements])
        except Exception as exc:  # noqa: BLE001 - any database failure: log, never stop serving
            error = exc
            self.failures += 1
            self._log.error(
                "signproxy.journal_write_failed", path=str(self.path), error=repr(exc)[:200]
            )
        assigned = iter(keys)
        # Only intents wait, each with one key, in the order run.
        settled: list[tuple[asyncio.Future[Any], object]] = [
            (done, next(assigned, None) if error is None else None)
            for _, done in work
            if done is not None
        ]
        if settled and self._loop is not None:
            self._loop.call_soon_threadsafe(_settle_all, settled, error)

    def _checkpoint(self, conn: sqlite3.Connection) -> None:
        try:
            db.checkpoint(conn)
        except Exception as exc:  # noqa: BLE001 - the next one will try again
            self._log.warning("signproxy.journal_checkpoint_failed", error=repr(exc)[:200])

    def _prune(self, conn: sqlite3.Connection) -> None:
        before = time.time_ns() // 1_000_000 - self._retention_ms
        try:
            removed = db.prune(conn, before)
        except Exception as exc:  # noqa: BLE001
            self._log.error("signproxy.journal_prune_failed", error=repr(exc)[:200])
            return
        if removed:
            self._log.info("signproxy.journal_pruned", requests=removed)
        try:
            self._answers_from = db.forget_answers(
                conn, self._answers_from, time.time_ns() // 1_000_000 - self._answers_ms
            )
        except Exception as exc:  # noqa: BLE001 - the next prune will try again
            self._log.error("signproxy.journal_prune_failed", error=repr(exc)[:200])
        self._checkpoint(conn)

    def read_recent_claims(self, since_ms: int) -> list[dict[str, Any]]:
        """Orders placed or maybe placed since ``since_ms`` (synchronous: call it in a thread)."""
        conn = db.connect(self.path, create=False)
        try:
            return db.recent_claims(conn, since_ms)
        finally:
            conn.close()

    def read_unknown(self) -> list[dict[str, Any]]:
        """The rows whose outcome is unknown (synchronous: call it in a thread)."""
        conn = db.connect(self.path, create=False)
        try:
            return db.select(conn, unknown=True, limit=10_000)
        finally:
            conn.close()


_KEEP_ANSWER = "UPDATE requests SET answer = ? WHERE key = ?"


def _settle(done: asyncio.Future[Any], result: object, error: BaseException | None) -> None:
    if done.done():
        return
    if error is None and result is not None:
        done.set_result(result)
    else:
        done.set_exception(error or RuntimeError("no result"))


def _settle_all(
    settled: list[tuple[asyncio.Future[Any], object]], error: BaseException | None
) -> None:
    for done, result in settled:
        _settle(done, result, error)
