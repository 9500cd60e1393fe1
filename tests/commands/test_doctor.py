"""`signproxy check` as the doctor: every case it diagnoses, against verifying emulators.

The region probes go to local emulators standing in for OKX's hosts, through the hidden
test-only option --okx-hosts-for-tests; nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from signproxy.emulator import EMULATOR, EmulatedKey, create_emulator_app
from tests.support.keys import DEMO_KEY, LIVE_KEY, account_env
from tests.support.processes import cli_env, run

EEA_KEY = EmulatedKey(
    api_key="fake-eea-key-0005",
    secret="FAKE0SECRET0EEA0NOT0REAL00000005",
    passphrase="fake-pass-eea-05",
)
ALL_KEYS = (LIVE_KEY, DEMO_KEY, EEA_KEY)


def url_of(server) -> str:
    return str(server.make_url("")).rstrip("/")


async def doctor(tmp_path: Path, values: dict[str, str], *extra: str) -> tuple[int, str]:
    """Run `signproxy check` with ``values`` in an env file; (exit status, output)."""
    path = tmp_path / "check.env"
    path.write_text("".join(f"{name}={value}\n" for name, value in values.items()))
    path.chmod(0o600)
    status, output = await run("check", "--env-file", str(path), *extra, env=cli_env())
    for key in ALL_KEYS:
        for secret in (key.api_key, key.secret, key.passphrase):
            assert secret not in output
    return status, output


def one_account(name: str, key: EmulatedKey, upstream: str, **extra: str) -> dict[str, str]:
    """Variables for one named account on ``upstream`` (custom upstreams allowed)."""
    return {
        "SIGNPROXY_ACCOUNTS": name,
        "SIGNPROXY_ALLOW_CUSTOM_UPSTREAM": "1",
        **account_env(name, key),
        f"OKX_ACCOUNT_{name.upper()}_UPSTREAM": upstream,
        **extra,
    }


@pytest.fixture
async def regions(aiohttp_server):
    """Two emulators standing for www.okx.com and eea.okx.com; EEA_KEY lives on the second."""
    www = await aiohttp_server(create_emulator_app([LIVE_KEY, DEMO_KEY], elsewhere=[EEA_KEY]))
    eea = await aiohttp_server(create_emulator_app([EEA_KEY], elsewhere=[LIVE_KEY, DEMO_KEY]))
    hosts = f"https://www.okx.com={url_of(www)},https://eea.okx.com={url_of(eea)}"
    return url_of(www), url_of(eea), hosts, eea.app[EMULATOR]


async def test_a_key_of_another_region_is_found_and_the_variable_named(tmp_path, regions):
    """50119 on the configured host: the doctor finds the host that accepts the key and says which variable to set; exit 1."""
    www, _eea, hosts, eea_state = regions
    values = one_account("europe", EEA_KEY, www)
    status, output = await doctor(tmp_path, values, "--okx-hosts-for-tests", hosts)
    assert status == 1, output
    assert "FAILED: refused: HTTP 200, code 50119" in output
    assert (
        "fix: this key belongs to https://eea.okx.com (a live key):"
        " set OKX_ACCOUNT_EUROPE_UPSTREAM=https://eea.okx.com"
    ) in output
    assert [seen.code for seen in eea_state.received if "config" in seen.target] == ["0"]


async def test_a_demo_key_configured_as_live_is_found(tmp_path, regions):
    """50101 (the demo flag does not match): the doctor tries the other flag and names the DEMO variable."""
    www, _eea, hosts, _ = regions
    values = one_account("paper", DEMO_KEY, www, OKX_ACCOUNT_PAPER_DEMO="0")
    status, output = await doctor(tmp_path, values, "--okx-hosts-for-tests", hosts)
    assert status == 1, output
    assert "code 50101" in output
    assert (
        "fix: this key belongs to https://www.okx.com (a demo-trading key): set OKX_ACCOUNT_PAPER_DEMO=1"
        in output
    )


async def test_a_key_no_host_accepts_is_said_so(tmp_path, regions):
    """A key neither host nor flag accepts: the doctor says so after trying them all."""
    www, _eea, hosts, _ = regions
    ghost = EmulatedKey("fake-ghost-key-0006", "FAKE0SECRET0GHOST0NOT0REAL000006", "fake-pass-06")
    path_values = one_account("ghost", ghost, www)
    status, output = await doctor(tmp_path, path_values, "--okx-hosts-for-tests", hosts)
    assert status == 1
    assert "code 50111" in output  # unknown everywhere: not a region question, nothing probed
    assert "OKX does not know this API key" in output


async def test_ip_not_allowed_names_the_address_okx_saw(tmp_path, aiohttp_server):
    """50110: the doctor explains it with the address OKX reported; exit 1."""
    bound = EmulatedKey(
        "fake-bound-key-0007",
        "FAKE0SECRET0BOUND0NOT0REAL000007",
        "fake-pass-07",
        ips=("203.0.113.7",),
    )
    server = await aiohttp_server(create_emulator_app([bound]))
    status, output = await doctor(tmp_path, one_account("bound", bound, url_of(server)))
    assert status == 1
    assert "code 50110" in output
    assert "OKX saw this machine as 127.0.0.1" in output
    assert "IP allow-list" in output


async def test_permissions_and_ip_binding_are_read_and_warned_about(tmp_path, aiohttp_server):
    """A key that can withdraw and is bound to no IP, and one that cannot trade: accepted with warnings, exit 0."""
    risky = EmulatedKey(
        "fake-risky-key-0008",
        "FAKE0SECRET0RISKY0NOT0REAL000008",
        "fake-pass-08",
        perm="read_only,withdraw,trade",
    )
    reader = EmulatedKey(
        "fake-reader-key-0009",
        "FAKE0SECRET0READ0NOT0REAL0000009",
        "fake-pass-09",
        perm="read_only",
        ips=("127.0.0.1",),
    )
    server = await aiohttp_server(create_emulator_app([risky, reader]))
    values = {
        "SIGNPROXY_ACCOUNTS": "risky,reader",
        "SIGNPROXY_ALLOW_CUSTOM_UPSTREAM": "1",
        **account_env("risky", risky),
        **account_env("reader", reader),
        "OKX_ACCOUNT_RISKY_UPSTREAM": url_of(server),
        "OKX_ACCOUNT_READER_UPSTREAM": url_of(server),
    }
    status, output = await doctor(tmp_path, values)
    assert status == 0, output
    risky_part, reader_part = output.split("account reader:")
    assert "permissions read_only,withdraw,trade" in risky_part
    assert (
        "warning: the key can withdraw: the proxy refuses withdrawals, but a key without withdraw rights is safer"
        in risky_part
    )
    assert "warning: the key is bound to no IP address" in risky_part
    assert "IP binding: 127.0.0.1" in reader_part
    assert "warning: the key cannot trade" in reader_part
    assert "bound to no IP" not in reader_part


async def test_a_clock_far_off_is_measured_and_explained(tmp_path, aiohttp_server):
    """OKX's clock 40 s ahead: the offset is shown, the 50102 refusal explained; exit 1."""
    server = await aiohttp_server(create_emulator_app([LIVE_KEY], clock_offset_ms=40_000))
    status, output = await doctor(tmp_path, one_account("late", LIVE_KEY, url_of(server)))
    assert status == 1
    assert "code 50102" in output
    assert "synchronise this machine's clock" in output
    (clock_line,) = [line for line in output.splitlines() if line.strip().startswith("clock:")]
    assert 35_000 < int(clock_line.split()[1]) < 45_000


async def test_json_output_for_scripts(tmp_path, regions):
    """--json prints one document: ok false, each account's code, problems, permissions and offset."""
    www, _eea, hosts, _ = regions
    values = {
        **one_account("europe", EEA_KEY, www),
        **account_env("main", LIVE_KEY),
        "OKX_ACCOUNT_MAIN_UPSTREAM": www,
        "SIGNPROXY_ACCOUNTS": "europe,main",
    }
    status, output = await doctor(tmp_path, values, "--json", "--okx-hosts-for-tests", hosts)
    assert status == 1
    document = json.loads(output)
    assert document["ok"] is False
    europe, main = document["accounts"]
    assert (europe["account"], europe["ok"], europe["okx_code"]) == ("europe", False, "50119")
    assert any("OKX_ACCOUNT_EUROPE_UPSTREAM=https://eea.okx.com" in p for p in europe["problems"])
    assert (main["ok"], main["okx_code"], main["permissions"]) == (
        True,
        "0",
        ["read_only", "trade"],
    )
    assert isinstance(main["clock_offset_ms"], int)
    assert main["key"] == "…0001"


async def test_the_test_only_host_map_accepts_only_loopback(tmp_path, regions):
    """--okx-hosts-for-tests refuses anything but OKX hosts mapped to loopback http URLs (exit 2)."""
    www, *_ = regions
    status, output = await doctor(
        tmp_path,
        one_account("a", LIVE_KEY, www),
        "--okx-hosts-for-tests",
        "https://www.okx.com=https://evil.example",
    )
    assert status == 2
    assert "--okx-hosts-for-tests" in output
