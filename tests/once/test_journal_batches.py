"""One journal commit carrying intents, outcomes and plain statements (journal/db.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from signproxy.journal import db

if TYPE_CHECKING:
    from pathlib import Path


def _intent(request_id: str, *cl_ord_ids: str) -> db.Intent:
    request = (1, "main", None, "rest", "/api/v5/trade/order", "place", request_id, None, None)
    orders = [
        (index, "BTC-USDT", "buy", "limit", "1", "2", cl_ord_id, None)
        for index, cl_ord_id in enumerate(cl_ord_ids)
    ]
    return db.Intent(request, orders)


def test_a_batch_is_written_as_if_run_one_by_one(tmp_path: Path) -> None:
    """Gathered rows keep their keys, and a plain statement sees the rows queued before it."""
    conn = db.connect(tmp_path / "journal.sqlite")
    (first,) = db.run(conn, [_intent("r1", "a1")])
    outcome = db.Outcome(
        ("answered", 200, "0", None, None, 2, first), [("o1", "0", "", "ok", first, 0)]
    )
    mark = db.Statement("UPDATE orders SET s_msg = 'marked' WHERE cl_ord_id = ?", ("b2",))
    keys = db.run(conn, [_intent("r2", "b1", "b2"), outcome, mark, _intent("r3", "c1")])
    rows = db.select(conn)
    conn.close()
    assert keys == [first + 1, first + 2]
    by_id = {row["cl_ord_id"]: row for row in rows}
    assert (by_id["a1"]["state"], by_id["a1"]["ord_id"], by_id["a1"]["outcome"]) == (
        "answered",
        "o1",
        "ok",
    )
    assert by_id["b2"]["s_msg"] == "marked"
    assert by_id["b1"]["s_msg"] is None
    assert [(by_id[c]["key"], by_id[c]["idx"]) for c in ("b1", "b2", "c1")] == [
        (first + 1, 0),
        (first + 1, 1),
        (first + 2, 0),
    ]
    assert {row["outcome"] for row in rows if row["key"] != first} == {"pending"}
