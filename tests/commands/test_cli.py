"""The command line, run as real subprocesses."""

import sys
from pathlib import Path

import aiohttp

from signproxy.emulator import EmulatorState
from tests.support.keys import LIVE_KEY, env_for
from tests.support.processes import cli_env, run, running

ORDER = '{"instId":"BTC-USDT","tdMode":"cash","side":"buy","ordType":"limit","px":"1","sz":"1"}'

clean_env = cli_env  # the name the other CLI tests import


async def get_json(url: str) -> tuple[int, dict]:
    """GET ``url``; return (status, parsed JSON body)."""
    async with aiohttp.ClientSession() as session, session.get(url) as resp:
        return resp.status, await resp.json()


async def test_missing_credential_is_startup_error(tmp_path: Path) -> None:
    """`serve` without a secret exits 2 naming the variable; it never falls back to the emulator."""
    env = clean_env(OKX_API_KEY=LIVE_KEY.api_key, OKX_API_PASSPHRASE=LIVE_KEY.passphrase)
    status, out = await run("serve", "--port", "0", env=env, cwd=tmp_path)
    assert status == 2
    assert "OKX_API_SECRET" in out
    assert "listening" not in out
    assert LIVE_KEY.passphrase not in out


async def test_missing_env_file_is_error() -> None:
    """--env-file naming a missing file is a startup error."""
    status, out = await run("serve", "--env-file", "/nonexistent/.env", env=clean_env())
    assert status == 2
    assert "--env-file" in out


async def test_serve_emulator_signs_orders(tmp_path: Path) -> None:
    """`serve --emulator` needs no account: an unsigned order through it is accepted, and SIGTERM exits 0."""
    async with (
        running("serve", "--emulator", "--port", "0", env=clean_env(), cwd=tmp_path) as (
            url,
            seen,
        ),
        aiohttp.ClientSession() as session,
        session.post(
            url + "/api/v5/trade/order",
            data=ORDER,
            headers={"Content-Type": "application/json"},
        ) as resp,
    ):
        body = await resp.json()
    assert body["code"] == "0"
    assert body["data"][0]["sCode"] == "0"
    assert any(entry["event"] == "signproxy.emulator_started" for entry in seen)
    assert not any(entry["level"] == "warning" for entry in seen), seen
    assert any(entry["event"] == "signproxy.stopped" for entry in seen)


async def test_env_file_is_read_and_environment_wins(
    tmp_path: Path, emulator: EmulatorState, emulator_url: str
) -> None:
    """`serve --env-file` reads the file; a variable in the environment overrides the file's."""
    env_file = tmp_path / "proxy.env"
    file_values = env_for(LIVE_KEY, emulator_url)
    file_values["OKX_API_SECRET"] = "FAKE0WRONG0SECRET0IN0FILE0000000"
    env_file.write_text("".join(f"{name}={value}\n" for name, value in file_values.items()))
    env = clean_env(OKX_API_SECRET=LIVE_KEY.secret)
    async with running("serve", "--env-file", str(env_file), "--port", "0", env=env) as (url, seen):
        status, body = await get_json(url + "/api/v5/account/balance")
    assert (status, body["code"]) == (200, "0")
    assert emulator.received[0].code == "0"
    # A host that is not OKX's, allowed by SIGNPROXY_ALLOW_CUSTOM_UPSTREAM, is said out loud.
    (notice,) = [entry for entry in seen if entry["event"] == "signproxy.custom_upstream"]
    assert (notice["account"], notice["level"]) == ("default", "warning")


async def test_dotenv_in_working_directory_is_default(
    tmp_path: Path, emulator: EmulatorState, emulator_url: str
) -> None:
    """Without --env-file, ./.env is read; its secret comes from a _FILE path."""
    secret_file = tmp_path / "secret"
    secret_file.write_text(LIVE_KEY.secret + "\n")
    secret_file.chmod(0o600)
    values = env_for(LIVE_KEY, emulator_url)
    del values["OKX_API_SECRET"]
    values["OKX_API_SECRET_FILE"] = str(secret_file)
    (tmp_path / ".env").write_text("".join(f"{name}={value}\n" for name, value in values.items()))
    async with running("serve", "--port", "0", env=clean_env(), cwd=tmp_path) as (url, seen):
        status, _ = await get_json(url + "/api/v5/account/balance")
    assert status == 200
    assert emulator.received[0].code == "0"
    assert not any(entry["event"] == "signproxy.config_warning" for entry in seen)


async def test_standalone_emulator_accepts_configured_key(tmp_path: Path) -> None:
    """`signproxy emulator` verifies requests signed with the OKX_API_* credentials."""
    env = clean_env(**env_for(LIVE_KEY, "https://www.okx.com"))
    async with running("emulator", "--port", "0", env=env, cwd=tmp_path) as (url, _):
        status, body = await get_json(url + "/api/v5/account/balance")
    assert (status, body["code"]) == (401, "50103")


async def test_version_and_help() -> None:
    """`--version` prints the version; `--help` lists the subcommands."""
    status, out = await run("--version", env=clean_env())
    assert status == 0
    assert out.startswith("signproxy ")
    status, out = await run("--help", env=clean_env())
    assert status == 0
    assert "serve" in out
    assert "emulator" in out


async def test_console_script_is_installed() -> None:
    """The package installs a `signproxy` console script next to the interpreter."""
    script = Path(sys.executable).parent / "signproxy"
    assert script.is_file()
    status, out = await run("--version", env=clean_env(), program=(str(script),))
    assert status == 0
    assert out.startswith("signproxy ")


async def test_log_options_are_checked_and_applied() -> None:
    """A bad SIGNPROXY_LOG_LEVEL is a config error (exit 2, named); SIGNPROXY_LOG_FORMAT=console is used."""
    status, out = await run("serve", "--port", "0", env=clean_env(SIGNPROXY_LOG_LEVEL="verbose"))
    assert status == 2
    assert "SIGNPROXY_LOG_LEVEL" in out
    assert "Traceback" not in out
    # A later config error (no credentials) is logged in the chosen format.
    status, out = await run("serve", "--port", "0", env=clean_env(SIGNPROXY_LOG_FORMAT="console"))
    assert status == 2
    first = out.splitlines()[0]
    assert "signproxy.config_error" in first
    assert not first.startswith("{")
