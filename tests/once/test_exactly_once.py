"""Exactly-once behaviour of one proxy (served the production way) in front of the emulator."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from signproxy.emulator import EmulatorState, Fault
from signproxy.journal import db
from signproxy.journal.writer import Journal
from tests.conftest import MakeProxy
from tests.support.keys import ALL_SECRETS
from tests.support.logs import log_lines

ORDER_PATH = "/api/v5/trade/order"


def market(**extra: str) -> str:
    """A market order as JSON text."""
    order = {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "market", "sz": "1"}
    return json.dumps({**order, **extra})


def order_posts(emulator: EmulatorState) -> list[Any]:
    """The place-order POSTs the emulator received."""
    return [r for r in emulator.received if r.method == "POST" and r.target == ORDER_PATH]


async def journal_rows(path: Path, cl_ord_id: str) -> list[dict[str, Any]]:
    """The journal's rows for ``cl_ord_id`` once its outcome is written (polled, at most 5 s)."""
    async with asyncio.timeout(5):
        while True:
            conn = db.connect(path, create=False)
            try:
                found = db.select(conn, cl_ord_id=cl_ord_id)
            finally:
                conn.close()
            if found and all(row["state"] != "sent" for row in found):
                return found
            await asyncio.sleep(0.02)


async def test_same_clordid_for_another_order_is_a_conflict(
    make_proxy: MakeProxy, emulator: EmulatorState
) -> None:
    """A clOrdId already used for a different order is refused with 409 SPX810, not sent."""
    proxy = await make_proxy()
    first = await proxy.post(ORDER_PATH, market(clOrdId="c1"))
    second = await proxy.post(ORDER_PATH, market(clOrdId="c1", sz="2"))
    assert first.json()["code"] == "0"
    assert (second.status, second.json()["code"]) == (409, "SPX810")
    assert second.headers["X-Signproxy-Error"] == "SPX810"
    assert len(order_posts(emulator)) == 1


async def test_5xx_after_accepting_is_resolved_as_placed(
    make_proxy: MakeProxy, emulator: EmulatorState
) -> None:
    """OKX places the order but answers HTTP 500: the placed answer, marked resolved, and counted."""
    emulator.faults.append(Fault(ORDER_PATH, "error500"))
    proxy = await make_proxy()
    reply = await proxy.post(ORDER_PATH, market(clOrdId="e1"))
    retry = await proxy.post(ORDER_PATH, market(clOrdId="e1"))
    (order,) = emulator.all_orders()
    assert reply.status == 200
    assert reply.headers["X-Signproxy-Resolved"] == "placed"
    item = reply.json()["data"][0]
    assert (item["clOrdId"], item["ordId"], item["sCode"]) == ("e1", order["ordId"], "0")
    assert retry.headers["X-Signproxy-Replayed"] == "1"
    await asyncio.sleep(0.05)  # the metrics are recorded on the loop's next turn
    metrics = (await proxy.get("/-/metrics")).body.decode()
    assert 'signproxy_orders_resolved_total{outcome="placed"} 1.0' in metrics
    assert "signproxy_orders_replayed_total 1.0" in metrics


async def test_an_order_okx_refused_may_be_sent_again(
    make_proxy: MakeProxy, emulator: EmulatorState
) -> None:
    """A clOrdId whose order OKX refused is released: the corrected order goes to OKX."""
    proxy = await make_proxy()
    refused = await proxy.post(ORDER_PATH, json.dumps({"instId": "BTC-USDT", "clOrdId": "r1"}))
    fixed = await proxy.post(ORDER_PATH, market(clOrdId="r1"))
    assert refused.json()["data"][0]["sCode"] == "51000"
    assert fixed.json()["data"][0]["sCode"] == "0"
    assert "X-Signproxy-Replayed" not in fixed.headers
    assert len(order_posts(emulator)) == 2
    assert len(emulator.all_orders()) == 1


async def test_retry_while_the_first_attempt_is_in_flight_waits_for_it(
    make_proxy: MakeProxy, emulator: EmulatorState
) -> None:
    """A retry arriving while OKX holds the first attempt waits, then gets the same answer."""
    emulator.faults.append(Fault(ORDER_PATH, "hold"))
    proxy = await make_proxy(SIGNPROXY_TIMEOUT="1")
    first = asyncio.create_task(proxy.post(ORDER_PATH, market(clOrdId="w1")))
    async with asyncio.timeout(5):
        while not emulator.all_orders():  # noqa: ASYNC110 - the emulator runs in this loop
            await asyncio.sleep(0.01)
    retry = await proxy.post(ORDER_PATH, market(clOrdId="w1"))
    original = await first
    (order,) = emulator.all_orders()
    assert original.headers["X-Signproxy-Resolved"] == "placed"
    assert retry.headers["X-Signproxy-Replayed"] == "1"
    assert retry.json()["data"][0]["ordId"] == original.json()["data"][0]["ordId"] == order["ordId"]
    assert len(order_posts(emulator)) == 1


async def test_dedup_window_zero_sends_every_retry(
    make_proxy: MakeProxy, emulator: EmulatorState
) -> None:
    """SIGNPROXY_DEDUP_WINDOW=0 turns de-duplication off: the same order is sent each time."""
    proxy = await make_proxy(SIGNPROXY_DEDUP_WINDOW="0")
    for _ in range(2):
        await proxy.post(ORDER_PATH, market(clOrdId="n1"))
    assert len(order_posts(emulator)) == 2


async def test_raw_body_mode_adds_no_clordid(
    make_proxy: MakeProxy, emulator: EmulatorState
) -> None:
    """In SIGNPROXY_BODY=raw mode the client's bytes are sent as they are: no id is added."""
    proxy = await make_proxy(SIGNPROXY_BODY="raw")
    body = market()
    await proxy.post(ORDER_PATH, body)
    (seen,) = order_posts(emulator)
    assert seen.body == body.encode()


async def test_algo_orders_get_an_algo_client_id(
    make_proxy: MakeProxy, emulator: EmulatorState
) -> None:
    """An algo order without algoClOrdId gets one (algo orders have no clOrdId)."""
    proxy = await make_proxy(SIGNPROXY_CLORDID_PREFIX="bot7")
    await proxy.post("/api/v5/trade/order-algo", '{"instId": "BTC-USDT", "sz": 1.50}')
    (seen,) = [r for r in emulator.received if r.target == "/api/v5/trade/order-algo"]
    sent = json.loads(seen.body)
    assert sent["algoClOrdId"].startswith("bot7")
    assert "clOrdId" not in sent
    assert seen.body.endswith(b'"sz":1.50}')  # the client's number literal, as written


async def test_journal_records_intent_and_outcome_without_secrets(
    make_proxy: MakeProxy, emulator: EmulatorState, tmp_path: Path
) -> None:
    """Each order is journalled with what was sent and what OKX answered; no secret, no sign."""
    path = tmp_path / "journal.sqlite"
    proxy = await make_proxy(SIGNPROXY_JOURNAL=str(path), SIGNPROXY_CLIENT_TOKENS="bot:" + "t" * 32)
    headers = {"Authorization": "Bearer " + "t" * 32}
    await proxy.post(ORDER_PATH, market(clOrdId="j1", px="0.00000001"), headers=headers)
    await proxy.post(
        "/api/v5/trade/cancel-order",
        json.dumps({"instId": "BTC-USDT", "clOrdId": "j1"}),
        headers=headers,
    )
    placed, cancelled = await journal_rows(path, "j1")
    (order,) = emulator.all_orders()
    assert (placed["action"], placed["account"], placed["client"]) == ("place", "default", "bot")
    assert (placed["inst_id"], placed["side"], placed["ord_type"], placed["sz"], placed["px"]) == (
        "BTC-USDT",
        "buy",
        "market",
        "1",
        "0.00000001",
    )
    assert (placed["state"], placed["outcome"], placed["ord_id"], placed["s_code"]) == (
        "answered",
        "ok",
        order["ordId"],
        "0",
    )
    assert placed["exp_time"] is not None
    assert (cancelled["action"], cancelled["outcome"]) == ("cancel", "ok")
    signatures = [r.headers["OK-ACCESS-SIGN"].encode() for r in emulator.received]
    stored = await asyncio.to_thread(read_all, tmp_path)
    for secret in (*[s.encode() for s in ALL_SECRETS], *signatures, b"t" * 32):
        assert secret not in stored


def read_all(folder: Path) -> bytes:
    """The journal's files' bytes (database, WAL and shared memory)."""
    return b"".join(path.read_bytes() for path in folder.glob("journal.sqlite*"))


def test_retention_prunes_old_requests_and_their_orders(tmp_path: Path) -> None:
    """Pruning deletes requests received before the cut-off, with their orders, and no others."""
    conn = db.connect(tmp_path / "j.sqlite")
    for key, received in ((1, 1_000), (2, 9_000)):
        conn.execute(
            "INSERT INTO requests (key, received_ms, transport, endpoint, action, state)"
            " VALUES (?, ?, 'rest', '/api/v5/trade/order', 'place', 'answered')",
            (key, received),
        )
        conn.execute("INSERT INTO orders (key, idx, outcome) VALUES (?, 0, 'ok')", (key,))
    assert db.prune(conn, 5_000) == 1
    assert [row[0] for row in conn.execute("SELECT key FROM requests")] == [2]
    assert [row[0] for row in conn.execute("SELECT key FROM orders")] == [2]
    conn.close()


def test_journal_is_wal_and_not_fsynced_per_commit(tmp_path: Path) -> None:
    """The journal runs in WAL mode with synchronous=NORMAL (no fsync on each commit)."""
    conn = db.connect(tmp_path / "j.sqlite")
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    finally:
        conn.close()
    assert isinstance(conn, sqlite3.Connection)


async def test_retry_after_an_unknown_outcome_looks_again_then_sends(
    make_proxy: MakeProxy, emulator: EmulatorState
) -> None:
    """A retry of a still-unknown order is looked up again; once not placed, it is sent once."""
    emulator.faults.append(Fault(ORDER_PATH, "blackhole"))
    proxy = await make_proxy(
        SIGNPROXY_TIMEOUT="0.3", SIGNPROXY_EXPTIME_MS="500", SIGNPROXY_RESOLVE_TIMEOUT="0.3"
    )
    first = await proxy.post(ORDER_PATH, market(clOrdId="u1"))
    retries = []
    for _ in range(20):  # a bot retrying every 0.3 s until it gets a definite answer
        retries.append(await proxy.post(ORDER_PATH, market(clOrdId="u1")))
        if retries[-1].json()["code"] != "SPX301":
            break
        await asyncio.sleep(0.3)
    (order,) = emulator.all_orders()
    assert first.json()["code"] == "SPX301"
    assert "u1" in first.json()["msg"]
    assert all(r.headers["X-Signproxy-Replayed"] == "1" for r in retries[:-1])
    last = retries[-1]
    assert (last.status, last.json()["data"][0]["ordId"]) == (200, order["ordId"])
    assert "X-Signproxy-Replayed" not in last.headers
    assert len(order_posts(emulator)) == 2  # the lost one, and the one sent once not placed


async def test_an_unwritable_journal_is_logged_and_orders_go_on(
    make_proxy: MakeProxy, emulator: EmulatorState, tmp_path: Path, log_output: Any
) -> None:
    """A journal that cannot be opened is an error in the log, not a refused order."""
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    proxy = await make_proxy(SIGNPROXY_JOURNAL=str(blocker / "journal.sqlite"))
    reply = await proxy.post(ORDER_PATH, market(clOrdId="nj1"))
    assert reply.json()["data"][0]["sCode"] == "0"
    assert len(emulator.all_orders()) == 1
    (line,) = log_lines(log_output, "signproxy.journal_unavailable")
    assert line["path"] == str(blocker / "journal.sqlite")


async def test_the_journal_prunes_old_rows_when_it_starts(tmp_path: Path) -> None:
    """Rows older than the retention are gone once the journal has started; newer ones stay."""
    path = tmp_path / "journal.sqlite"
    conn = db.connect(path)
    now_ms = int(time.time() * 1000)
    for key, received in ((1, now_ms - 3_600_000), (2, now_ms)):
        conn.execute(
            "INSERT INTO requests (key, received_ms, transport, endpoint, action, state)"
            " VALUES (?, ?, 'rest', '/api/v5/trade/order', 'place', 'answered')",
            (key, received),
        )
    conn.close()
    journal = Journal(path, retention_s=600)
    await journal.start()
    await journal.close()
    conn = db.connect(path, create=False)
    try:
        assert [row[0] for row in conn.execute("SELECT key FROM requests")] == [2]
    finally:
        conn.close()


async def test_a_retry_takes_no_rate_budget(make_proxy: MakeProxy, emulator: EmulatorState) -> None:
    """With the instrument's budget used up, a retry is still replayed; a new order gets 429."""
    proxy = await make_proxy(SIGNPROXY_RATE_LIMITS="on", SIGNPROXY_RATE_MAX_WAIT_MS="0")
    replies = await asyncio.gather(
        *(proxy.post(ORDER_PATH, market(clOrdId=f"b{n}")) for n in range(60))
    )
    assert {reply.status for reply in replies} == {200}
    retry = await proxy.post(ORDER_PATH, market(clOrdId="b7"))
    new = await proxy.post(ORDER_PATH, market(clOrdId="b60"))
    assert (retry.status, retry.headers["X-Signproxy-Replayed"]) == (200, "1")
    assert new.status == 429
    assert len(order_posts(emulator)) == 60
