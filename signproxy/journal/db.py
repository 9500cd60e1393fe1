"""The journal's SQLite schema and statements. Synchronous: never called on the event loop.

WAL mode lets ``signproxy orders`` read while the proxy writes. ``synchronous=NORMAL`` means a
commit is not fsynced: a committed row survives the proxy's process dying (it is in the OS's
page cache), not the machine losing power in the next moments. Nothing here holds a secret or a
signature: only what identifies an order and what OKX answered.

Each commit costs far more than a row, and about one page write per B-tree it touches, so the
schema keeps them few: a request's key is its rowid (assigned by SQLite, so several processes
never collide, and in time order, so pruning and "newest" need no index on time), and an order
lives in its request's key order (``WITHOUT ROWID``) with one index, on the client order id.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    key INTEGER PRIMARY KEY,
    received_ms INTEGER NOT NULL,
    account TEXT,
    client TEXT,
    transport TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    action TEXT NOT NULL,
    request_id TEXT,
    ws_id TEXT,
    exp_time TEXT,
    state TEXT NOT NULL,          -- sent | answered | failed | unknown | resolved
    status INTEGER,
    okx_code TEXT,
    error TEXT,
    resolution TEXT,
    finished_ms INTEGER,
    answer TEXT                   -- the answer a retry is replayed (de-duplication)
);
CREATE TABLE IF NOT EXISTS orders (
    key INTEGER NOT NULL REFERENCES requests (key) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    inst_id TEXT,
    side TEXT,
    ord_type TEXT,
    sz TEXT,
    px TEXT,
    cl_ord_id TEXT,
    ord_id TEXT,
    s_code TEXT,
    s_msg TEXT,
    outcome TEXT NOT NULL,        -- pending | ok | failed | not-placed | unknown
    PRIMARY KEY (key, idx)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS orders_clordid ON orders (cl_ord_id);
"""

UNKNOWN_STATES = ("sent", "unknown")


def connect(path: Path, *, create: bool = True) -> sqlite3.Connection:
    """Open the journal (creating it and its directory when ``create``), WAL and NORMAL sync.

    Raises:
        FileNotFoundError: ``create`` is False and there is no journal at ``path``.
    """
    if create:
        path.parent.mkdir(parents=True, exist_ok=True)
    elif not path.is_file():
        raise FileNotFoundError(str(path))
    conn = sqlite3.connect(path, timeout=5.0, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    # Checkpoints (which do sync) are run by the writer when it is idle, not by a commit that a
    # request is waiting for (see writer.py).
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("PRAGMA foreign_keys=ON")
    if create:
        conn.executescript(SCHEMA)
        columns = {row[1] for row in conn.execute("PRAGMA table_info(requests)")}
        if "answer" not in columns:  # a journal written before answers were kept
            add_answer_column(conn)
    return conn


def add_answer_column(conn: sqlite3.Connection) -> None:
    """Add ``requests.answer`` to a journal written before answers were kept.

    Workers open the journal at once: when another one added it first, that is fine.
    """
    try:
        conn.execute("ALTER TABLE requests ADD COLUMN answer TEXT")
    except sqlite3.OperationalError as exc:
        if "duplicate column" not in str(exc):
            raise


@dataclass(frozen=True, slots=True)
class Statement:
    """One SQL statement with its parameters (a batch of rows for ``executemany``)."""

    sql: str
    params: Sequence[Any] = ()
    many: bool = False


@dataclass(frozen=True, slots=True)
class Intent:
    """A request's row and its orders' rows (without the key, which SQLite assigns)."""

    request: Sequence[Any]
    orders: Sequence[Sequence[Any]]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What finishes a request's row and its orders' rows (see journal/rows.py)."""

    request: Sequence[Any]  # state, status, okx_code, error, resolution, finished_ms, key
    orders: Sequence[Sequence[Any]]  # ord_id, s_code, s_msg, outcome, key, idx


_INTENT = (
    "INSERT INTO requests (received_ms, account, client, transport, endpoint, action,"
    " request_id, ws_id, exp_time, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'sent')"
)
_INTENT_ORDER = (
    "INSERT INTO orders (key, idx, inst_id, side, ord_type, sz, px, cl_ord_id, ord_id,"
    " outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')"
)
_OUTCOME = (
    "UPDATE requests SET state = ?, status = ?, okx_code = ?, error = ?, resolution = ?,"
    " finished_ms = ? WHERE key = ?"
)
_OUTCOME_ORDER = (
    "UPDATE orders SET ord_id = COALESCE(?, ord_id), s_code = ?, s_msg = ?, outcome = ?"
    " WHERE key = ? AND idx = ?"
)


def run(conn: sqlite3.Connection, statements: Iterable[Statement | Intent | Outcome]) -> list[int]:
    """Run ``statements`` in one transaction (one commit for a batch); the intents' keys.

    An intent's request row is inserted at once (SQLite assigns its key); its order rows, and
    outcomes' rows, are gathered into one ``executemany`` per statement, run before the next
    plain :class:`Statement` and at the end. So a batch's order is kept where it matters, and a
    commit of many orders crosses into SQLite a few times rather than a few times per order.
    """
    keys: list[int] = []
    gathered: dict[str, list[Sequence[Any]]] = {}  # SQL -> rows, in first-seen order
    conn.execute("BEGIN")
    try:
        for statement in statements:
            if isinstance(statement, Intent):
                key = conn.execute(_INTENT, statement.request).lastrowid
                assert key is not None  # noqa: S101 - an INSERT into a rowid table
                rows = gathered.setdefault(_INTENT_ORDER, [])
                rows.extend((key, *row) for row in statement.orders)
                keys.append(key)
            elif isinstance(statement, Outcome):
                gathered.setdefault(_OUTCOME, []).append(statement.request)
                gathered.setdefault(_OUTCOME_ORDER, []).extend(statement.orders)
            else:
                _run_gathered(conn, gathered)
                if statement.many:
                    conn.executemany(statement.sql, statement.params)
                else:
                    conn.execute(statement.sql, statement.params)
        _run_gathered(conn, gathered)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return keys


def _run_gathered(conn: sqlite3.Connection, gathered: dict[str, list[Sequence[Any]]]) -> None:
    for sql, rows in gathered.items():
        if rows:
            conn.executemany(sql, rows)
    gathered.clear()


def recent_claims(conn: sqlite3.Connection, since_ms: int) -> list[dict[str, Any]]:
    """Orders placed (or maybe placed) since ``since_ms``, with a client order id, oldest first."""
    cursor = conn.execute(
        "SELECT r.key, r.received_ms, r.account, r.exp_time, o.cl_ord_id, o.ord_id, o.outcome"
        " FROM requests r JOIN orders o ON o.key = r.key"
        " WHERE r.action = 'place' AND r.received_ms >= ? AND o.cl_ord_id IS NOT NULL"
        " AND o.outcome IN ('ok', 'pending', 'unknown')"
        " ORDER BY r.key, o.idx",
        (since_ms,),
    )
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def forget_answers(conn: sqlite3.Connection, from_key: int, before_ms: int) -> int:
    """Clear the kept answers of requests from ``from_key`` received before ``before_ms``.

    Returns the key to start from next time: each call scans only the requests since the last.
    """
    row = conn.execute(
        "SELECT key FROM requests WHERE key >= ? AND received_ms >= ? ORDER BY key LIMIT 1",
        (from_key, before_ms),
    ).fetchone()
    if row is None:
        (last,) = conn.execute("SELECT COALESCE(MAX(key), 0) FROM requests").fetchone()
        end = int(last) + 1
    else:
        end = int(row[0])
    conn.execute(
        "UPDATE requests SET answer = NULL WHERE key >= ? AND key < ? AND answer IS NOT NULL",
        (from_key, end),
    )
    return end


def answer_of(conn: sqlite3.Connection, key: int) -> tuple[str | None, list[dict[str, Any]]]:
    """A request's kept answer (None when none was kept) and its orders, in order."""
    row = conn.execute("SELECT answer FROM requests WHERE key = ?", (key,)).fetchone()
    cursor = conn.execute(
        "SELECT r.exp_time, o.cl_ord_id, o.ord_id, o.outcome"
        " FROM requests r JOIN orders o ON o.key = r.key WHERE r.key = ? ORDER BY o.idx",
        (key,),
    )
    names = [column[0] for column in cursor.description]
    orders = [dict(zip(names, one, strict=True)) for one in cursor.fetchall()]
    return (row[0] if row is not None else None), orders


def checkpoint(conn: sqlite3.Connection) -> None:
    """Copy the WAL into the database as far as readers allow (never waits for them)."""
    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")


def prune(conn: sqlite3.Connection, before_ms: int) -> int:
    """Delete requests received before ``before_ms`` (and their orders); returns how many."""
    # Keys grow with time: find the first request to keep, scanning only the ones that go.
    kept = conn.execute(
        "SELECT key FROM requests WHERE received_ms >= ? ORDER BY key LIMIT 1", (before_ms,)
    ).fetchone()
    if kept is None:
        # Everything is old, but the newest row stays: SQLite gives a new row the largest key
        # plus one, so keys (which claims in memory refer to) are never handed out twice.
        cursor = conn.execute("DELETE FROM requests WHERE key < (SELECT MAX(key) FROM requests)")
    else:
        cursor = conn.execute("DELETE FROM requests WHERE key < ?", (kept[0],))
    return cursor.rowcount


_SELECT = """
SELECT r.key, r.received_ms, r.account, r.client, r.transport, r.endpoint, r.action,
       r.request_id, r.ws_id, r.exp_time, r.state, r.status, r.okx_code, r.error, r.resolution,
       r.finished_ms, o.idx, o.inst_id, o.side, o.ord_type, o.sz, o.px, o.cl_ord_id, o.ord_id,
       o.s_code, o.s_msg, o.outcome
FROM requests r LEFT JOIN orders o ON o.key = r.key
"""


def select(  # noqa: PLR0913 - one keyword-only argument per filter
    conn: sqlite3.Connection,
    *,
    unknown: bool = False,
    since_ms: int | None = None,
    cl_ord_id: str | None = None,
    account: str | None = None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """The newest ``limit`` orders (one row per order, with its request), oldest first."""
    where: list[str] = []
    params: list[Any] = []
    if unknown:
        where.append("(r.state IN ('sent', 'unknown') OR o.outcome IN ('pending', 'unknown'))")
    if since_ms is not None:
        where.append("r.received_ms >= ?")
        params.append(since_ms)
    if cl_ord_id is not None:
        where.append("o.cl_ord_id = ?")
        params.append(cl_ord_id)
    if account is not None:
        where.append("r.account = ?")
        params.append(account)
    sql = _SELECT + (" WHERE " + " AND ".join(where) if where else "")
    # The newest ``limit`` rows (keys grow with time), shown oldest first.
    sql += " ORDER BY r.key DESC, o.idx DESC LIMIT ?"
    params.append(limit)
    cursor = conn.execute(sql, params)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in reversed(cursor.fetchall())]
