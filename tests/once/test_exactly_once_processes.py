"""Exactly-once orders through real processes: ``signproxy serve`` in front of the emulator.

The emulator runs in the test's process, so a test can inject faults (emulator/faults.py) and
read its order book; each proxy is a real subprocess with a real journal file.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
from yarl import URL

from signproxy.emulator import EmulatorState, Fault
from tests.support.keys import LIVE_KEY, env_for
from tests.support.proxy_process import Processes, Served

ORDER_PATH = "/api/v5/trade/order"
BATCH_PATH = "/api/v5/trade/batch-orders"


def market(**extra: str) -> dict[str, str]:
    """A market order: it fills at once, so OKX would accept the same clOrdId again."""
    return {
        "instId": "BTC-USDT",
        "tdMode": "cash",
        "side": "buy",
        "ordType": "market",
        "sz": "1",
        **extra,
    }


async def post(base: str, path: str, body: Any) -> tuple[int, dict[str, str], dict[str, Any]]:
    """POST ``body`` as JSON; status, headers and parsed answer (30 s at most)."""
    timeout = aiohttp.ClientTimeout(total=30)
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.post(
            URL(base + path, encoded=True),
            data=json.dumps(body),
            headers={"Content-Type": "application/json"},
        ) as response,
    ):
        return response.status, dict(response.headers), await response.json()


def journal_env(url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    """A proxy's variables with its journal in ``tmp_path``."""
    return env_for(LIVE_KEY, url, SIGNPROXY_JOURNAL=str(tmp_path / "journal.sqlite"), **extra)


async def orders_command(
    processes: Processes, env: dict[str, str], *args: str
) -> list[dict[str, Any]]:
    """Run ``signproxy orders --json ARGS``; the rows it printed."""
    status, out = await processes.command("orders", "--json", *args, env=env)
    assert status == 0, out
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def posts(emulator: EmulatorState, path: str) -> list[Any]:
    """The POSTs the emulator received on ``path``."""
    return [r for r in emulator.received if r.method == "POST" and r.target == path]


async def test_dropped_order_retried_three_times_is_one_order(
    emulator: EmulatorState,
    emulator_url: str,
    tmp_path: Path,
    processes: Processes,
) -> None:
    """OKX accepts, the connection drops; the bot retries 3 times: one order, one ordId for all."""
    emulator.faults.append(Fault(ORDER_PATH, "drop"))
    proxy = await processes.serve(journal_env(emulator_url, tmp_path))
    answers = [await post(proxy.url, ORDER_PATH, market(clOrdId="bot1")) for _ in range(4)]
    statuses = [status for status, _, _ in answers]
    assert statuses == [200, 200, 200, 200]
    first_headers = answers[0][1]
    assert first_headers["X-Signproxy-Resolved"] == "placed"
    assert all(headers.get("X-Signproxy-Replayed") == "1" for _, headers, _ in answers[1:])
    ord_ids = {body["data"][0]["ordId"] for _, _, body in answers}
    assert len(emulator.all_orders()) == 1
    assert ord_ids == {emulator.all_orders()[0]["ordId"]}
    assert len(posts(emulator, ORDER_PATH)) == 1  # the retries were never sent


async def test_dropped_order_without_clordid_is_settled_by_the_proxy_id(
    emulator: EmulatorState,
    emulator_url: str,
    tmp_path: Path,
    processes: Processes,
) -> None:
    """Without a clOrdId from the bot, the proxy's own id finds the order: no error, no retry."""
    emulator.faults.append(Fault(ORDER_PATH, "drop"))
    proxy = await processes.serve(journal_env(emulator_url, tmp_path))
    answers = []
    for _ in range(4):  # a bot that sends again until it is told the order was placed
        status, headers, body = await post(proxy.url, ORDER_PATH, market())
        answers.append((status, headers, body))
        if body["code"] == "0":
            break
    assert len(answers) == 1
    _, headers, body = answers[0]
    assert headers["X-Signproxy-Resolved"] == "placed"
    (order,) = emulator.all_orders()
    assert body["data"][0]["ordId"] == order["ordId"]
    assert body["data"][0]["clOrdId"] == order["clOrdId"]
    assert order["clOrdId"].startswith("spx")


async def test_order_that_never_reached_okx_is_not_placed_only_after_exptime(
    emulator: EmulatorState,
    emulator_url: str,
    tmp_path: Path,
    processes: Processes,
) -> None:
    """A timed-out order OKX never got is answered SPX801, concluded from a look-up after expTime."""
    emulator.faults.append(Fault(ORDER_PATH, "blackhole"))
    env = journal_env(emulator_url, tmp_path, SIGNPROXY_TIMEOUT="0.5", SIGNPROXY_EXPTIME_MS="1500")
    proxy = await processes.serve(env)
    status, headers, body = await post(proxy.url, ORDER_PATH, market(clOrdId="gone1"))
    assert (status, body["code"]) == (502, "SPX801")
    assert headers["X-Signproxy-Error"] == "SPX801"
    assert "may be sent again" in body["msg"]
    assert emulator.all_orders() == []
    (sent,) = posts(emulator, ORDER_PATH)
    exp_time = int(sent.headers["expTime"])
    lookups = [r for r in emulator.received if r.method == "GET" and "clOrdId=gone1" in r.target]
    assert lookups, "the proxy looked the order up"
    assert all(r.code == "51603" for r in lookups)
    last = datetime.fromisoformat(lookups[-1].headers["OK-ACCESS-TIMESTAMP"])
    assert last.timestamp() * 1000 > exp_time  # concluded from a look-up made after expTime


async def test_batch_with_one_item_placed_and_one_not(
    emulator: EmulatorState,
    emulator_url: str,
    tmp_path: Path,
    processes: Processes,
) -> None:
    """A batch whose connection dropped is resolved item by item: one placed, one not placed."""
    emulator.faults.append(Fault(BATCH_PATH, "drop"))
    refused = {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "clOrdId": "b2"}  # no sz
    env = journal_env(emulator_url, tmp_path, SIGNPROXY_EXPTIME_MS="1000")
    proxy = await processes.serve(env)
    status, headers, body = await post(proxy.url, BATCH_PATH, [market(clOrdId="b1"), refused])
    rows = await orders_command(processes, env)
    assert status == 200
    assert headers["X-Signproxy-Resolved"] == "partial"
    assert body["code"] == "2"
    first, second = body["data"]
    (order,) = emulator.all_orders()
    assert (first["clOrdId"], first["sCode"], first["ordId"]) == ("b1", "0", order["ordId"])
    assert (second["clOrdId"], second["sCode"]) == ("b2", "SPX801")
    assert {(r["cl_ord_id"], r["outcome"]) for r in rows} == {("b1", "ok"), ("b2", "not-placed")}


async def test_sigkill_between_intent_and_outcome_then_startup_resolves(
    emulator: EmulatorState,
    emulator_url: str,
    tmp_path: Path,
    processes: Processes,
) -> None:
    """SIGKILLed while OKX holds the order: listed unknown, settled at restart, the retry replayed."""
    emulator.faults.append(Fault(ORDER_PATH, "hold"))
    env = journal_env(emulator_url, tmp_path)
    proxy = await processes.serve(env)
    sending = asyncio.create_task(post(proxy.url, ORDER_PATH, market(clOrdId="kill1")))
    async with asyncio.timeout(10):
        while not emulator.all_orders():  # noqa: ASYNC110 - the emulator is in this loop
            await asyncio.sleep(0.02)
    await processes.stop(proxy, kill=True)
    with contextlib.suppress(aiohttp.ClientError):  # the bot lost its connection
        await sending
    unknown = await orders_command(processes, env, "--unknown")
    assert [(r["cl_ord_id"], r["state"]) for r in unknown] == [("kill1", "sent")]
    again: Served = await processes.serve(env)
    resolved = await again.wait_event("signproxy.journal_resolved")
    assert (resolved["placed"], resolved["unknown"]) == (1, 0)
    await asyncio.sleep(0.3)  # the outcome is queued to the journal's writer thread
    rows = await orders_command(processes, env, "--clordid", "kill1")
    left = await orders_command(processes, env, "--unknown")
    status, headers, retry = await post(again.url, ORDER_PATH, market(clOrdId="kill1"))
    (order,) = emulator.all_orders()
    assert (status, headers["X-Signproxy-Replayed"]) == (200, "1")  # the bot's retry: not sent
    assert retry["data"][0]["ordId"] == order["ordId"]
    assert len(posts(emulator, ORDER_PATH)) == 1
    assert [(r["outcome"], r["ord_id"], r["resolution"]) for r in rows] == [
        ("ok", order["ordId"], "placed")
    ]
    assert left == []


async def test_retry_on_a_second_proxy_sharing_redis_is_replayed(
    emulator: EmulatorState,
    emulator_url: str,
    tmp_path: Path,
    redis_url: str,
    processes: Processes,
) -> None:
    """Two proxies share Redis: a retry sent to the other one is answered from the first attempt."""
    env_a = journal_env(emulator_url, tmp_path / "a", SIGNPROXY_REDIS_URL=redis_url)
    env_b = journal_env(emulator_url, tmp_path / "b", SIGNPROXY_REDIS_URL=redis_url)
    first = await processes.serve(env_a)
    second = await processes.serve(env_b)
    _, _, placed = await post(first.url, ORDER_PATH, market(clOrdId="fleet1"))
    status, headers, replayed = await post(second.url, ORDER_PATH, market(clOrdId="fleet1"))
    _, _, conflict = await post(second.url, ORDER_PATH, market(clOrdId="fleet1", sz="2"))
    assert status == 200
    assert headers["X-Signproxy-Replayed"] == "1"
    assert replayed["data"][0]["ordId"] == placed["data"][0]["ordId"]
    assert len(posts(emulator, ORDER_PATH)) == 1
    assert len(emulator.all_orders()) == 1
    assert conflict["code"] == "SPX810"


async def test_a_retry_after_a_restart_is_answered_from_the_journal(
    emulator: EmulatorState,
    emulator_url: str,
    tmp_path: Path,
    processes: Processes,
) -> None:
    """The proxy restarts between an order and its retry: the retry is replayed, not sent."""
    env = journal_env(emulator_url, tmp_path)
    proxy = await processes.serve(env)
    _, _, placed = await post(proxy.url, ORDER_PATH, market(clOrdId="again1"))
    await asyncio.sleep(0.3)  # the outcome is queued to the journal's writer thread
    await processes.stop(proxy, kill=True)
    again = await processes.serve(env)
    status, headers, retry = await post(again.url, ORDER_PATH, market(clOrdId="again1"))
    assert (status, headers["X-Signproxy-Replayed"]) == (200, "1")
    assert retry["data"][0]["ordId"] == placed["data"][0]["ordId"]
    assert len(posts(emulator, ORDER_PATH)) == 1
    assert again.events("signproxy.dedup_restored")[0]["requests"] == 1
