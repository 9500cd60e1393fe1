"""The rate-budget stage against the emulator (which enforces OKX's limits): wait, 429, back-off."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import pytest

from signproxy.emulator import EMULATOR, create_emulator_app
from signproxy.okx.signing import Signer, iso_timestamp
from signproxy.proxy.app import create_app
from signproxy.settings.config import Settings
from tests.conftest import Harness
from tests.support.keys import LIVE_KEY, env_for

BALANCE = "/api/v5/account/balance"  # 10 per 2 s per account
PLACE = "/api/v5/trade/order"  # 60 per 2 s per account + instrument


@pytest.fixture
async def okx(aiohttp_server):
    """An emulator that enforces OKX's rate limits: (its state, its URL)."""
    server = await aiohttp_server(create_emulator_app([LIVE_KEY]))
    return server.app[EMULATOR], str(server.make_url("")).rstrip("/")


@pytest.fixture
async def limited(okx, serve_proxy, log_output):  # noqa: ARG001 - logs configured first
    """Make a proxy (rate limits on) in front of the limiting emulator."""
    state, url = okx
    async with aiohttp.ClientSession() as session:

        async def make(**env: str) -> Harness:
            # De-duplication off: these tests reuse clOrdIds across instruments (o0 on BTC and
            # ETH), which the exactly-once stage would refuse as a conflict (SPX810).
            rates = {"SIGNPROXY_RATE_LIMITS": "on", "SIGNPROXY_DEDUP_WINDOW": "0"}
            variables = env_for(LIVE_KEY, url, **{**rates, **env})
            server = await serve_proxy(create_app(Settings.from_env(variables)))
            return Harness(state, server, session)

        yield make


def _order(inst="BTC-USDT", n=0):
    return json.dumps(
        {"instId": inst, "tdMode": "cash", "side": "buy", "ordType": "limit", "px": "1", "sz": "1",
         "clOrdId": f"o{n}"}
    )  # fmt: skip


def _sent(emulator, path):
    return [r for r in emulator.received if r.target.split("?")[0] == path]


async def test_over_budget_is_refused_with_429_and_never_forwarded(limited):
    """The 11th balance call in 2 s waits, then gets 429 SPX400 with Retry-After; OKX never sees it."""
    proxy = await limited(SIGNPROXY_RATE_MAX_WAIT_MS="0")
    replies = [await proxy.get(BALANCE) for _ in range(11)]
    assert [r.status for r in replies[:10]] == [200] * 10
    refused = replies[10]
    assert refused.status == 429
    body = refused.json()
    assert body["code"] == "SPX400"
    assert "GET account/balance" in body["msg"]
    assert "10 per 2 s" in body["msg"]
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["X-Signproxy-Error"] == "SPX400"
    assert len(_sent(proxy.emulator, BALANCE)) == 10
    assert all(r.code == "0" for r in proxy.emulator.received)
    metrics = (await proxy.get("/-/metrics")).body.decode()
    assert 'signproxy_rate_refusals_total{code="SPX400",group="GET account/balance"} 1.0' in metrics
    assert 'signproxy_rate_remaining{group="GET account/balance"} 0.0' in metrics


async def test_a_request_waits_for_its_slot_within_the_max_wait(limited, log_output):
    """With room coming within SIGNPROXY_RATE_MAX_WAIT_MS, the request waits and goes through."""
    proxy = await limited(SIGNPROXY_RATE_MAX_WAIT_MS="3000")
    replies = await asyncio.gather(*(proxy.get(BALANCE) for _ in range(12)))
    assert [r.status for r in replies] == [200] * 12
    assert all(r.code == "0" for r in _sent(proxy.emulator, BALANCE))
    lines = [json.loads(line) for line in log_output.getvalue().splitlines()]
    waited = [
        line for line in lines if line.get("event") == "signproxy.request" and "waited_ms" in line
    ]
    assert len(waited) == 2
    metrics = (await proxy.get("/-/metrics")).body.decode()
    assert 'signproxy_rate_waits_total{group="GET account/balance"} 2.0' in metrics
    assert all(line["waited_ms"] > 0 for line in waited)


async def test_the_client_may_lower_the_wait_but_not_raise_it(limited):
    """X-Signproxy-Max-Wait-Ms lowers the wait to 0 (refused at once); a malformed one is 400."""
    proxy = await limited(SIGNPROXY_RATE_MAX_WAIT_MS="3000")
    for _ in range(10):
        assert (await proxy.get(BALANCE)).status == 200
    refused = await proxy.get(BALANCE, headers={"X-Signproxy-Max-Wait-Ms": "0"})
    assert refused.status == 429
    bad = await proxy.get(BALANCE, headers={"X-Signproxy-Max-Wait-Ms": "soon"})
    assert bad.status == 400
    assert bad.json()["code"] == "SPX403"


async def test_instruments_and_actions_have_budgets_of_their_own(limited):
    """60 places on BTC-USDT fill its budget; ETH-USDT places and BTC-USDT cancels still pass."""
    proxy = await limited(SIGNPROXY_RATE_MAX_WAIT_MS="0")
    replies = await asyncio.gather(*(proxy.post(PLACE, _order(n=n)) for n in range(60)))
    assert {r.status for r in replies} == {200}
    refused = await proxy.post(PLACE, _order(n=99))
    assert refused.status == 429
    assert "POST trade/order for BTC-USDT: 60 per 2 s" in refused.json()["msg"]
    assert (await proxy.post(PLACE, _order("ETH-USDT"))).status == 200
    cancel = json.dumps({"instId": "BTC-USDT", "clOrdId": "o1"})
    assert (await proxy.post("/api/v5/trade/cancel-order", cancel)).json()["code"] == "0"


async def test_okx_50011_puts_the_budget_on_hold(limited, okx, log_output):
    """When OKX answers 50011 (a bot outside the proxy used the budget), the proxy holds it."""
    proxy = await limited(SIGNPROXY_RATE_MAX_WAIT_MS="0")
    _, url = okx
    async with aiohttp.ClientSession() as outside:  # another bot, signing on its own
        for _ in range(10):
            timestamp = iso_timestamp(int(time.time() * 1000))
            headers = {
                "OK-ACCESS-KEY": LIVE_KEY.api_key,
                "OK-ACCESS-PASSPHRASE": LIVE_KEY.passphrase,
                "OK-ACCESS-TIMESTAMP": timestamp,
                "OK-ACCESS-SIGN": Signer(LIVE_KEY.secret).sign_request(
                    timestamp, "GET", BALANCE, b""
                ),
            }
            async with outside.get(url + BALANCE, headers=headers) as reply:
                assert reply.status == 200
    answered = await proxy.get(BALANCE)
    assert answered.status == 429
    assert answered.json()["code"] == "50011"  # OKX's own answer, relayed
    for _ in range(100):  # bounded: the hold is taken when the outcome is recorded
        if "signproxy.rate_backoff" in log_output.getvalue():
            break
        await asyncio.sleep(0.01)
    held = await proxy.get(BALANCE)
    assert held.status == 429
    assert held.json()["code"] == "SPX401"
    assert "Retry-After" in held.headers
    assert len(_sent(proxy.emulator, BALANCE)) == 11
    line = next(
        json.loads(text)
        for text in log_output.getvalue().splitlines()
        if "signproxy.rate_backoff" in text
    )
    assert line["okx_code"] == "50011"
    assert "GET account/balance" in line["budget"]


async def test_rate_limits_off_forwards_everything(limited):
    """SIGNPROXY_RATE_LIMITS=off: the proxy does not count; OKX's own 50011 reaches the bot."""
    proxy = await limited(SIGNPROXY_RATE_LIMITS="off")
    replies = [await proxy.get(BALANCE) for _ in range(11)]
    assert [r.status for r in replies[:10]] == [200] * 10
    assert replies[10].json()["code"] == "50011"
    assert len(_sent(proxy.emulator, BALANCE)) == 11


async def test_unlisted_endpoints_are_not_limited_but_counted(limited):
    """An endpoint the table lacks is forwarded unlimited and counted in a metric."""
    proxy = await limited()
    for _ in range(3):
        assert (await proxy.get("/api/v5/users/subaccount/list")).status == 200
    metrics = (await proxy.get("/-/metrics")).body.decode()
    assert 'signproxy_rate_unlimited_total{route="/api/v5/users/subaccount/list"} 3.0' in metrics


async def test_acc_rate_limit_sets_the_sub_account_limit(limited, okx):
    """The accRateLimit OKX reports at start becomes the account's new + amend limit."""
    state, _ = okx
    # OKX's tiers start at 1000; the emulator reports 3 to keep the test short.
    state.limits.acc_rate_limits[LIVE_KEY.api_key] = 3
    proxy = await limited(SIGNPROXY_RATE_MAX_WAIT_MS="0")
    for _ in range(200):  # bounded: the read at start runs in the background
        if _sent(state, "/api/v5/trade/account-rate-limit"):
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)  # its answer is applied
    for n, inst in enumerate(("BTC-USDT", "ETH-USDT", "SOL-USDT")):
        assert (await proxy.post(PLACE, _order(inst, n))).status == 200
    refused = await proxy.post(PLACE, _order("XRP-USDT", 9))
    assert refused.status == 429
    assert "sub-account new+amend: 3 per 2 s" in refused.json()["msg"]


async def test_websocket_ops_share_the_rest_budget_and_stay_connected(okx, serve_proxy, log_output):  # noqa: ARG001
    """60 WebSocket places fill the budget REST shares; the 61st op gets SPX400, the socket stays open."""
    state, url = okx
    host = url.removeprefix("http://")
    env = env_for(
        LIVE_KEY,
        url,
        SIGNPROXY_RATE_LIMITS="on",
        SIGNPROXY_WS_UPSTREAM=f"ws://{host}",
        SIGNPROXY_WS_AUTO_LOGIN="1",
    )
    server = await serve_proxy(create_app(Settings.from_env(env)))
    base = str(server.make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as session:
        socket = await session.ws_connect(
            base + "/ws/v5/private", headers={"X-Signproxy-Max-Wait-Ms": "0"}
        )
        assert json.loads((await socket.receive(timeout=10)).data)["event"] == "login"
        answers = {}
        for n in range(61):
            order = json.loads(_order(n=n))
            await socket.send_str(json.dumps({"id": f"w{n}", "op": "order", "args": [order]}))
        while len(answers) < 61:
            frame = json.loads((await socket.receive(timeout=10)).data)
            answers[frame["id"]] = frame
        assert [answers[f"w{n}"]["code"] for n in range(60)] == ["0"] * 60
        refused = answers["w60"]
        assert refused["code"] == "SPX400"
        assert refused["op"] == "order"
        assert "POST trade/order for BTC-USDT: 60 per 2 s" in refused["msg"]
        async with session.post(
            base + PLACE, data=_order(n=99), headers={"Content-Type": "application/json"}
        ) as reply:
            assert reply.status == 429  # the REST twin draws on the same budget
        cancel = {
            "id": "c1",
            "op": "cancel-order",
            "args": [{"instId": "BTC-USDT", "clOrdId": "o1"}],
        }
        await socket.send_str(json.dumps(cancel))
        assert json.loads((await socket.receive(timeout=10)).data)["code"] == "0"
        assert not socket.closed
        await socket.close()
    assert len([op for op in state.ws_ops if op.target == "order"]) == 60
