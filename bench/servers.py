"""The benchmark's servers, started through the tests' launcher (tests/support/processes.py).

nginx (upstream, reverse proxy, TLS upstream) or Python stand-ins, the emulator and signproxy:
every server listens on 127.0.0.1 and is a subprocess in a process group of its own, which
:class:`Processes` stops at the end (and the launcher kills at exit if a script dies first).
signproxy and the emulator get the tests' environment and fake credentials (tests/support/).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

HERE = Path(__file__).resolve().parent
# bench/ scripts run by path, so only bench/ is on sys.path: the repository root is added for
# the launcher and the fake credentials they share with the tests.
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))

from tests.support import processes as launcher  # noqa: E402
from tests.support.keys import LIVE_KEY  # noqa: E402 - needs the root on sys.path first
from tests.support.processes import SIGNPROXY, cli_env, kill_group, popen  # noqa: E402

ORDER_PATH = "/api/v5/trade/order"
# No clOrdId: the proxy gives each order its own, so every request is a new order (with one,
# every request after the first would be a retry, answered from the first without being sent).
ORDER_BODY = (
    '{"instId":"BTC-USDT","tdMode":"cash","side":"buy","ordType":"limit","px":"30000","sz":"0.01"}'
)
# The load spreads its orders over this many instruments, in turn: OKX allows 60 orders per 2 s
# per instrument, which signproxy's rate budgets (on by default) keep; 400 instruments leave room
# for 12,000 orders a second, and the upstream reports a sub-account limit of 10,000 per 2 s.
INSTRUMENTS = 400


def order_body(number: int, run: str = "") -> str:
    """The ``number``-th order of a run, on one of INSTRUMENTS instruments in turn.

    Its clOrdId is ``run`` + number, so de-duplication never takes an order for a retry.
    """
    return ORDER_BODY.replace("BTC-USDT", f"B{number % INSTRUMENTS}-USDT").replace(
        "bench1", f"b{run}x{number}"
    )


# What GET /api/v5/trade/account-rate-limit answers: a VIP-sized sub-account limit.
ACCOUNT_RATE_LIMIT_ANSWER = (
    '{"code":"0","msg":"","data":[{"accRateLimit":"10000","fillRatio":"","mainFillRatio":"",'
    '"nextAccRateLimit":"","ts":"1695190491421"}]}'
)
# What OKX answers to a placed order (shape from its docs), fixed so the upstream costs nothing.
ORDER_ANSWER = (
    '{"code":"0","msg":"","data":[{"clOrdId":"bench1","ordId":"612000000000000000","tag":"",'
    '"ts":"1695190491421","sCode":"0","sMsg":"Order placed"}],'
    '"inTime":"1695190491421339","outTime":"1695190491423240"}'
)
# nginx and the stand-in do not check the credentials; the emulator checks every signature.
FAKE_KEY = LIVE_KEY


def signproxy_env(**extra: str) -> dict[str, str]:
    """The environment of a signproxy or emulator process, with the fake credentials.

    The tests' minimal environment (no OKX_ or SIGNPROXY_ variable of this process, JSON logs),
    the fake credentials and ``extra``.
    """
    defaults = {
        "OKX_API_KEY": FAKE_KEY.api_key,
        "OKX_API_SECRET": FAKE_KEY.secret,
        "OKX_API_PASSPHRASE": FAKE_KEY.passphrase,
        # Most benchmarks drive the proxy far above OKX's rate limits on purpose (the budget
        # check's own cost is measured by bench/ratelimit.py); run.py turns them on again, its
        # orders spread over instruments so that none waits.
        "SIGNPROXY_RATE_LIMITS": "off",
    }
    return cli_env(**{**defaults, **extra})


def free_port() -> int:
    """A port that was free on 127.0.0.1 a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    """Wait until something accepts connections on ``port``, or fail if ``proc`` died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            msg = f"{proc.args!r} exited with {proc.returncode}"
            raise RuntimeError(msg)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        except OSError:
            time.sleep(0.05)
        else:
            return
    msg = f"nothing listens on 127.0.0.1:{port} after {timeout} s"
    raise RuntimeError(msg)


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """Resident memory of a process (and its children: the workers), in MB.

    ``field="Pss"``: the proportional share instead, which counts pages the forked workers
    share with their parent once, not in every process.
    """
    total_kb = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(child) for child in children.read_text().split()]
    source = "status" if field == "VmRSS" else "smaps_rollup"
    for one in pids:
        for line in Path(f"/proc/{one}/{source}").read_text().splitlines():
            if line.startswith(f"{field}:"):
                total_kb += int(line.split()[1])
    return total_kb / 1024


class Processes:
    """Starts subprocesses and stops every one of them on exit."""

    def __init__(self, workdir: Path) -> None:
        """Keep logs and configuration under ``workdir``."""
        self.workdir = workdir
        self._procs: list[subprocess.Popen[bytes]] = []

    def start(
        self, name: str, argv: list[str], port: int, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """Start ``argv`` in ``workdir``, its output in ``<workdir>/<name>.log``; wait for ``port``.

        Running in ``workdir`` keeps a ``.env`` in the caller's directory away from signproxy,
        and a checkout's sources off ``python -m``'s path.
        """
        with (self.workdir / f"{name}.log").open("wb") as log:
            proc = popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.workdir)
        self._procs.append(proc)
        wait_for_port(port, proc)
        return proc

    def stop(self, proc: subprocess.Popen[bytes]) -> None:
        """Stop one process (SIGTERM, then SIGKILL to its group after 10 s)."""
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(10)
        kill_group(proc.pid)  # whatever it started and left behind, and the launcher's record
        proc.wait()
        if proc in self._procs:
            self._procs.remove(proc)

    def close(self) -> None:
        """Stop everything still running."""
        for proc in reversed(self._procs[:]):
            self.stop(proc)


def nginx_available() -> bool:
    """Whether Debian's nginx is installed."""
    return shutil.which("nginx") is not None


def _nginx_conf(workdir: Path, name: str, servers: str) -> Path:
    tmp = workdir / f"{name}-tmp"
    tmp.mkdir(exist_ok=True)
    temp_paths = "".join(
        f"    {kind}_temp_path {tmp}/{kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf = workdir / f"{name}.conf"
    conf.write_text(
        f"{user}worker_processes 1;\ndaemon off;\npid {workdir}/{name}.pid;\n"
        f"error_log {workdir}/{name}.error.log warn;\n"
        "events { worker_connections 4096; }\n"
        "http {\n    access_log off;\n    keepalive_requests 1000000;\n"
        f"{temp_paths}{servers}}}\n"
    )
    return conf


def start_nginx_upstream(
    procs: Processes, port: int, tls_port: int | None = None, cert_dir: Path | None = None
) -> None:
    """Start nginx answering every request with the fixed order answer (plus a TLS listener)."""
    answer = ORDER_ANSWER.replace("'", "\\'")
    location = (
        f"        location / {{ default_type application/json; return 200 '{answer}'; }}\n"
        "        location = /api/v5/trade/account-rate-limit { default_type application/json;"
        f" return 200 '{ACCOUNT_RATE_LIMIT_ANSWER}'; }}\n"
    )
    servers = f"    server {{\n        listen 127.0.0.1:{port};\n{location}    }}\n"
    if tls_port is not None and cert_dir is not None:
        servers += (
            f"    server {{\n        listen 127.0.0.1:{tls_port} ssl;\n"
            f"        ssl_certificate {cert_dir}/server.pem;\n"
            f"        ssl_certificate_key {cert_dir}/server.key;\n{location}    }}\n"
        )
    conf = _nginx_conf(procs.workdir, "nginx-upstream", servers)
    procs.start("nginx-upstream", ["nginx", "-e", "stderr", "-c", str(conf)], port)


def start_nginx_proxy(procs: Processes, port: int, upstream_port: int) -> None:
    """Start nginx as a plain reverse proxy with upstream keep-alive: the floor for one hop."""
    servers = (
        f"    upstream okx {{ server 127.0.0.1:{upstream_port}; keepalive 64; }}\n"
        f"    server {{\n        listen 127.0.0.1:{port};\n"
        "        location / {\n            proxy_pass http://okx;\n"
        "            proxy_http_version 1.1;\n"
        '            proxy_set_header Connection "";\n        }\n    }\n'
    )
    conf = _nginx_conf(procs.workdir, "nginx-proxy", servers)
    procs.start("nginx-proxy", ["nginx", "-e", "stderr", "-c", str(conf)], port)


def start_python_upstream(
    procs: Processes, port: int, tls_port: int | None = None, cert_dir: Path | None = None
) -> None:
    """The Python stand-in for nginx: the same fixed answer from a bare asyncio server."""
    argv = [sys.executable, str(HERE / "fake_upstream.py"), str(port)]
    if tls_port is not None and cert_dir is not None:
        argv += [str(tls_port), str(cert_dir)]
    procs.start("python-upstream", argv, port)
    if tls_port is not None:
        wait_for_port(tls_port, procs._procs[-1])  # noqa: SLF001 - the one just started


def start_upstream(procs: Processes) -> str:
    """Start nginx (or, without it, the Python stand-in) answering orders; its base URL."""
    port = free_port()
    if nginx_available():
        start_nginx_upstream(procs, port)
    else:
        start_python_upstream(procs, port)
    return f"http://127.0.0.1:{port}"


def start_signproxy(
    procs: Processes,
    port: int,
    upstream: str,
    *,
    name: str = "signproxy",
    extra_env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start signproxy as its users run it, logging its JSON lines to ``<name>.log``."""
    env = signproxy_env(
        SIGNPROXY_UPSTREAM=upstream,
        SIGNPROXY_ALLOW_CUSTOM_UPSTREAM="1",  # a local stand-in, not an OKX host
        **{
            # The order journal in the run's directory, never in the user's ~/.local/state.
            "SIGNPROXY_JOURNAL": str(procs.workdir / f"{name}-journal.sqlite"),
            **(extra_env or {}),
        },
    )
    return procs.start(name, [*SIGNPROXY, "serve", "--port", str(port)], port, env)


def start_bare_signer(
    procs: Processes,
    port: int,
    upstream: str,
    *,
    name: str = "bare-signer",
    extra_env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start bare_signer.py, the reference: the same stack with nothing but signing."""
    env = signproxy_env(**(extra_env or {}))
    argv = [sys.executable, str(HERE / "bare_signer.py"), str(port), upstream]
    return procs.start(name, argv, port, env)


def start_emulator(procs: Processes, port: int) -> subprocess.Popen[bytes]:
    """The bundled OKX emulator, accepting the fake credentials and verifying every signature."""
    # The benchmarks measure the proxy, far above OKX's rate limits: neither side keeps them.
    argv = [*SIGNPROXY, "emulator", "--port", str(port), "--no-rate-limits"]
    return procs.start("emulator", argv, port, signproxy_env())


# -- for the asyncio scripts (hostile_sockets, slow_readers, metrics_cardinality)

_COLLECTING: set[asyncio.Task[None]] = set()


async def start_logging(
    *args: str, env: dict[str, str], program: Sequence[str] = SIGNPROXY
) -> tuple[asyncio.subprocess.Process, str, list[dict[str, Any]]]:
    """Start ``program *args`` (``signproxy`` by default) through the tests' launcher.

    Its own process group, killed at exit whatever happens. Waits (30 s at most) for its
    listening line; returns the process, its URL and its JSON log lines, which keep growing
    (reading them also keeps its pipe from filling).
    """
    process = await launcher.start(*args, env=env, program=program)
    assert process.stdout is not None
    lines: list[dict[str, Any]] = []
    reading = asyncio.get_running_loop().create_task(_collect(process.stdout, lines))
    _COLLECTING.add(reading)
    reading.add_done_callback(_COLLECTING.discard)
    async with asyncio.timeout(30):
        while not any(line.get("event") in _LISTENING for line in lines):
            if reading.done():
                raise SystemExit(f"{args} exited before listening")
            await asyncio.sleep(0.02)
    url = next(line["url"] for line in lines if line.get("event") in _LISTENING)
    return process, str(url), lines


async def stop_logging(process: asyncio.subprocess.Process) -> None:
    """SIGTERM, wait, then SIGKILL whatever of its group is left."""
    if process.returncode is None:
        process.terminate()
        await process.wait()
    kill_group(process.pid)


_LISTENING = ("signproxy.listening", "signproxy.emulator_listening")


async def _collect(stream: asyncio.StreamReader, lines: list[dict[str, Any]]) -> None:
    while line := await stream.readline():
        with contextlib.suppress(ValueError):
            lines.append(json.loads(line))


async def serve_in_process(
    answer: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> tuple[web.AppRunner, str]:
    """An upstream in this process answering every method and path with ``answer``.

    Returns its runner (``await runner.cleanup()`` at the end) and its base URL.
    """
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"
