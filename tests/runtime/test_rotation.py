"""Key rotation under load, against a real `signproxy serve` subprocess and the verifying emulator.

Concurrent clients send a steady stream of orders and balance reads while the account's `_FILE`
secrets are replaced and the proxy gets SIGHUP (first with a broken file, then with a new key).
The emulator knows both the old and the new key and verifies every request, so an answer of
code 0 means the request was signed entirely with one key. Bounded: each phase lasts a fixed
short time and every wait has a timeout.
"""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from signproxy.emulator import EMULATOR, EmulatedKey, create_emulator_app
from tests.runtime.test_reload import NEW_KEY, Files
from tests.support.processes import cli_env as clean_env
from tests.support.processes import start as start_process

OLD_KEY = EmulatedKey(
    api_key="fake-old-key-0004",
    secret="FAKE0SECRET0OLD0NOT0REAL00000004",
    passphrase="fake-pass-old-04",
)
WORKERS = 8
PHASE_SECONDS = 0.4
MAX_REQUESTS_PER_WORKER = 2000
TIMEOUT = 30.0


@dataclass
class Proxy:
    """A running `signproxy serve` whose output is read continuously (so it never blocks)."""

    process: asyncio.subprocess.Process
    lines: list[dict] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)
    url: str = ""

    async def read(self, listening: asyncio.Event) -> None:
        """Collect every output line; set ``listening`` with the listening line."""
        assert self.process.stdout is not None
        while line := await self.process.stdout.readline():
            text = line.decode()
            self.raw.append(text)
            entry = json.loads(text)
            self.lines.append(entry)
            if entry["event"] == "signproxy.listening":
                self.url = entry["url"]
                listening.set()

    async def wait_for(self, event: str, count: int = 1) -> dict:
        """Wait (bounded) for the ``count``-th log line with ``event``."""
        async with asyncio.timeout(TIMEOUT):
            while True:
                found = [line for line in self.lines if line["event"] == event]
                if len(found) >= count:
                    return found[count - 1]
                assert self.process.returncode is None, self.lines
                await asyncio.sleep(0.01)


@dataclass
class Load:
    """Clients sending orders and reads until told to stop; what they sent and got."""

    stop: asyncio.Event = field(default_factory=asyncio.Event)
    after_reload: bool = False
    answers: list[tuple[int, str]] = field(default_factory=list)
    new_key_orders: set[str] = field(default_factory=set)

    async def worker(self, session: aiohttp.ClientSession, url: str, number: int) -> None:
        """Alternate orders (with a slow body) and balance reads until stopped."""
        for count in range(MAX_REQUESTS_PER_WORKER):
            if self.stop.is_set():
                return
            started_after_reload = self.after_reload
            if count % 2:
                async with session.get(url + "/api/v5/account/balance?ccy=USDT") as resp:
                    self.answers.append((resp.status, (await resp.json())["code"]))
                continue
            cl_ord_id = f"w{number}n{count}"
            order = {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "limit"}
            order |= {"px": "1", "sz": "1", "clOrdId": cl_ord_id}
            async with session.post(
                url + "/api/v5/trade/order",
                data=_slowly(json.dumps(order).encode()),
                headers={"Content-Type": "application/json"},
            ) as resp:
                self.answers.append((resp.status, (await resp.json())["code"]))
            if started_after_reload:
                self.new_key_orders.add(cl_ord_id)


async def _slowly(body: bytes) -> AsyncIterator[bytes]:
    # The body arrives in two parts, so the proxy holds the request (and the account it took)
    # across an await: many requests are mid-way when the reload happens.
    yield body[:10]
    await asyncio.sleep(0.01)
    yield body[10:]


async def test_rotation_under_load_never_fails_or_mixes_keys(aiohttp_server, tmp_path: Path):
    """SIGHUP after the _FILE secrets change: no request fails, each is signed wholly with the old or the new key."""
    emulator_server = await aiohttp_server(
        create_emulator_app([OLD_KEY, NEW_KEY], rate_limits=False)
    )
    emulator = emulator_server.app[EMULATOR]
    files = Files(tmp_path)
    files.write(OLD_KEY)
    env = clean_env(
        **{
            **files.env,
            "SIGNPROXY_UPSTREAM": str(emulator_server.make_url("")).rstrip("/"),
            "SIGNPROXY_ALLOW_CUSTOM_UPSTREAM": "1",
            # Only SIGHUP reloads here, at the moments the test picks.
            "SIGNPROXY_WATCH_INTERVAL": "0",
            # The emulator counts every request; the clock sync would add its own time requests.
            "SIGNPROXY_CLOCK_SYNC_INTERVAL": "0",
            # A steady load far over OKX's limits: this test is about keys, not rate budgets.
            "SIGNPROXY_RATE_LIMITS": "off",
        }
    )
    process = await start_process("serve", "--port", "0", env=env)
    proxy = Proxy(process)
    listening = asyncio.Event()
    reader = asyncio.create_task(proxy.read(listening))
    load = Load()
    try:
        await asyncio.wait_for(listening.wait(), TIMEOUT)
        async with aiohttp.ClientSession() as session:
            workers = [
                asyncio.create_task(load.worker(session, proxy.url, number))
                for number in range(WORKERS)
            ]
            await asyncio.sleep(PHASE_SECONDS)
            # A broken rotation first: the reload fails and the old key keeps working.
            (tmp_path / "api_secret").write_text("")
            process.send_signal(signal.SIGHUP)
            await proxy.wait_for("signproxy.reload_failed")
            await asyncio.sleep(PHASE_SECONDS)
            files.write(NEW_KEY)
            process.send_signal(signal.SIGHUP)
            await proxy.wait_for("signproxy.reloaded")
            load.after_reload = True
            await asyncio.sleep(PHASE_SECONDS)
            load.stop.set()
            await asyncio.wait_for(asyncio.gather(*workers), TIMEOUT)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), TIMEOUT)
        await asyncio.wait_for(reader, TIMEOUT)
    assert process.returncode == 0

    assert len(load.answers) > 4 * WORKERS, "the load was not steady"
    assert all(answer == (200, "0") for answer in load.answers), set(load.answers)
    received = emulator.received
    assert len(received) == len(load.answers)
    assert all((seen.status, seen.code) == (200, "0") for seen in received)
    keys = [seen.headers["OK-ACCESS-KEY"] for seen in received]
    assert OLD_KEY.api_key in keys
    assert NEW_KEY.api_key in keys
    # Requests started after the reload was logged were all signed with the new key.
    by_order = {
        json.loads(seen.body)["clOrdId"]: seen.headers["OK-ACCESS-KEY"]
        for seen in received
        if seen.method == "POST"
    }
    assert load.new_key_orders
    assert {by_order[order] for order in load.new_key_orders} == {NEW_KEY.api_key}
    (failed,) = [line for line in proxy.lines if line["event"] == "signproxy.reload_failed"]
    assert failed["variable"] == "OKX_ACCOUNT_BOT_API_SECRET_FILE"
    output = "".join(proxy.raw)
    for key in (OLD_KEY, NEW_KEY):
        for value in (key.api_key, key.secret, key.passphrase):
            assert value not in output


async def test_emulator_mode_ignores_named_accounts_and_survives_sighup(tmp_path: Path):
    """`serve --emulator` drops configured accounts (throwaway keys only), and SIGHUP does not end it."""
    env = clean_env(
        SIGNPROXY_ACCOUNTS="live",
        OKX_ACCOUNT_LIVE_API_KEY=OLD_KEY.api_key,
        SIGNPROXY_WATCH_INTERVAL="0",
    )
    process = await start_process("serve", "--emulator", "--port", "0", env=env, cwd=tmp_path)
    proxy = Proxy(process)
    listening = asyncio.Event()
    reader = asyncio.create_task(proxy.read(listening))
    try:
        await asyncio.wait_for(listening.wait(), TIMEOUT)
        process.send_signal(signal.SIGHUP)
        await proxy.wait_for("signproxy.reloaded")
        async with (
            aiohttp.ClientSession() as session,
            session.get(proxy.url + "/api/v5/account/balance") as resp,
        ):
            assert (await resp.json())["code"] == "0"
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), TIMEOUT)
        await asyncio.wait_for(reader, TIMEOUT)
    assert process.returncode == 0
    (listening_line,) = [line for line in proxy.lines if line["event"] == "signproxy.listening"]
    assert listening_line["accounts"] == {"default": "live"}
    assert listening_line["read_only"] is False
    # The emulator is --emulator's own upstream: no custom-upstream notice for it.
    assert not [line for line in proxy.lines if line["event"] == "signproxy.custom_upstream"]
