"""A fleet of real proxies sharing a real Redis: a halt on one reaches the others."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp

from tests.support.keys import LIVE_KEY, env_for
from tests.support.redis_server import RedisServer

OPERATOR = "fake0operator0token0for0tests01"
ORDER = {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "limit", "px": "1"}
CLI_ENV = {"SIGNPROXY_OPERATOR_TOKEN": OPERATOR}
PROMISE_S = 1.0  # a halt or resume reaches every proxy of the fleet within one second


def fleet_env(emulator_url: str, redis_url: str, state: Path) -> dict[str, str]:
    return env_for(
        LIVE_KEY,
        emulator_url,
        SIGNPROXY_OPERATOR_TOKENS=f"ops:{OPERATOR}",
        SIGNPROXY_STATE_DIR=str(state),
        SIGNPROXY_REDIS_URL=redis_url,
    )


async def place(url: str) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url + "/api/v5/trade/order", json={**ORDER, "sz": "1"}) as resp,
    ):
        return await resp.json()


async def test_a_halt_on_one_proxy_refuses_orders_on_another_within_a_second(
    emulator_url: str, redis_url: str, processes, tmp_path: Path
) -> None:
    """Proxy A is halted by the CLI; a second later proxy B refuses orders too; a resume on B frees A."""
    first = await processes.serve(fleet_env(emulator_url, redis_url, tmp_path / "a"))
    second = await processes.serve(fleet_env(emulator_url, redis_url, tmp_path / "b"))
    assert (await place(second.url))["code"] == "0"
    code, _ = await processes.command("halt", "--reason", "drill", "--url", first.url, env=CLI_ENV)
    assert code == 0
    await asyncio.sleep(PROMISE_S)
    refused = await place(second.url)
    assert refused["code"] == "SPX850"
    assert "drill" in refused["msg"]
    assert second.events("signproxy.halted")[0]["source"] == "redis"
    code, _ = await processes.command("resume", "--url", second.url, env=CLI_ENV)
    assert code == 0
    await asyncio.sleep(PROMISE_S)
    assert (await place(first.url))["code"] == "0"


async def test_a_proxy_that_loses_redis_keeps_its_last_state(
    emulator_url: str, redis_control: RedisServer, processes, tmp_path: Path
) -> None:
    """Halted, then Redis goes away: the proxy stays halted, and a halt made meanwhile reaches Redis once it is back."""
    env = fleet_env(emulator_url, redis_control.url, tmp_path / "a")
    first = await processes.serve(env)
    second = await processes.serve(fleet_env(emulator_url, redis_control.url, tmp_path / "b"))
    code, _ = await processes.command("halt", "--reason", "one", "--url", first.url, env=CLI_ENV)
    assert code == 0
    await asyncio.sleep(PROMISE_S)
    redis_control.stop()
    await first.wait_event("signproxy.halt_shared_unreachable")
    await asyncio.sleep(PROMISE_S)
    assert (await place(first.url))["code"] == "SPX850"
    assert (await place(second.url))["code"] == "SPX850"
    code, _ = await processes.command("resume", "--url", first.url, env=CLI_ENV)
    assert code == 0  # kept locally while Redis is away
    assert (await place(first.url))["code"] == "0"
    assert (await place(second.url))["code"] == "SPX850"  # B cannot know yet: it stays halted
    redis_control.start()
    await first.wait_event("signproxy.halt_shared_reachable")
    await second.wait_event("signproxy.resumed")
    assert (await place(second.url))["code"] == "0"
