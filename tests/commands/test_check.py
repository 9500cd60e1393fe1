"""`signproxy check` as a real subprocess against the verifying emulator."""

from __future__ import annotations

import socket
from pathlib import Path

from signproxy.emulator import EmulatorState
from tests.support.keys import DEMO_KEY, LIVE_KEY, account_env, env_for
from tests.support.processes import cli_env as clean_env
from tests.support.processes import run, running


def env_file(tmp_path: Path, values: dict[str, str]) -> str:
    path = tmp_path / "check.env"
    path.write_text("".join(f"{name}={value}\n" for name, value in values.items()))
    path.chmod(0o600)
    return str(path)


def assert_no_secret(output: str) -> None:
    for key in (LIVE_KEY, DEMO_KEY):
        for value in (key.api_key, key.secret, key.passphrase):
            assert value not in output


async def test_check_accepts_every_account(tmp_path: Path, emulator: EmulatorState, emulator_url):
    """Each account is shown (key's last 4 only) and confirmed by a signed read-only call; exit 0."""
    values = {
        **env_for(LIVE_KEY, emulator_url),
        **account_env("paper-bot", DEMO_KEY),
        "SIGNPROXY_ACCOUNTS": "paper-bot",
    }
    status, output = await run("check", "--env-file", env_file(tmp_path, values), env=clean_env())
    assert status == 0, output
    assert f"account default: live, {emulator_url}, key …0001" in output
    assert f"account paper-bot: demo, {emulator_url}, key …0002" in output
    assert "(from OKX_ACCOUNT_PAPER_BOT_*)" in output
    assert output.count("OK: accepted (uid 44705892343619584, permissions read_only,trade)") == 2
    assert "2 of 2 account(s) accepted" in output
    assert_no_secret(output)
    assert [(seen.target, seen.code) for seen in emulator.received] == [
        ("/api/v5/public/time", "0"),
        ("/api/v5/account/config", "0"),
        ("/api/v5/public/time", "0"),
        ("/api/v5/account/config", "0"),
    ]
    configs = [seen for seen in emulator.received if seen.target == "/api/v5/account/config"]
    assert [seen.headers.get("x-simulated-trading") for seen in configs] == [None, "1"]


async def test_check_fails_when_an_account_is_refused(
    tmp_path: Path, emulator: EmulatorState, emulator_url
):
    """A wrong passphrase or demo flag is reported with OKX's code and a hint; exit 1, the good one still OK."""
    wrong_pass = account_env("typo", LIVE_KEY) | {"OKX_ACCOUNT_TYPO_API_PASSPHRASE": "fake-wrong"}
    wrong_env = account_env("flag", DEMO_KEY) | {"OKX_ACCOUNT_FLAG_DEMO": "0"}
    values = {
        **env_for(LIVE_KEY, emulator_url),
        **wrong_pass,
        **wrong_env,
        "SIGNPROXY_ACCOUNTS": "typo,flag",
    }
    status, output = await run("check", "--env-file", env_file(tmp_path, values), env=clean_env())
    assert status == 1, output
    lines = output.splitlines()
    verdicts = {
        line.split(":")[0].removeprefix("account "): lines[number + 1].strip()
        for number, line in enumerate(lines)
        if line.startswith("account ")
    }
    assert verdicts["default"].startswith("OK: accepted")
    assert verdicts["typo"].startswith("FAILED: refused: HTTP 401, code 50105")
    assert "passphrase is wrong" in verdicts["typo"]
    assert verdicts["flag"].startswith("FAILED: refused: HTTP 401, code 50101")
    assert "demo flag" in verdicts["flag"]
    assert "1 of 3 account(s) accepted" in output
    assert_no_secret(output)
    configs = [seen for seen in emulator.received if seen.target == "/api/v5/account/config"]
    assert len(configs) == 3  # the emulator is no OKX host: nothing else is probed
    assert "the other OKX hosts were not tried" in output


async def test_check_fails_when_upstream_is_unreachable(tmp_path: Path):
    """When the upstream cannot be reached the account is shown but not confirmed: exit 1."""
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    values = env_for(LIVE_KEY, f"http://127.0.0.1:{port}")
    status, output = await run("check", "--env-file", env_file(tmp_path, values), env=clean_env())
    assert status == 1, output
    assert "account default: live" in output
    assert "FAILED: not checked: cannot connect to OKX" in output
    assert "0 of 1 account(s) accepted" in output


async def test_check_configuration_error_exits_2(tmp_path: Path):
    """A configuration error (an emulator upstream without the override) exits 2 naming the variable."""
    values = env_for(LIVE_KEY, "http://127.0.0.1:9")
    del values["SIGNPROXY_ALLOW_CUSTOM_UPSTREAM"]
    status, output = await run("check", "--env-file", env_file(tmp_path, values), env=clean_env())
    assert status == 2
    assert "SIGNPROXY_UPSTREAM" in output
    assert "SIGNPROXY_ALLOW_CUSTOM_UPSTREAM=1" in output
    assert_no_secret(output)


async def test_check_against_the_standalone_emulator(tmp_path: Path):
    """`signproxy emulator` accepts every configured account's key, as `check` confirms."""
    values = {
        **env_for(LIVE_KEY, "https://www.okx.com"),
        **account_env("paper-bot", DEMO_KEY),
        "SIGNPROXY_ACCOUNTS": "paper-bot",
    }
    async with running("emulator", "--port", "0", env=clean_env(**values), cwd=tmp_path) as (
        url,
        _,
    ):
        values["SIGNPROXY_UPSTREAM"] = url
        path = env_file(tmp_path, values)
        status, output = await run("check", "--env-file", path, env=clean_env())
    assert status == 0, output
    assert "2 of 2 account(s) accepted" in output
