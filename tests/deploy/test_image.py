"""The container image, built with podman and run in front of the emulator on 127.0.0.1.

Slow (it builds an image; about a minute): marked ``slow``, deselect with ``-m "not slow"``.
It needs podman and the stand-in base image that ``.ci/podman-setup`` makes (no registry can
be reached here). Without them it skips, except on CI (``CI`` set), where it fails: CI installs
them, so a skip there would hide a broken setup.

The build uses the Dockerfile unchanged. Only when this machine's pip needs its own CA bundle
to reach the package index (a TLS-intercepting network), the bundle and a pip.conf naming it
are mounted into the build's RUN steps; mounts leave no trace in the image.
"""

import asyncio
import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from signproxy.emulator import EMULATOR
from tests.support.keys import ALL_SECRETS, LIVE_KEY
from tests.support.paths import ROOT

pytestmark = pytest.mark.slow

BASE_IMAGE = "localhost/python-base:test"
IMAGE = "localhost/signproxy:test"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
BUILD_TIMEOUT = 480
READY_TIMEOUT = 60
USER_ID = "10001"
PODMAN = shutil.which("podman") or "podman"
ORDER = '{"instId":"BTC-USDT","tdMode":"cash","side":"buy","ordType":"limit","px":"1","sz":"1"}'


def podman_sync(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PODMAN, *args], capture_output=True, text=True, check=False, timeout=timeout
    )


def missing_requirement() -> str | None:
    if not Path(PODMAN).is_absolute():
        return "podman is not installed (run .ci/podman-setup as root)"
    if podman_sync("image", "exists", BASE_IMAGE).returncode != 0:
        return f"the stand-in base image {BASE_IMAGE} is missing (run .ci/podman-setup as root)"
    return None


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Build the image from the repository's Dockerfile; returns its name."""
    reason = missing_requirement()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    command = ["build", "--format", "docker", "--network", "host"]
    command += ["--build-arg", f"BASE_IMAGE={BASE_IMAGE}", "--tag", IMAGE]
    if CA_BUNDLE.is_file():
        pip_conf = tmp_path_factory.mktemp("pip") / "pip.conf"
        pip_conf.write_text("[global]\ncert = /run/host-ca.crt\n")
        command += ["--volume", f"{CA_BUNDLE}:/run/host-ca.crt:ro"]
        command += ["--volume", f"{pip_conf}:/etc/pip.conf:ro"]
    built = podman_sync(*command, str(ROOT), timeout=BUILD_TIMEOUT)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    return IMAGE


def test_image_holds_no_build_leftovers(image: str) -> None:
    """The final image has no pip cache, no compiler, no pip in the app's virtualenv, no sources."""
    leftovers = (
        "test ! -e /root/.cache/pip && test ! -e /opt/signproxy/bin/pip"
        " && ! command -v gcc && ! command -v cc && test ! -e /src"
    )
    result = podman_sync("run", "--rm", "--user", "0", "--entrypoint", "sh", image, "-c", leftovers)
    assert result.returncode == 0, result.stdout + result.stderr


def test_image_config(image: str) -> None:
    """The image runs as user 10001, stops with SIGTERM and declares a health check."""
    inspected = json.loads(podman_sync("image", "inspect", image).stdout)[0]
    config = inspected["Config"]
    assert config["User"] == f"{USER_ID}:{USER_ID}"
    assert config["StopSignal"] == "SIGTERM"
    assert inspected["Healthcheck"]["Test"] == ["CMD", "signproxy", "health"]


async def podman(*args: str, seconds: float = 60) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        PODMAN, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), seconds)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.fixture
async def secrets() -> AsyncIterator[list[str]]:
    """The live key's three credentials as podman secrets; yields the --secret options."""
    prefix = f"signproxy-test-{uuid.uuid4().hex[:8]}"
    values = {
        "okx_api_key": LIVE_KEY.api_key,
        "okx_api_secret": LIVE_KEY.secret,
        "okx_api_passphrase": LIVE_KEY.passphrase,
    }
    created: list[str] = []
    options: list[str] = []
    try:
        for target, value in values.items():
            name = f"{prefix}-{target}"
            process = await asyncio.create_subprocess_exec(
                PODMAN, "secret", "create", name, "-", stdin=asyncio.subprocess.PIPE
            )
            await asyncio.wait_for(process.communicate(value.encode()), 30)
            assert process.returncode == 0
            created.append(name)
            mount = f"type=mount,target={target},uid={USER_ID},gid={USER_ID},mode=0400"
            options += ["--secret", f"{name},{mount}"]
        yield options
    finally:
        for name in created:
            await podman("secret", "rm", name)


async def wait_until_ready(session: aiohttp.ClientSession, base: str) -> float:
    """Poll /-/ready until it answers 200; returns when, by time.monotonic()."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        try:
            async with session.get(base + "/-/ready") as response:
                if response.status == 200:
                    return time.monotonic()
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.02)
    pytest.fail(f"/-/ready did not answer 200 within {READY_TIMEOUT} s")


def run_command(name: str, port: int, upstream: str, secrets: list[str]) -> list[str]:
    """`podman run` for the image, hardened, on the host network, credentials as secret files."""
    run = ["run", "--detach", "--name", name, "--network", "host"]
    run += ["--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges"]
    # podman 4.3 cannot make the secrets' mount point on a read-only root; docker can.
    run += ["--tmpfs", "/run/secrets:size=64k,mode=0755"]
    # The order journal's directory as a volume (compose uses a named one): writable on a
    # read-only root, owned by the image's user because the image's directory is.
    run += ["--volume", "/var/lib/signproxy"]
    run += ["--env", "SIGNPROXY_HOST=127.0.0.1", "--env", f"SIGNPROXY_PORT={port}"]
    run += ["--env", f"SIGNPROXY_UPSTREAM={upstream}", "--env", "SIGNPROXY_ALLOW_CUSTOM_UPSTREAM=1"]
    for variable in ("OKX_API_KEY", "OKX_API_SECRET", "OKX_API_PASSPHRASE"):
        run += ["--env", f"{variable}_FILE=/run/secrets/{variable.lower()}"]
    return run + secrets


async def place_order(session: aiohttp.ClientSession, base: str) -> None:
    async with session.post(
        base + "/api/v5/trade/order", data=ORDER, headers={"Content-Type": "application/json"}
    ) as response:
        assert response.status == 200
        assert (await response.json())["code"] == "0"
    async with session.get(base + "/-/metrics") as response:
        assert 'route="/api/v5/trade/order"' in await response.text()


async def assert_order_journalled(name: str) -> None:
    """`signproxy orders` inside the running container lists the order, placed."""
    for _ in range(50):  # the outcome is written by the journal's thread just after the answer
        status, out, err = await podman("exec", name, "signproxy", "orders", "--json")
        assert status == 0, err
        rows = [json.loads(line) for line in out.splitlines() if line.strip()]
        if rows and rows[-1]["outcome"] == "ok":
            break
        await asyncio.sleep(0.1)
    assert [(row["action"], row["outcome"]) for row in rows] == [("place", "ok")]


async def assert_runs_as(name: str, uid: str) -> None:
    status, out, err = await podman("exec", name, "cat", "/proc/1/status")
    assert status == 0, err
    uid_line = next(line for line in out.splitlines() if line.startswith("Uid:"))
    assert uid_line.split()[1:] == [uid] * 4  # real, effective, saved, filesystem


async def assert_clean_json_logs(name: str) -> None:
    _, logs, _ = await podman("logs", name)
    events = [json.loads(line)["event"] for line in logs.splitlines() if line.strip()]
    assert "signproxy.listening" in events
    assert events[-2:] == ["signproxy.stopping", "signproxy.stopped"]
    for secret in ALL_SECRETS:
        assert secret not in logs


async def image_size(image: str) -> int:
    return json.loads((await podman("image", "inspect", image))[1])[0]["Size"]


async def test_container_signs_stays_healthy_and_stops_cleanly(
    image: str,
    secrets: list[str],
    emulator_server: TestServer,
    unused_tcp_port: int,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Run hardened and read-only, it signs and journals an order, is healthy, not root, exits 0."""
    assert emulator_server.app is not None
    emulator = emulator_server.app[EMULATOR]
    upstream = str(emulator_server.make_url("")).rstrip("/")
    name = f"signproxy-test-{uuid.uuid4().hex[:8]}"
    base = f"http://127.0.0.1:{unused_tcp_port}"
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            started = time.monotonic()
            status, _, err = await podman(
                *run_command(name, unused_tcp_port, upstream, secrets), image
            )
            assert status == 0, err
            ready_seconds = await wait_until_ready(session, base) - started
            await place_order(session, base)
        order = emulator.received[-1]
        assert order.target == "/api/v5/trade/order"
        assert order.code == "0"  # the emulator verified the signature, key and passphrase
        assert order.headers["OK-ACCESS-KEY"] == LIVE_KEY.api_key

        status, out, err = await podman("healthcheck", "run", name)
        assert status == 0, out + err
        await assert_order_journalled(name)
        await assert_runs_as(name, USER_ID)

        stop_started = time.monotonic()
        status, _, err = await podman("stop", "--time", "20", name, seconds=40)
        stop_seconds = time.monotonic() - stop_started
        assert status == 0, err
        _, state, _ = await podman("inspect", "--format", "{{.State.ExitCode}}", name)
        assert state.strip() == "0"  # 137 would mean it had to be killed
        await assert_clean_json_logs(name)

        size, base_size = await image_size(image), await image_size(BASE_IMAGE)
        with capsys.disabled():
            print(  # noqa: T201 - the measurements docs/deployment.md quotes
                f"\nimage {size / 1e6:.1f} MB (base {base_size / 1e6:.1f} MB + signproxy"
                f" {(size - base_size) / 1e6:.1f} MB); podman run to ready {ready_seconds:.2f} s;"
                f" podman stop {stop_seconds:.2f} s"
            )
    finally:
        await podman("rm", "--force", "--ignore", "--volumes", name)
