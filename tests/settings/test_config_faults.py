"""Configuration faults: unreadable env files, ambiguous variables, FIFOs, at start and on reload."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import aiohttp
import pytest

from tests.support.keys import LIVE_KEY, env_for
from tests.support.processes import cli_env, run
from tests.support.serve import start_serve

CREDENTIALS = ("OKX_API_KEY", "OKX_API_SECRET", "OKX_API_PASSPHRASE")


async def _run(tmp_path: Path, env: dict[str, str], *argv: str) -> tuple[int, str]:
    return await run("serve", "--port", "0", *argv, env=cli_env(**env), cwd=tmp_path)


def _env_file(path: Path, secret: str) -> None:
    path.write_text(
        f"OKX_API_KEY={LIVE_KEY.api_key}\nOKX_API_SECRET={secret}\n"
        f"OKX_API_PASSPHRASE={LIVE_KEY.passphrase}\n"
    )


async def test_non_utf8_env_file_at_start_is_a_config_error(tmp_path: Path) -> None:
    """An env file that is not UTF-8 stops the start with exit 2 and one line, no traceback."""
    bad = tmp_path / "bad.env"
    bad.write_bytes(b"OKX_API_KEY=\xff\xfe\n")
    code, out = await _run(
        tmp_path, {"SIGNPROXY_UPSTREAM": "http://127.0.0.1:9"}, "--env-file", str(bad)
    )
    assert code == 2
    assert "configuration error" in out
    assert "Traceback" not in out


async def test_setting_and_its_file_both_in_the_environment_are_refused(tmp_path: Path) -> None:
    """OKX_API_SECRET and OKX_API_SECRET_FILE both in the environment: exit 2 naming both."""
    secret_file = tmp_path / "secret"
    secret_file.write_text(LIVE_KEY.secret)
    env = env_for(LIVE_KEY, "http://127.0.0.1:9", OKX_API_SECRET_FILE=str(secret_file))
    code, out = await _run(tmp_path, env)
    assert code == 2
    assert "OKX_API_SECRET and OKX_API_SECRET_FILE" in out


async def test_fifo_secret_at_start_is_refused_without_hanging(tmp_path: Path) -> None:
    """A secret file that is a FIFO is refused at once (exit 2), never waited on."""
    fifo = tmp_path / "secret.fifo"
    os.mkfifo(fifo)
    env = env_for(LIVE_KEY, "http://127.0.0.1:9", OKX_API_SECRET_FILE=str(fifo))
    del env["OKX_API_SECRET"]
    code, out = await _run(tmp_path, env)
    assert code == 2
    assert "not a regular file" in out


@pytest.mark.skipif(os.name != "posix", reason="signals and FIFOs")
async def test_reload_failures_keep_the_old_keys_and_the_watcher(emulator_url, tmp_path) -> None:
    """Non-UTF-8, a directory, a FIFO: each reload fails loudly, then a real rotation applies."""
    env_file = tmp_path / "proxy.env"
    _env_file(env_file, LIVE_KEY.secret)
    proxy = await start_serve(
        emulator_url,
        tmp_path,
        argv=("--env-file", str(env_file)),
        without=CREDENTIALS,
        SIGNPROXY_WATCH_INTERVAL="1",
    )
    try:

        async def failures(count: int) -> list[dict]:
            async with asyncio.timeout(20):
                while len(proxy.events("signproxy.reload_failed")) < count:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
            return proxy.events("signproxy.reload_failed")

        env_file.write_bytes(b"OKX_API_KEY=\xff\xfe\n")  # not UTF-8: noticed by the watcher
        assert (await failures(1))[0]["reason"] == "file-changed"
        proxy.process.send_signal(signal.SIGHUP)
        assert (await failures(2))[1]["reason"] == "sighup"
        env_file.unlink()
        env_file.mkdir()  # unreadable as a file
        await failures(3)
        env_file.rmdir()
        secret = tmp_path / "secret.fifo"
        os.mkfifo(secret)
        env_file.write_text(
            f"OKX_API_KEY={LIVE_KEY.api_key}\nOKX_API_SECRET_FILE={secret}\n"
            f"OKX_API_PASSPHRASE={LIVE_KEY.passphrase}\n"
        )
        assert "not a regular file" in (await failures(4))[3]["problem"]
        async with (  # the loop was never blocked
            aiohttp.ClientSession() as session,
            session.get(proxy.url + "/api/v5/account/balance") as reply,
        ):
            assert reply.status == 200
        _env_file(env_file, LIVE_KEY.secret)  # a good file again: applied
        await proxy.wait_event("signproxy.reloaded")
        proxy.process.send_signal(signal.SIGTERM)
        assert await proxy.finish() == 0
        assert b"Traceback" not in proxy.raw
        assert b"Exception in callback" not in proxy.raw
    finally:
        await proxy.stop()
