"""The kill switch through real processes: ``signproxy halt``/``resume``/``status`` and ``serve``."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path
from typing import Any

import aiohttp

from signproxy.emulator import EmulatorState
from tests.support.keys import LIVE_KEY, env_for

OPERATOR = "fake0operator0token0for0tests01"
ORDER = {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "limit", "px": "1"}
LOGIN = {"op": "login", "args": [{"apiKey": "x", "passphrase": "x", "timestamp": "1", "sign": "x"}]}


def halt_env(emulator_url: str, state: Path, **extra: str) -> dict[str, str]:
    return env_for(
        LIVE_KEY,
        emulator_url,
        SIGNPROXY_OPERATOR_TOKENS=f"ops:{OPERATOR}",
        SIGNPROXY_STATE_DIR=str(state),
        SIGNPROXY_WS_UPSTREAM=emulator_url.replace("http://", "ws://"),
        **extra,
    )


CLI_ENV = {"SIGNPROXY_OPERATOR_TOKEN": OPERATOR}


async def post(session: aiohttp.ClientSession, url: str, body: Any) -> tuple[int, dict[str, Any]]:
    async with session.post(url, json=body) as resp:
        return resp.status, await resp.json()


async def test_halt_refuses_what_adds_exposure_and_lets_cancels_through(
    emulator: EmulatorState, emulator_url: str, processes, tmp_path: Path
) -> None:
    """While halted: place, batch, amend and algo orders get SPX850 over REST and WebSocket; cancels, reads and close-position pass; resume ends it."""
    served = await processes.serve(halt_env(emulator_url, tmp_path / "state"))
    api = served.url + "/api/v5/trade/"
    async with aiohttp.ClientSession() as session:
        _, placed = await post(session, api + "order", {**ORDER, "sz": "1"})
        first = placed["data"][0]["ordId"]
        _, placed = await post(session, api + "order", {**ORDER, "sz": "1"})
        second = placed["data"][0]["ordId"]
        code, out = await processes.command(
            "halt", "--reason", "fat finger", "--url", served.url, env=CLI_ENV
        )
        assert code == 0
        assert json.loads(out)["halted"] is True
        received = len(emulator.received)
        for path, body in (
            ("order", {**ORDER, "sz": "1"}),
            ("batch-orders", [{**ORDER, "sz": "1"}]),
            ("amend-order", {"instId": "BTC-USDT", "ordId": first, "newSz": "2"}),
            ("order-algo", {**ORDER, "sz": "1", "ordType": "conditional"}),
        ):
            status, answer = await post(session, api + path, body)
            assert (status, answer["code"]) == (403, "SPX850"), path
            assert "fat finger" in answer["msg"]
        assert len(emulator.received) == received  # nothing was forwarded
        status, answer = await post(
            session, api + "cancel-order", {"instId": "BTC-USDT", "ordId": first}
        )
        assert (status, answer["code"]) == (200, "0")
        status, answer = await post(
            session, api + "close-position", {"instId": "BTC-USDT-SWAP", "mgnMode": "cross"}
        )
        assert (status, answer["code"]) == (200, "0")
        async with session.get(api + "orders-pending") as resp:
            assert resp.status == 200
        async with session.ws_connect(served.url + "/ws/v5/private") as ws:
            await ws.send_json(LOGIN)
            assert (await ws.receive_json())["code"] == "0"
            await ws.send_json({"id": "w1", "op": "order", "args": [{**ORDER, "sz": "1"}]})
            refused = await ws.receive_json()
            assert (refused["id"], refused["code"]) == ("w1", "SPX850")
            await ws.send_json(
                {
                    "id": "w2",
                    "op": "cancel-order",
                    "args": [{"instId": "BTC-USDT", "ordId": second}],
                }
            )
            cancelled = await ws.receive_json()
            assert (cancelled["id"], cancelled["code"]) == ("w2", "0")
        code, out = await processes.command("status", "--url", served.url, env=CLI_ENV)
        assert code == 0
        assert json.loads(out)["reason"] == "fat finger"
        code, out = await processes.command("resume", "--url", served.url, env=CLI_ENV)
        assert (code, json.loads(out)["halted"]) == (0, False)
        status, answer = await post(session, api + "order", {**ORDER, "sz": "1"})
        assert (status, answer["code"]) == (200, "0")
    assert [line["reason"] for line in served.events("signproxy.halted")] == ["fat finger"]
    assert served.events("signproxy.resumed")


async def test_a_restarted_proxy_is_still_halted(
    emulator: EmulatorState, emulator_url: str, processes, tmp_path: Path
) -> None:
    """The halt is kept in SIGNPROXY_STATE_DIR: a proxy started again refuses orders until resumed."""
    env = halt_env(emulator_url, tmp_path / "state")
    served = await processes.serve(env)
    code, _ = await processes.command(
        "halt", "--reason", "incident 7", "--url", served.url, env=CLI_ENV
    )
    assert code == 0
    assert await processes.stop(served) == 0
    again = await processes.serve(env)
    assert again.events("signproxy.halt_restored")[0]["reason"] == "incident 7"
    async with aiohttp.ClientSession() as session:
        status, answer = await post(
            session, again.url + "/api/v5/trade/order", {**ORDER, "sz": "1"}
        )
    assert (status, answer["code"]) == (403, "SPX850")
    assert not [r for r in emulator.received if r.target == "/api/v5/trade/order"]


async def test_cancel_open_empties_a_book_of_150_orders_within_okx_limits(
    emulator: EmulatorState, emulator_url: str, processes, tmp_path: Path
) -> None:
    """Halt --cancel-open pages through 150 pending orders and 3 algo orders and cancels them all, in batches of at most 20 (algos 10), never over OKX's rates."""
    book = emulator.book_for(LIVE_KEY.api_key)
    for index in range(150):
        book.place({**ORDER, "sz": "1", "instId": "BTC-USDT" if index % 3 else "ETH-USDT"}, 0)
    served = await processes.serve(halt_env(emulator_url, tmp_path / "state"))
    async with aiohttp.ClientSession() as session:
        for _ in range(3):
            body = {**ORDER, "sz": "1", "ordType": "conditional", "slTriggerPx": "0.5"}
            _, answer = await post(session, served.url + "/api/v5/trade/order-algo", body)
            assert answer["code"] == "0"
    code, out = await processes.command("halt", "--cancel-open", "--url", served.url, env=CLI_ENV)
    assert code == 0
    report = json.loads(out)["cancel_open"]["default"]
    assert report == {
        "orders_cancelled": 150,
        "algos_cancelled": 3,
        "not_cancelled": 0,
        "failures": [],
        "errors": [],
    }
    assert not [o for o in book.orders.values() if o["state"] == "live"]
    assert not [a for a in book.algos.values() if a["state"] == "live"]
    calls = [r for r in emulator.received if r.target.startswith("/api/v5/trade/")]
    assert all(r.code == "0" for r in calls)  # OKX's 50011 never came back
    cancels = [r for r in calls if r.target == "/api/v5/trade/cancel-batch-orders"]
    assert max(len(json.loads(r.body)) for r in cancels) == 20
    assert all(len(json.loads(r.body)) <= 10 for r in calls if r.target.endswith("cancel-algos"))
    listings = [r for r in calls if r.target.startswith("/api/v5/trade/orders-pending")]
    assert any("after=" in r.target for r in listings)  # paged
    for start in calls:  # in every 2 s window: OKX's limits
        window = [r for r in calls if start.at <= r.at < start.at + 2.0]
        per_instrument: dict[str, int] = {}
        for r in window:
            if r in cancels:
                for item in json.loads(r.body):
                    per_instrument[item["instId"]] = per_instrument.get(item["instId"], 0) + 1
        assert max(per_instrument.values(), default=0) <= 300
        assert sum(1 for r in window if r in listings) <= 60
        assert sum(1 for r in window if r.target.endswith("cancel-algos")) <= 20


async def test_the_cli_fails_without_a_valid_operator_token(
    emulator_url: str, processes, tmp_path: Path
) -> None:
    """The CLI fails (exit 1) when the proxy refuses its token, and 2 without a token at all."""
    served = await processes.serve(halt_env(emulator_url, tmp_path / "state"))
    code, out = await processes.command(
        "halt", "--url", served.url, env={"SIGNPROXY_OPERATOR_TOKEN": "x" * 32}
    )
    assert code == 1
    assert json.loads(out)["code"] == "SPX852"
    code, _ = await processes.command("halt", "--url", served.url, env={})
    assert code == 2


async def test_a_halt_reaches_every_worker(emulator_url: str, processes, tmp_path: Path) -> None:
    """With SIGNPROXY_WORKERS=2 a halt answered by one worker refuses orders on fresh connections to either."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = halt_env(emulator_url, tmp_path / "state", SIGNPROXY_WORKERS="2")
    served = await processes.serve(env, port=port)
    async with asyncio.timeout(20):
        while len(served.events("signproxy.listening")) < 2:  # noqa: ASYNC110 - log lines
            await asyncio.sleep(0.05)
    code, _ = await processes.command("halt", "--url", served.url, env=CLI_ENV)
    assert code == 0
    await asyncio.sleep(1.0)  # the workers poll the state file every 0.25 s
    codes = set()
    for _ in range(20):  # a new connection each time: the kernel spreads them over the workers
        connector = aiohttp.TCPConnector(force_close=True)
        async with aiohttp.ClientSession(connector=connector) as session:
            _, answer = await post(
                session, served.url + "/api/v5/trade/order", {**ORDER, "sz": "1"}
            )
            codes.add(answer["code"])
    assert codes == {"SPX850"}
    assert len({line["pid"] for line in served.events("signproxy.listening")}) == 2
