"""The first hour's mistakes, each answered clearly by the real CLI (a subprocess per case)."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sys
from pathlib import Path

import pytest

from tests.support.keys import LIVE_KEY, env_for
from tests.support.paths import ROOT
from tests.support.processes import cli_env, listening_url, reap, run, running, start


def write_env(path: Path, values: dict[str, str]) -> Path:
    path.write_text("".join(f"{name}={value}\n" for name, value in values.items()))
    path.chmod(0o600)
    return path


@pytest.mark.parametrize(
    ("typo", "meant"),
    [
        ("OKX_DEMMO", "OKX_DEMO"),
        ("SIGNPROXY_PROT", "SIGNPROXY_PORT"),
        ("SIGNPROXY_LOG_LEVL", "SIGNPROXY_LOG_LEVEL"),
        ("OKX_API_SECRT", "OKX_API_SECRET"),
    ],
)
async def test_a_misspelt_variable_stops_serve_with_a_suggestion(emulator_url, typo, meant):
    """A name within two edits of a known variable: exit 2, "<typo>: unknown; did you mean <name>?", nothing served."""
    env = cli_env(**env_for(LIVE_KEY, emulator_url), **{typo: "1"})
    status, output = await run("serve", "--port", "0", env=env)
    assert status == 2, output
    assert f"{typo}: unknown; did you mean {meant}?" in output
    assert "signproxy.listening" not in output
    assert "Traceback" not in output


async def test_a_misspelt_account_variable_gets_its_suggestion_too(emulator_url):
    """OKX_ACCOUNT_<NAME>_DEMMO for a listed account: the suggestion is that account's variable."""
    env = cli_env(
        **env_for(LIVE_KEY, emulator_url),
        SIGNPROXY_ACCOUNTS="paper",
        OKX_ACCOUNT_PAPER_API_KEY="fake-paper-key-1",
        OKX_ACCOUNT_PAPER_API_SECRET="FAKE0SECRET0PAPER000000000000001",
        OKX_ACCOUNT_PAPER_API_PASSPHRASE="fake-paper-pass",
        OKX_ACCOUNT_PAPER_DEMMO="1",
    )
    status, output = await run("serve", "--port", "0", env=env)
    assert status == 2
    assert "OKX_ACCOUNT_PAPER_DEMMO: unknown; did you mean OKX_ACCOUNT_PAPER_DEMO?" in output


async def test_the_emulator_refuses_a_misspelt_credential_too():
    """`signproxy emulator` with only OKX_API_KEYY set names the typo instead of making throwaway keys."""
    status, output = await run("emulator", "--port", "0", env=cli_env(OKX_API_KEYY="x"))
    assert status == 2
    assert "OKX_API_KEYY: unknown; did you mean OKX_API_KEY?" in output


async def test_an_unknown_signproxy_variable_is_an_error(emulator_url):
    """Any other unknown SIGNPROXY_* name stops the proxy (exit 2) naming it."""
    env = cli_env(**env_for(LIVE_KEY, emulator_url), SIGNPROXY_TURBO_MODE="1")
    status, output = await run("serve", "--port", "0", env=env)
    assert status == 2
    assert "SIGNPROXY_TURBO_MODE: unknown" in output


async def test_an_unknown_okx_variable_only_warns(emulator_url):
    """An OKX_* name far from every known one (a bot's own) is a warning; the proxy serves."""
    env = cli_env(**env_for(LIVE_KEY, emulator_url), OKX_BOT_STRATEGY="grid")
    async with running("serve", "--port", "0", env=env) as (_url, seen):
        pass
    warnings = [line["problem"] for line in seen if line["event"] == "signproxy.config_warning"]
    assert any(
        problem.startswith("OKX_BOT_STRATEGY: not a signproxy variable") for problem in warnings
    )


async def test_a_misspelt_variable_on_reload_keeps_the_old_configuration(tmp_path, emulator_url):
    """A typo added to the env file: SIGHUP logs reload_failed naming it, and the proxy keeps serving the old accounts."""
    env_file = write_env(tmp_path / "proxy.env", env_for(LIVE_KEY, emulator_url))
    env = cli_env(SIGNPROXY_WATCH_INTERVAL="0")
    process = await start("serve", "--port", "0", "--env-file", str(env_file), env=env)
    assert process.stdout is not None
    seen: list[dict] = []
    try:
        url = await asyncio.wait_for(listening_url(process.stdout, seen), 30)
        with env_file.open("a") as file:
            file.write("OKX_DEMMO=1\n")
        process.send_signal(signal.SIGHUP)
        async with asyncio.timeout(30):
            while not any(line["event"] == "signproxy.reload_failed" for line in seen):
                seen.append(json.loads(await process.stdout.readline()))
        (failed,) = [line for line in seen if line["event"] == "signproxy.reload_failed"]
        assert failed["variable"] == "OKX_DEMMO"
        assert "did you mean OKX_DEMO?" in failed["problem"]
        status, _ = await fetch_status(url + "/api/v5/account/balance")
        assert status == 200
    finally:
        await reap(process)


async def fetch_status(url: str) -> tuple[int, bytes]:
    import aiohttp  # noqa: PLC0415 - only this helper needs a client

    async with aiohttp.ClientSession() as session, session.get(url) as resp:
        return resp.status, await resp.read()


@pytest.mark.parametrize(
    ("port", "says"),
    [
        ("99999", "99999 is not a TCP port"),
        ("65536", "65536 is not a TCP port"),
        ("-1", "-1 is not a TCP port"),
        ("http", "'http' is not a whole number"),
    ],
)
async def test_a_bad_port_is_a_clear_error(port, says):
    """--port outside 0-65535 (or not a number) is a usage error naming it: exit 2, no traceback."""
    for command in ("serve", "emulator"):
        status, output = await run(command, "--port", port, env=cli_env())
        assert status == 2, output
        assert f"argument --port: {says}" in output
        assert "Traceback" not in output


async def test_a_port_in_use_is_one_line_naming_it(emulator_url):
    """A port already taken: exit 2, the address and the likely cause, no traceback, no "Unclosed client session"."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = cli_env(**env_for(LIVE_KEY, emulator_url), SIGNPROXY_LOG_FORMAT="console")
        status, output = await run("serve", "--port", str(port), env=env)
        emulator_status, emulator_output = await run("emulator", "--port", str(port), env=cli_env())
    assert status == 2, output
    stderr_line = [line for line in output.splitlines() if line.startswith("signproxy:")]
    assert stderr_line == [
        (
            f"signproxy: configuration error: SIGNPROXY_PORT: cannot listen on 127.0.0.1:{port}:"
            " address already in use: another program listens there (often a signproxy or"
            " emulator that is still running); stop it, or choose another port"
        )
    ]
    for text in (output, emulator_output):
        assert "Traceback" not in text
        assert "Unclosed" not in text
    assert emulator_status == 2
    assert f"--port: cannot listen on 127.0.0.1:{port}: address already in use" in emulator_output


async def test_the_emulator_without_credentials_makes_throwaway_keys_that_work(tmp_path):
    """`signproxy emulator` with no OKX_* credentials prints throwaway keys and how to use them; `check` accepts them."""
    process = await start("emulator", "--port", "0", env=cli_env())
    assert process.stdout is not None
    lines: list[str] = []
    try:
        async with asyncio.timeout(30):
            while not any("emulator_listening" in line for line in lines):
                lines.append((await process.stdout.readline()).decode())
        text = "".join(lines)
        values = dict(
            line.strip().split("=", 1) for line in lines if line.startswith("  ") and "=" in line
        )
        assert set(values) == {
            "OKX_API_KEY",
            "OKX_API_SECRET",
            "OKX_API_PASSPHRASE",
            "SIGNPROXY_UPSTREAM",
            "SIGNPROXY_ALLOW_CUSTOM_UPSTREAM",
        }
        assert "signproxy serve --env-file" in text
        env_file = write_env(tmp_path / "throwaway.env", values)
        status, output = await run("check", "--env-file", str(env_file), env=cli_env())
        assert status == 0, output
        assert "1 of 1 account(s) accepted" in output
    finally:
        await reap(process)


async def test_every_command_explains_itself():
    """Top-level help mentions REST and WebSocket; each subcommand's --help says what it does."""
    status, top = await run("--help", env=cli_env())
    assert status == 0
    assert "WebSocket" in top
    assert "REST" in top
    expected = {
        "serve": "Sign and forward REST and WebSocket requests to OKX",
        "check": "Diagnose each account's key with OKX",
        "emulator": "Run only the OKX emulator, for testing a bot offline",
        "health": "Exit 0 if a running proxy's /-/health answers 200",
    }
    for command, says in expected.items():
        status, text = await run(command, "--help", env=cli_env())
        assert status == 0
        assert says in " ".join(text.split()), command
    assert "--okx-hosts-for-tests" not in (await run("check", "--help", env=cli_env()))[1]


async def test_tests_never_read_the_working_directorys_env(tmp_path):
    """With a hostile .env in the working directory (as after `cp config.example.env .env`), the CLI tests still pass."""
    hostile = {
        "OKX_API_KEY": "00000000-fake-key-0000-000000000000",
        "OKX_API_SECRET": "FAKE0SECRET0000000000000000000000",
        "OKX_API_PASSPHRASE": "fake-passphrase",
        "OKX_DEMMO": "1",
        "SIGNPROXY_UPSTREAM": "http://127.0.0.1:9",
        "SIGNPROXY_PORT": "1",
        "SIGNPROXY_LOG_FORMAT": "console",
    }
    write_env(tmp_path / ".env", hostile)
    status, output = await run(
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(ROOT),
        "-k",
        "not never_read",
        str(ROOT / "tests" / "commands" / "test_cli.py"),
        str(ROOT / "tests" / "commands" / "test_check.py"),
        str(ROOT / "tests" / "runtime" / "test_rotation.py"),
        str(ROOT / "tests" / "commands" / "test_first_hour.py"),
        env=cli_env(),
        cwd=tmp_path,
        timeout=300,
        program=(sys.executable,),
    )
    assert status == 0, output
    assert " passed" in output
