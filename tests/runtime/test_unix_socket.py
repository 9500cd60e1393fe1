"""The Unix socket listener: the documented recipes run over it, and its file is guarded.

The proxy here is configured with a client token, so every test that succeeds without one
proves the socket needs none while TCP still does.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp
import pytest
from aiohttp import web

from signproxy.errors import ConfigError
from signproxy.proxy.app import create_app
from signproxy.runtime.serve import make_runner
from signproxy.runtime.unix import bind_unix_socket, unix_listener
from signproxy.settings.config import Settings
from signproxy.settings.unix import UnixSocket
from tests.support.clients import assert_all_signed_by_proxy, calls, run_program
from tests.support.keys import LIVE_KEY, env_for
from tests.support.paths import ROOT
from tests.support.processes import cli_env, kill_group, popen

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

DOC = ROOT / "docs" / "unix-socket.md"
DOCUMENTED_SOCKET = "/run/signproxy/signproxy.sock"
TOKEN = "unix-test-token-0123456789"  # a fake client token
_FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def recipes() -> list[tuple[str, str]]:
    """``(language, code)`` of each fenced block in the page's Clients section."""
    section = DOC.read_text(encoding="utf-8").split("\n## Clients\n", 1)[1]
    return _FENCE.findall(section.split("\n## ", 1)[0])


RECIPES = recipes()


@pytest.fixture
def socket_dir() -> Iterator[Path]:
    """A short directory for sockets (a socket's path is limited to about 100 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="sp-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


class Served:
    """A proxy served on TCP and on a Unix socket, as ``signproxy serve --unix`` does."""

    def __init__(self, path: Path, port: int) -> None:
        self.path = path
        self.tcp = f"http://127.0.0.1:{port}"


@pytest.fixture
async def served(emulator_url, socket_dir, log_output) -> AsyncIterator[Served]:  # noqa: ARG001
    """The proxy with a client token, listening on 127.0.0.1 and on ``socket_dir/s.sock``."""
    path = socket_dir / "s.sock"
    env = env_for(LIVE_KEY, emulator_url, SIGNPROXY_CLIENT_TOKENS=f"bot:{TOKEN}")
    settings = Settings.from_env(env, unix=str(path))
    assert settings.unix_socket is not None
    runner = make_runner(create_app(settings))
    with unix_listener(settings.unix_socket) as sock:
        assert sock is not None
        await runner.setup()
        try:
            await web.TCPSite(runner, "127.0.0.1", 0).start()
            await web.SockSite(runner, sock).start()
            yield Served(path, runner.addresses[0][1])
        finally:
            await runner.cleanup()  # before the socket closes, as in serve()


def test_every_client_has_a_recipe():
    """The page has curl, python-okx, aiohttp and Node recipes, each using the socket."""
    assert [language for language, _ in RECIPES] == ["sh", "python", "python", "js"]
    code = "\n".join(block for _, block in RECIPES)
    for needle in ("curl -s --unix-socket", "okx.Trade.TradeAPI", "UnixConnector", "socketPath"):
        assert needle in code
    assert all(DOCUMENTED_SOCKET in block for _, block in RECIPES)


@pytest.mark.clients
@pytest.mark.parametrize(
    ("language", "code"), RECIPES, ids=[f"{n}-{lang}" for n, (lang, _) in enumerate(RECIPES)]
)
async def test_recipe_runs_over_the_socket(served, emulator, tmp_path, language, code):
    """The recipe, run as written (socket path aside), places and cancels an order, no token."""
    script = code.replace(DOCUMENTED_SOCKET, str(served.path))
    runners = {"sh": ("bash", "-eu"), "python": (sys.executable,), "js": ("node",)}
    suffix = {"sh": ".sh", "python": ".py", "js": ".mjs"}[language]
    if shutil.which(runners[language][0]) is None:
        pytest.skip(f"{runners[language][0]} is not installed")
    if language == "sh" and shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    path = tmp_path / f"recipe{suffix}"
    path.write_text(script, encoding="utf-8")

    output = await run_program(*runners[language], str(path), cwd=tmp_path)

    assert "sCode" in output
    assert_all_signed_by_proxy(emulator, LIVE_KEY)
    assert ("POST", "/api/v5/trade/cancel-order") in calls(emulator)
    assert emulator.all_orders()
    assert all(order["state"] == "canceled" for order in emulator.all_orders())


async def test_tcp_still_needs_the_token_and_the_socket_checks_a_sent_one(served, emulator):
    """Over TCP a request without the token is refused; over the socket a wrong token is too."""
    target = "/api/v5/account/balance?ccy=USDT"
    async with aiohttp.ClientSession() as tcp:
        async with tcp.get(served.tcp + target) as reply:
            assert reply.status == 401
        async with tcp.get(served.tcp + target, headers={"X-Signproxy-Token": TOKEN}) as reply:
            assert reply.status == 200
    connector = aiohttp.UnixConnector(path=str(served.path))
    async with aiohttp.ClientSession(connector=connector) as unix:
        async with unix.get("http://localhost" + target) as reply:
            assert reply.status == 200
        wrong = {"Authorization": "Bearer not-the-token-0123456789"}
        async with unix.get("http://localhost" + target, headers=wrong) as reply:
            assert reply.status == 401
            assert reply.headers["X-Signproxy-Error"] == "SPX201"
        # The other checks hold on the socket too: a Host that is not loopback is refused.
        async with unix.get("http://evil.example" + target) as reply:
            assert reply.status == 403
    assert len(emulator.received) == 2


def test_socket_file_has_mode_0660_and_the_configured_group(socket_dir):
    """The socket is created 0660 with the group asked for, and removed afterwards."""
    path = socket_dir / "g.sock"
    group = os.getgid() if os.geteuid() != 0 else 4321  # root may give any group
    with unix_listener(UnixSocket(str(path), group)) as sock:
        assert sock is not None
        info = path.stat()
        assert stat.S_ISSOCK(info.st_mode)
        assert stat.S_IMODE(info.st_mode) == 0o660
        assert info.st_gid == group
    assert not path.exists()


def test_a_stale_socket_is_replaced_but_a_live_one_or_a_file_is_not(socket_dir):
    """A dead proxy's socket file is replaced; a listening socket or a plain file is refused."""
    stale = socket_dir / "stale.sock"
    leftover = socket.socket(socket.AF_UNIX)
    leftover.bind(str(stale))
    leftover.close()  # bound, never listening: what a killed proxy leaves
    bind_unix_socket(UnixSocket(str(stale))).close()

    live = socket_dir / "live.sock"
    with (
        unix_listener(UnixSocket(str(live))),
        pytest.raises(ConfigError, match="another process is listening"),
    ):
        bind_unix_socket(UnixSocket(str(live)))
    plain = socket_dir / "plain"
    plain.write_text("not a socket")
    with pytest.raises(ConfigError, match="not a socket"):
        bind_unix_socket(UnixSocket(str(plain)))
    assert plain.read_text() == "not a socket"


def test_unix_settings_are_checked(socket_dir):
    """--unix beats the variable; a group without a socket, unknown groups, long paths fail."""
    base = {"OKX_API_KEY": "k" * 8, "OKX_API_SECRET": "s" * 8, "OKX_API_PASSPHRASE": "p" * 8}
    assert Settings.from_env(base).unix_socket is None
    path = str(socket_dir / "a.sock")
    from_env = Settings.from_env({**base, "SIGNPROXY_UNIX_SOCKET": path})
    assert from_env.unix_socket == UnixSocket(path)
    flag = str(socket_dir / "b.sock")
    assert Settings.from_env({**base, "SIGNPROXY_UNIX_SOCKET": path}, unix=flag).unix_socket
    assert Settings.from_env(
        {**base, "SIGNPROXY_UNIX_SOCKET": path, "SIGNPROXY_UNIX_SOCKET_GROUP": "0"}
    ).unix_socket == UnixSocket(path, 0)
    with pytest.raises(ConfigError, match="SIGNPROXY_UNIX_SOCKET_GROUP"):
        Settings.from_env({**base, "SIGNPROXY_UNIX_SOCKET_GROUP": "0"})
    with pytest.raises(ConfigError, match="SIGNPROXY_UNIX_SOCKET_GROUP"):
        Settings.from_env(
            {**base, "SIGNPROXY_UNIX_SOCKET": path, "SIGNPROXY_UNIX_SOCKET_GROUP": "no-such-grp"}
        )
    with pytest.raises(ConfigError, match="SIGNPROXY_UNIX_SOCKET"):
        Settings.from_env({**base, "SIGNPROXY_UNIX_SOCKET": "/tmp/" + "x" * 120})  # noqa: S108
    with pytest.raises(ConfigError, match="directory"):
        Settings.from_env({**base, "SIGNPROXY_UNIX_SOCKET": "/no/such/dir/s.sock"})


async def test_workers_share_the_socket_and_it_is_removed_on_stop(emulator_url, socket_dir):
    """`serve --unix` with two workers: both accept on the one socket; SIGTERM removes it."""
    path = socket_dir / "w.sock"
    out = socket_dir / "proxy.log"
    env = cli_env(**env_for(LIVE_KEY, emulator_url), SIGNPROXY_WORKERS="2")
    argv = [sys.executable, "-m", "signproxy", "serve", "--port", "0", "--unix", str(path)]
    with out.open("wb") as sink:
        # Popen returns at once; the output goes to a file read while the test awaits.
        proc = popen(argv, env=env, stdout=sink, stderr=subprocess.STDOUT)
    try:
        listening = await _listening(out, 2, proc)
        assert {event["unix_socket"] for event in listening} == {str(path)}
        assert stat.S_IMODE(path.stat().st_mode) == 0o660
        # Each worker's request ids start with its own random prefix: two prefixes, two
        # workers. A new connection per request lets either worker accept it.
        prefixes = set()
        connector = aiohttp.UnixConnector(path=str(path), force_close=True)
        async with aiohttp.ClientSession(connector=connector) as session:
            for _ in range(200):
                async with session.get("http://localhost/api/v5/account/balance") as reply:
                    assert reply.status == 200
                    prefixes.add(reply.headers["X-Request-Id"][:16])
                if len(prefixes) == 2:
                    break
        assert len(prefixes) == 2
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(proc.wait, 15) == 0
        assert not path.exists()
    finally:
        kill_group(proc.pid)
        proc.wait()


async def _listening(out: Path, count: int, proc: subprocess.Popen) -> list[dict]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        text = _read(out)
        assert proc.poll() is None, text
        events = [json.loads(line) for line in text.splitlines() if line]
        listening = [event for event in events if event["event"] == "signproxy.listening"]
        if len(listening) >= count:
            return listening
        await asyncio.sleep(0.05)
    pytest.fail("the workers did not start in 20 s")


def _read(path: Path) -> str:
    return path.read_text()
