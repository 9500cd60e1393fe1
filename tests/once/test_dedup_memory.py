"""The in-process de-duplication store: answers kept in the journal, claims the GC never sees."""

from __future__ import annotations

import contextlib
import gc
import sqlite3
import time
from typing import TYPE_CHECKING

from signproxy.journal import db
from signproxy.journal.writer import Journal
from signproxy.once.dedup import Ending, Stored
from signproxy.once.dedup_memory import MemoryStore

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

ANSWER = Stored(
    200,
    b'{"code":"0","msg":"","data":[{"clOrdId":"a1","ordId":"9","sCode":"0","ts":"1"}]}',
    {"Content-Type": "application/json"},
    1_700_000_005_000,
)


def _journalled(path: Path, cl_ord_ids: list[str], outcome: str = "pending") -> int:
    """A placing request's journal row with its orders, as the proxy writes it; its key."""
    conn = db.connect(path)
    try:
        request = (int(time.time() * 1000), "main", None, "rest", "/api/v5/trade/order", "place")
        ids = cl_ord_ids
        orders = [(i, "BTC-USDT", "buy", "limit", "1", "1", c, None) for i, c in enumerate(ids)]
        (key,) = db.run(conn, [db.Intent((*request, "r1", None, "1700000005000"), orders)])
        if outcome != "pending":
            conn.execute("UPDATE orders SET outcome = ?, ord_id = '77'", (outcome,))
    finally:
        conn.close()
    return key


@contextlib.asynccontextmanager
async def _store_over(path: Path) -> AsyncIterator[tuple[MemoryStore, Journal]]:
    """A 60 s store keeping its answers in a running journal at ``path``."""
    journal = Journal(path, 3600)
    await journal.start()
    try:
        yield MemoryStore(60, answers=journal), journal
    finally:
        await journal.close()


async def test_a_finished_answer_is_kept_in_the_journal_and_replayed_from_it(
    tmp_path: Path,
) -> None:
    """The answer goes to the journal row; a retry gets it back byte for byte, state and all."""
    path = tmp_path / "journal.db"
    key = _journalled(path, ["a1"])
    async with _store_over(path) as (store, _journal):
        assert (await store.claim("main", [("a1", "f" * 32)], "A")).kind == "new"
        store.end("main", "A", Ending(["a1"], [], "done", ANSWER, journal_key=key))
        retry = await store.claim("main", [("a1", "f" * 32)], "B")
        assert (retry.kind, retry.state, retry.stored) == ("existing", "done", ANSWER)
        assert retry.owner == f"journal-{key}"
    conn = sqlite3.connect(path)
    try:
        (kept,) = conn.execute("SELECT answer FROM requests WHERE key = ?", (key,)).fetchone()
    finally:
        conn.close()
    assert Stored.loads(kept) == ANSWER


async def test_an_unknown_outcome_settled_later_replaces_the_journalled_answer(
    tmp_path: Path,
) -> None:
    """A retry that settles an unknown first attempt writes what it found for the next retry."""
    path = tmp_path / "journal.db"
    key = _journalled(path, ["a1"])
    async with _store_over(path) as (store, _journal):
        await store.claim("main", [("a1", "f" * 32)], "A")
        unknown = Stored(502, b'{"code":"SPX301","msg":"unknown","data":[]}', {})
        store.end("main", "A", Ending(["a1"], [], "unknown", unknown, journal_key=key))
        retry = await store.claim("main", [("a1", "f" * 32)], "B")
        assert (retry.state, retry.stored) == ("unknown", unknown)
        assert retry.owner is not None
        await store.finish("main", retry.owner, Ending(["a1"], [], "done", ANSWER))
        again = await store.claim("main", [("a1", "f" * 32)], "C")
        assert (again.state, again.stored) == ("done", ANSWER)


async def test_a_retry_whose_answer_cannot_be_read_is_unknown_never_new(tmp_path: Path) -> None:
    """With the journal gone, a retry of a placed order is an unknown outcome, not a new order."""
    path = tmp_path / "journal.db"
    key = _journalled(path, ["a1"])
    journal = Journal(path, 3600)
    await journal.start()
    store = MemoryStore(60, answers=journal)
    await store.claim("main", [("a1", "f" * 32)], "A")
    store.end("main", "A", Ending(["a1"], [], "done", ANSWER, journal_key=key))
    await journal.close()
    retry = await store.claim("main", [("a1", "f" * 32)], "B")
    assert (retry.kind, retry.state) == ("existing", "unknown")
    assert retry.stored is not None
    assert b"SPX301" in retry.stored.body


async def test_restored_claims_are_answered_from_the_rows_when_no_answer_was_kept(
    tmp_path: Path,
) -> None:
    """After a restart, a placed order without a kept answer is rebuilt from its rows."""
    path = tmp_path / "journal.db"
    key = _journalled(path, ["a1", "a2"], outcome="ok")
    async with _store_over(path) as (store, _journal):
        store.restore("main", ["a1", "a2"], journal_key=key, age_s=1.0, state="done")
        retry = await store.claim("main", [("a1", "x"), ("a2", "y")], "B")
        assert (retry.kind, retry.state) == ("existing", "done")
        assert retry.stored is not None
        assert retry.stored.status == 200
        assert b'"ordId": "77"' in retry.stored.body
        assert retry.stored.exp_time == 1_700_000_005_000


async def test_held_claims_add_no_objects_for_the_garbage_collector() -> None:
    """10,000 finished claims leave no container objects behind for the collector to walk."""
    store = MemoryStore(60)
    gc.collect()
    before = len(gc.get_objects())
    for n in range(10_000):
        owner = f"o{n}"
        await store.claim("main", [(f"id{n}", f"{n:032x}")], owner)
        store.end("main", owner, Ending([f"id{n}"], [], "done", ANSWER))
    gc.collect()
    assert len(gc.get_objects()) - before < 200
    assert len(store) == 10_000


async def test_an_old_journal_gains_the_answer_column(tmp_path: Path) -> None:
    """A journal written before answers were kept is upgraded when the proxy opens it."""
    path = tmp_path / "journal.db"
    old_schema = db.SCHEMA.replace(
        ",\n    answer TEXT                   -- the answer a retry is replayed (de-duplication)",
        "",
    )
    assert old_schema != db.SCHEMA
    conn = sqlite3.connect(path)
    conn.executescript(old_schema)
    conn.close()
    key = _journalled(path, ["a1"])
    conn = db.connect(path)
    try:
        assert db.answer_of(conn, key)[0] is None
    finally:
        conn.close()


async def test_waiting_for_an_owner_this_store_does_not_hold_means_claim_again() -> None:
    """wait() for an unknown owner answers released, never another attempt's answer."""
    store = MemoryStore(60)
    await store.claim("main", [("x1", "a" * 32)], "A")
    store.end("main", "A", Ending(["x1"], [], "done", ANSWER))
    got = await store.wait("main", "x1", "someone-else", 0.01)
    assert (got.state, got.stored) == ("released", None)


async def test_an_attempt_that_placed_nothing_keeps_no_answer(tmp_path: Path) -> None:
    """Released ids leave nothing behind: the same id may go again, and no answer is kept."""
    path = tmp_path / "journal.db"
    key = _journalled(path, ["a1"])
    async with _store_over(path) as (store, journal):
        gc.collect()
        before = len(gc.get_objects())
        refused = Stored(200, b'{"code":"1","msg":"","data":[]}', {})
        for n in range(1000):
            await store.claim("main", [(f"r{n}", "b" * 32)], f"o{n}")
            store.end("main", f"o{n}", Ending([], [f"r{n}"], "done", refused, journal_key=key))
        assert len(store) == 0
        gc.collect()
        assert len(gc.get_objects()) - before < 100
        assert (await journal.read_answer(key))[0] is None  # nothing written either


async def test_a_kept_unknown_answer_settled_at_a_start_is_answered_from_the_rows(
    tmp_path: Path,
) -> None:
    """A restored 'placed' claim whose kept answer still says unknown gets the rows' answer."""
    path = tmp_path / "journal.db"
    key = _journalled(path, ["a1"], outcome="ok")
    unknown = Stored(502, b'{"code":"SPX301","msg":"unknown","data":[]}', {})
    conn = db.connect(path)
    conn.execute("UPDATE requests SET answer = ? WHERE key = ?", (unknown.dumps(), key))
    conn.close()
    async with _store_over(path) as (store, _journal):
        store.restore("main", ["a1"], journal_key=key, age_s=1.0, state="done")
        retry = await store.claim("main", [("a1", "x")], "B")
    assert retry.state == "done"
    assert retry.stored is not None
    assert retry.stored.status == 200
    assert b'"ordId": "77"' in retry.stored.body


def test_pruning_everything_never_hands_a_key_out_twice(tmp_path: Path) -> None:
    """Claims refer to journal keys: after a prune of every row, new rows get new keys."""
    path = tmp_path / "journal.db"
    first = _journalled(path, ["a1"])
    conn = db.connect(path)
    try:
        db.prune(conn, int(time.time() * 1000) + 60_000)  # everything is older than that
    finally:
        conn.close()
    assert _journalled(path, ["b1"]) > first


def test_a_worker_that_finds_the_answer_column_added_meanwhile_opens_the_journal(
    tmp_path: Path,
) -> None:
    """Two workers upgrading an old journal at once: the second one's ALTER is not an error."""
    path = tmp_path / "journal.db"
    _journalled(path, ["a1"])  # a journal with the column (the other worker was first)
    conn = db.connect(path)
    try:
        db.add_answer_column(conn)
    finally:
        conn.close()


def test_answers_are_cleared_after_the_window_and_rows_stay(tmp_path: Path) -> None:
    """Kept answers go once no retry can come; the rows stay for their retention."""
    path = tmp_path / "journal.db"
    old, new = _journalled(path, ["a1"]), _journalled(path, ["b1"])
    conn = db.connect(path)
    try:
        for key in (old, new):
            conn.execute("UPDATE requests SET answer = 'x' WHERE key = ?", (key,))
        conn.execute(
            "UPDATE requests SET received_ms = received_ms - 3600000 WHERE key = ?", (old,)
        )
        cutoff = int(time.time() * 1000) - 600_000
        next_from = db.forget_answers(conn, 0, cutoff)
        assert db.answer_of(conn, old) == (None, db.answer_of(conn, old)[1])
        assert db.answer_of(conn, old)[1]  # the order's row is still there
        assert db.answer_of(conn, new)[0] == "x"
        assert next_from == new
        assert db.forget_answers(conn, next_from, cutoff) == new  # nothing more to clear
    finally:
        conn.close()
