"""Guardrails: each rule refuses what it must and passes what it must, over REST and WebSocket."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from signproxy.errors import ConfigError
from signproxy.switches.rules import parse_rules
from tests.support.keys import LIVE_KEY, env_for
from tests.support.paths import ROOT

BOT = "fake0client0token0for0tests0001"
OTHER = "fake0client0token0for0tests0002"
FAST = "fake0client0token0for0tests0003"
RULES = """
[[rule]]
name = "allowed"
tokens = ["bot", "fast"]
instruments = ["BTC-USDT", "ETH-USDT", "*-USDT-SWAP"]

[[rule]]
name = "sizes"
[rule.max_size]
"BTC-USDT" = "0.5"
"*" = 100

[[rule]]
name = "notional"
accounts = ["default"]
max_notional = 1000

[[rule]]
name = "derivatives"
reduce_only = true

[[rule]]
name = "rate"
tokens = ["fast"]
max_orders_per_minute = 3
"""
SPOT = {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "limit", "px": "1"}
SWAP = {**SPOT, "instId": "BTC-USDT-SWAP", "tdMode": "cross", "sz": "5", "px": "90000"}


@pytest.fixture
async def guarded(make_proxy, tmp_path: Path):
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES)
    return await make_proxy(
        SIGNPROXY_RULES_FILE=str(rules),
        SIGNPROXY_CLIENT_TOKENS=f"bot:{BOT},other:{OTHER},fast:{FAST}",
    )


async def send(proxy, path: str, body: Any, token: str = BOT) -> tuple[int, dict[str, Any]]:
    reply = await proxy.post(
        "/api/v5/trade/" + path, json.dumps(body), headers={"Authorization": f"Bearer {token}"}
    )
    return reply.status, reply.json()


@pytest.mark.parametrize(
    ("path", "body", "code", "words"),
    [
        ("order", {**SPOT, "instId": "SOL-USDT", "sz": "1"}, "SPX861", "'allowed'"),
        ("order", {**SPOT, "sz": "0.6"}, "SPX862", "max_size 0.5 (pattern BTC-USDT)"),
        ("order", {**SPOT, "instId": "ETH-USDT", "sz": "200"}, "SPX862", "(pattern *)"),
        ("order", {**SPOT, "instId": "ETH-USDT", "sz": "2", "px": "501"}, "SPX863", "1002"),
        ("order", SWAP, "SPX864", "reduceOnly"),
        ("order", {**SPOT, "sz": "abc"}, "SPX866", "no numeric sz"),
        ("order-algo", {**SPOT, "instId": "SOL-USDT", "sz": "1"}, "SPX861", "SOL-USDT"),
        ("amend-order", {"instId": "BTC-USDT", "ordId": "1", "newSz": "9"}, "SPX862", "newSz 9"),
        (
            "batch-orders",
            [{**SPOT, "sz": "0.1"}, {**SPOT, "sz": "0.1"}, {**SPOT, "sz": "0.9"}],
            "SPX862",
            "order 2 (BTC-USDT)",
        ),
    ],
)
async def test_each_guardrail_refuses_what_it_must(guarded, path, body, code, words) -> None:
    """An order over a limit is refused with the rule's code, naming rule, limit and order; nothing is forwarded."""
    status, answer = await send(guarded, path, body)
    assert (status, answer["code"]) == (403, code)
    assert words in answer["msg"]
    assert "guardrail rule" in answer["msg"]
    assert not guarded.emulator.received


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("order", {**SPOT, "sz": "0.5"}),
        ("order", {**SPOT, "instId": "ETH-USDT", "sz": "2", "px": "500"}),
        ("order", {**SPOT, "instId": "ETH-USDT", "sz": "2", "ordType": "market", "px": ""}),
        ("order", {**SWAP, "reduceOnly": True}),  # contracts x price is no notional: not judged
        ("order", {**SWAP, "reduceOnly": "true"}),
        ("amend-order", {"instId": "BTC-USDT", "ordId": "1", "newPx": "2"}),
        ("batch-orders", [{**SPOT, "sz": "0.1"}, {**SPOT, "instId": "ETH-USDT", "sz": "1"}]),
        ("cancel-order", {"instId": "SOL-USDT", "ordId": "1"}),
        ("close-position", {"instId": "DOGE-USDT-SWAP", "mgnMode": "cross"}),
    ],
)
async def test_each_guardrail_passes_what_it_must(guarded, path, body) -> None:
    """Orders within every limit, cancels and close-position reach OKX."""
    status, answer = await send(guarded, path, body)
    assert status == 200, answer
    assert len(guarded.emulator.received) == 1


async def test_rules_apply_by_token(guarded) -> None:
    """A rule for some tokens does not bind another: 'other' may trade SOL-USDT, 'bot' may not."""
    assert (await send(guarded, "order", {**SPOT, "instId": "SOL-USDT", "sz": "1"}, OTHER))[
        0
    ] == 200
    assert (await send(guarded, "order", {**SPOT, "instId": "SOL-USDT", "sz": "1"}))[0] == 403


async def test_the_order_rate_is_limited_per_token(guarded) -> None:
    """max_orders_per_minute counts each placed order of the token; a batch that would pass it is refused whole; cancels and other tokens are not counted."""
    assert (await send(guarded, "batch-orders", [{**SPOT, "sz": "0.1"}] * 2, FAST))[0] == 200
    assert (await send(guarded, "cancel-order", {"instId": "BTC-USDT", "ordId": "1"}, FAST))[
        0
    ] == 200
    status, answer = await send(guarded, "batch-orders", [{**SPOT, "sz": "0.1"}] * 2, FAST)
    assert (status, answer["code"]) == (429, "SPX865")
    assert "max_orders_per_minute 3" in answer["msg"]
    assert (await send(guarded, "order", {**SPOT, "sz": "0.1"}, FAST))[0] == 200
    assert (await send(guarded, "order", {**SPOT, "sz": "0.1"}, FAST))[1]["code"] == "SPX865"
    assert (await send(guarded, "order", {**SPOT, "sz": "0.1"}, BOT))[0] == 200


async def test_websocket_order_ops_pass_the_guardrails(make_proxy, emulator_url, tmp_path) -> None:
    """An order op over a limit gets the rule's code as an op error with its id; a good one reaches OKX."""
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES)
    proxy = await make_proxy(
        SIGNPROXY_RULES_FILE=str(rules),
        SIGNPROXY_CLIENT_TOKENS=f"bot:{BOT}",
        SIGNPROXY_WS_UPSTREAM=emulator_url.replace("http://", "ws://"),
    )
    headers = {"Authorization": f"Bearer {BOT}"}
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(proxy.base + "/ws/v5/private", headers=headers) as ws,
    ):
        login = {"apiKey": "x", "passphrase": "x", "timestamp": "1", "sign": "x"}
        await ws.send_json({"op": "login", "args": [login]})
        assert (await ws.receive_json())["code"] == "0"
        batch = [{**SPOT, "sz": "0.1"}, {**SPOT, "sz": "0.7"}]
        await ws.send_json({"id": "b1", "op": "batch-orders", "args": batch})
        refused = await ws.receive_json()
        assert (refused["id"], refused["code"]) == ("b1", "SPX862")
        assert "order 1 (BTC-USDT)" in refused["msg"]
        await ws.send_json({"id": "o1", "op": "order", "args": [{**SPOT, "sz": "0.2"}]})
        placed = await ws.receive_json()
        assert (placed["id"], placed["code"]) == ("o1", "0")
    assert len(proxy.emulator.all_orders()) == 1


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[[rule]]\nmax_sz = 1", "unknown key 'max_sz'"),
        ("[[rule]]\nname = 'a'\n[[rule]]\nname = 'a'", "used twice"),
        ("[[rule]]\nmax_notional = -1", "positive number"),
        ("[[rule]]\nmax_orders_per_minute = 0", ">= 1"),
        ("[[rule]]\nreduce_only = 'yes'", "true or false"),
        ("[[rule]]\ninstruments = 'BTC-USDT'", "list of glob patterns"),
        ("[[rule]]\n[rule.max_size]\n'BTC USDT' = 1", "a pattern is"),
        ("[limits]\nx = 1", "unknown top-level key"),
        ("[[rule]\n", "not valid TOML"),
    ],
)
def test_a_bad_rules_file_is_a_configuration_error(text, problem) -> None:
    """A typo in the rules never switches a limit off silently: the file is refused."""
    with pytest.raises(ConfigError, match="SIGNPROXY_RULES_FILE") as caught:
        parse_rules(text, "SIGNPROXY_RULES_FILE")
    assert problem in caught.value.message


def test_the_example_rules_file_is_valid() -> None:
    """examples/rules.toml parses."""
    example = ROOT / "examples" / "rules.toml"
    rules = parse_rules(example.read_text(), "SIGNPROXY_RULES_FILE")
    assert rules.rules


async def test_rules_are_reloaded_and_a_bad_file_keeps_the_old_ones(
    emulator_url, processes, tmp_path
) -> None:
    """SIGHUP reloads the rules file; a broken file is a reload failure and the old rules stay."""
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rule]]\nname = "only-btc"\ninstruments = ["BTC-USDT"]\n')
    served = await processes.serve(
        env_for(
            LIVE_KEY, emulator_url, SIGNPROXY_RULES_FILE=str(rules), SIGNPROXY_WATCH_INTERVAL="0"
        )
    )
    eth = {**SPOT, "instId": "ETH-USDT", "sz": "1"}

    async def place() -> str:
        async with (
            aiohttp.ClientSession() as session,
            session.post(served.url + "/api/v5/trade/order", json=eth) as resp,
        ):
            return (await resp.json())["code"]

    assert await place() == "SPX861"
    rules.write_text('[[rule]]\nname = "majors"\ninstruments = ["BTC-USDT", "ETH-USDT"]\n')
    served.process.send_signal(signal.SIGHUP)
    await served.wait_event("signproxy.reloaded")
    assert await place() == "0"
    rules.write_text("[[rule]\n")
    served.process.send_signal(signal.SIGHUP)
    failed = await served.wait_event("signproxy.reload_failed")
    assert failed["variable"] == "SIGNPROXY_RULES_FILE"
    assert await place() == "0"
