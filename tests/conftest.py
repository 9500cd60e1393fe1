"""Shared fixtures: a real OKX emulator, a real proxy in front of it, and log capture.

Everything runs as real servers on 127.0.0.1; requests go through real aiohttp clients with
URLs marked as already encoded, so the test controls the exact bytes of each request target.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from multidict import CIMultiDictProxy
from yarl import URL

from signproxy.emulator import EMULATOR, EmulatedKey, EmulatorState, create_emulator_app
from signproxy.proxy.app import create_app
from signproxy.proxy.middleware import make_middleware
from signproxy.runtime.logs import Redactor, configure
from signproxy.runtime.serve import make_runner
from signproxy.settings.config import Settings
from signproxy.upstream.clock import Clock, SystemClock
from signproxy.ws.relay import CHANNEL_ROUTE, WebSocketRelay
from tests.support.keys import ALL_SECRETS, DEMO_KEY, LIVE_KEY, env_for
from tests.support.processes import kill_all
from tests.support.proxy_process import Processes
from tests.support.redis_server import RedisServer


@dataclass(frozen=True)
class Reply:
    """A response as the client saw it."""

    status: int
    headers: CIMultiDictProxy[str]
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


class Harness:
    """A proxy in front of an emulator, and a client that sends exact request targets."""

    def __init__(
        self,
        emulator: EmulatorState,
        proxy: TestServer | ProxyServer,
        session: aiohttp.ClientSession,
    ) -> None:
        self.emulator = emulator
        self.proxy = proxy
        self.session = session
        self.base = str(proxy.make_url("")).rstrip("/")

    async def request(
        self,
        method: str,
        target: str,
        *,
        body: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """Send ``target`` to the proxy byte for byte (no re-quoting)."""
        all_headers = dict(headers or {})
        if body is not None and "Content-Type" not in all_headers:
            all_headers["Content-Type"] = "application/json"
        data = body.encode() if isinstance(body, str) else body
        url = URL(self.base + target, encoded=True)
        async with self.session.request(
            method, url, data=data, headers=all_headers, allow_redirects=False
        ) as resp:
            return Reply(resp.status, resp.headers, await resp.read())

    async def get(self, target: str, **kwargs: Any) -> Reply:
        """GET ``target``."""
        return await self.request("GET", target, **kwargs)

    async def post(self, target: str, body: bytes | str, **kwargs: Any) -> Reply:
        """POST ``body`` to ``target``."""
        return await self.request("POST", target, body=body, **kwargs)


@pytest.fixture(autouse=True)
def _state_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Subprocesses keep their default order journal in a temporary folder, never in ~/."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))


@pytest.fixture(autouse=True)
def no_leftover_processes() -> Iterator[None]:
    """Kill every process group a test started and did not reap, whatever the test's outcome."""
    yield
    kill_all()


@pytest.fixture
def log_output() -> io.StringIO:
    """Capture every log line (structlog and stdlib) of the test, at debug level, as JSON."""
    stream = io.StringIO()
    configure(level="debug", fmt="json", redactor=Redactor(ALL_SECRETS), stream=stream, cache=False)
    return stream


@pytest.fixture
async def emulator_server(
    aiohttp_server: Callable[..., Awaitable[TestServer]],
) -> TestServer:
    """The OKX emulator on 127.0.0.1, accepting LIVE_KEY and DEMO_KEY (rate limits off)."""
    return await aiohttp_server(create_emulator_app([LIVE_KEY, DEMO_KEY], rate_limits=False))


@pytest.fixture
def emulator(emulator_server: TestServer) -> EmulatorState:
    """The emulator's state: what it received, its clock, its orders."""
    app = emulator_server.app
    assert app is not None
    return app[EMULATOR]


@pytest.fixture
def emulator_url(emulator_server: TestServer) -> str:
    """The emulator's base URL."""
    return str(emulator_server.make_url("")).rstrip("/")


MakeProxy = Callable[..., Awaitable[Harness]]


class ProxyServer:
    """The proxy app served exactly as ``signproxy serve`` serves it, on 127.0.0.1."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.runner = make_runner(app)
        self.port = 0

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = self.runner.addresses[0][1]

    def make_url(self, path: str) -> URL:
        """The URL of ``path`` on this server."""
        return URL(f"http://127.0.0.1:{self.port}{path}")

    async def close(self) -> None:
        """Stop serving."""
        await self.runner.cleanup()


@pytest.fixture
async def serve_proxy() -> AsyncIterator[Callable[[web.Application], Awaitable[ProxyServer]]]:
    """Serve proxy apps the production way (handlers never cancelled); closed after the test."""
    servers: list[ProxyServer] = []

    async def start(app: web.Application) -> ProxyServer:
        server = ProxyServer(app)
        servers.append(server)
        await server.start()
        return server

    yield start
    for server in reversed(servers):
        await server.close()


@pytest.fixture
async def make_proxy(
    serve_proxy: Callable[[web.Application], Awaitable[ProxyServer]],
    emulator: EmulatorState,
    emulator_url: str,
    log_output: io.StringIO,  # noqa: ARG001 - logging must be configured before the app is built
) -> AsyncIterator[MakeProxy]:
    """Build proxies in front of the emulator; keyword arguments are extra variables."""
    async with aiohttp.ClientSession() as session:

        async def make(
            key: EmulatedKey = LIVE_KEY,
            *,
            upstream: str | None = None,
            clock: Clock | None = None,
            **env: str,
        ) -> Harness:
            settings = Settings.from_env(env_for(key, upstream or emulator_url, **env))
            server = await serve_proxy(create_app(settings, clock=clock))
            return Harness(emulator, server, session)

        yield make


@pytest.fixture
async def proxy_from_env(
    serve_proxy: Callable[[web.Application], Awaitable[ProxyServer]],
    emulator: EmulatorState,
    log_output: io.StringIO,  # noqa: ARG001 - logging must be configured before the app is built
) -> AsyncIterator[Callable[[dict[str, str]], Awaitable[Harness]]]:
    """Build proxies from the given variables (e.g. several accounts, no OKX_API_*).

    Clock sync and keep-warm requests are off unless ``env`` turns them on, as with
    :func:`env_for`.
    """
    async with aiohttp.ClientSession() as session:

        async def make(env: dict[str, str]) -> Harness:
            env = {
                "SIGNPROXY_CLOCK_SYNC_INTERVAL": "0",
                "SIGNPROXY_UPSTREAM_KEEP_WARM": "0",
                "SIGNPROXY_RATE_LIMITS": "off",
                **env,
            }
            server = await serve_proxy(create_app(Settings.from_env(env)))
            return Harness(emulator, server, session)

        yield make


@pytest.fixture
async def proxy(make_proxy: MakeProxy) -> Harness:
    """A proxy with the live key in front of the emulator."""
    return await make_proxy()


async def start_raw_server(
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    aiohttp_server: Callable[..., Awaitable[TestServer]],
) -> str:
    """Run a one-route aiohttp server for a misbehaving upstream; returns its base URL."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    server = await aiohttp_server(app)
    return str(server.make_url("")).rstrip("/")


@pytest.fixture
def redis_control(tmp_path: Path) -> Iterator[RedisServer]:
    """A real redis-server on 127.0.0.1 that the test may stop and start; stopped at the end."""
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_control: RedisServer) -> str:
    """The URL of a real redis-server started for this test."""
    return redis_control.url


async def custom_ws_proxy(
    aiohttp_server: Callable[..., Awaitable[TestServer]], emulator_url: str, **relay_args: Any
) -> str:
    """A proxy app whose relay gets extra collaborators (e.g. the read-only check), as create_app would."""
    settings = Settings.from_env(env_for(LIVE_KEY, emulator_url))
    relay = WebSocketRelay(settings, SystemClock(), **relay_args)
    app = web.Application(middlewares=[make_middleware()])

    async def session(_app: web.Application) -> AsyncIterator[None]:
        await relay.start()
        yield
        await relay.close()

    app.cleanup_ctx.append(session)
    app.router.add_get(CHANNEL_ROUTE, relay.handle)
    server = await aiohttp_server(app)
    return str(server.make_url("")).rstrip("/")


@pytest.fixture(scope="session")
def node_clients(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Node.js client scripts of tests/clients/node with their npm packages installed, once.

    ``npm ci`` installs the exact versions of tests/clients/node/package-lock.json into a
    temporary directory (never into the work tree); skipped when Node.js 20+ or npm is missing.
    """
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip(
            "Node.js and npm are not installed: the okx-api / ccxt (JS) / fetch tests need them"
        )
    version = subprocess.run(
        [node, "--version"], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    if int(version.lstrip("v").split(".")[0]) < 20:  # okx-api needs Web Crypto
        pytest.skip(f"Node.js {version.strip()} is too old: the client tests need Node.js 20+")
    target = tmp_path_factory.mktemp("node-clients")
    for source in (Path(__file__).parent / "clients" / "node").iterdir():
        if source.is_file():
            shutil.copy(source, target / source.name)
    result = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
        cwd=target,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, "npm ci failed:\n" + result.stdout + result.stderr
    return target


@pytest.fixture
async def processes(tmp_path: Path) -> AsyncIterator[Processes]:
    """Real ``signproxy`` processes (serve and commands), all killed when the test ends."""
    work = tmp_path / "cwd"
    work.mkdir()
    started = Processes(work)
    try:
        yield started
    finally:
        await started.close()
