"""Operator tokens and client tokens never stand in for each other."""

from __future__ import annotations

import pytest

from signproxy.errors import ConfigError
from signproxy.settings.config import Settings
from tests.support.keys import LIVE_KEY, env_for

OPERATOR = "fake0operator0token0for0tests01"
CLIENT = "fake0client0token0for0tests0001"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("with_clients", [True, False])
async def test_operator_endpoints_need_an_operator_token(make_proxy, with_clients) -> None:
    """A client token, a wrong token or no token cannot halt, resume or see the status."""
    extra = {"SIGNPROXY_CLIENT_TOKENS": f"bot:{CLIENT}"} if with_clients else {}
    proxy = await make_proxy(SIGNPROXY_OPERATOR_TOKENS=f"ops:{OPERATOR}", **extra)
    for method, path in (("POST", "/-/halt"), ("POST", "/-/resume"), ("GET", "/-/status")):
        body = "{}" if method == "POST" else None
        reply = await proxy.request(method, path, body=body, headers=bearer(CLIENT))
        assert (reply.status, reply.json()["code"]) == (403, "SPX852")
        reply = await proxy.request(method, path, body=body)
        assert (reply.status, reply.json()["code"]) == (401, "SPX851")
    reply = await proxy.get("/-/status", headers=bearer(OPERATOR))
    assert (reply.status, reply.json()["halted"]) == (200, False)


@pytest.mark.parametrize("with_clients", [True, False])
async def test_an_operator_token_cannot_sign(make_proxy, emulator, with_clients) -> None:
    """A request to OKX carrying an operator token is refused (SPX201), client tokens or not."""
    extra = {"SIGNPROXY_CLIENT_TOKENS": f"bot:{CLIENT}"} if with_clients else {}
    proxy = await make_proxy(SIGNPROXY_OPERATOR_TOKENS=f"ops:{OPERATOR}", **extra)
    reply = await proxy.get("/api/v5/account/balance", headers=bearer(OPERATOR))
    assert (reply.status, reply.json()["code"]) == (401, "SPX201")
    reply = await proxy.get("/api/v5/account/balance", headers={"X-Signproxy-Token": OPERATOR})
    assert reply.json()["code"] == "SPX201"
    assert not emulator.received
    if with_clients:
        reply = await proxy.get("/api/v5/account/balance", headers=bearer(CLIENT))
        assert reply.status == 200


async def test_without_operator_tokens_nobody_halts(make_proxy) -> None:
    """No SIGNPROXY_OPERATOR_TOKENS: the operator endpoints answer SPX853."""
    proxy = await make_proxy()
    reply = await proxy.post("/-/halt", "{}", headers=bearer(OPERATOR))
    assert (reply.status, reply.json()["code"]) == (403, "SPX853")


async def test_a_halt_body_is_checked(make_proxy) -> None:
    """A halt body must be a JSON object with a printable reason and a boolean cancel_open."""
    proxy = await make_proxy(SIGNPROXY_OPERATOR_TOKENS=f"ops:{OPERATOR}")
    for body in (
        "[]",
        "not json",
        '{"reason": 5}',
        '{"cancel_open": "yes"}',
        '{"reason": "a\\nb"}',
    ):
        reply = await proxy.post("/-/halt", body, headers=bearer(OPERATOR))
        assert (reply.status, reply.json()["code"]) == (400, "SPX854"), body
    reply = await proxy.get("/-/status", headers=bearer(OPERATOR))
    assert reply.json()["halted"] is False


async def test_the_heartbeat_follows_the_token_binding(proxy_from_env, emulator_url) -> None:
    """GET /-/heartbeat marks the account the client token is bound to; other accounts are refused."""
    env = {
        **env_for(LIVE_KEY, emulator_url),
        "SIGNPROXY_ACCOUNTS": "alt",
        "OKX_ACCOUNT_ALT_API_KEY": "fake-alt-key-0003",
        "OKX_ACCOUNT_ALT_API_SECRET": "FAKE0SECRET0ALT0NOT0REAL00000003",
        "OKX_ACCOUNT_ALT_API_PASSPHRASE": "fake-pass-alt-03",
        "OKX_ACCOUNT_ALT_DEADMAN_S": "30",
        "SIGNPROXY_CLIENT_TOKENS": f"bot:{CLIENT}:alt",
    }
    proxy = await proxy_from_env(env)
    reply = await proxy.get("/-/heartbeat", headers=bearer(CLIENT))
    assert reply.status == 200
    assert reply.json()["account"] == "alt"
    assert reply.json()["deadman"]["seconds"] == 30
    reply = await proxy.get("/a/default/-/heartbeat", headers=bearer(CLIENT))
    assert (reply.status, reply.json()["code"]) == (403, "SPX601")


@pytest.mark.parametrize(
    ("variables", "problem"),
    [
        ({"SIGNPROXY_OPERATOR_TOKENS": f"ops:{CLIENT}"}, "is also a client token"),
        ({"SIGNPROXY_OPERATOR_TOKENS": f"ops:{OPERATOR}:default"}, "bound to no account"),
        ({"SIGNPROXY_DEADMAN_S": "5"}, r"0 \(off\) or 10-120"),
        ({"SIGNPROXY_DEADMAN_S": "121"}, r"0 \(off\) or 10-120"),
        ({"SIGNPROXY_DEADMAN_S": "ten"}, "whole number"),
        ({"SIGNPROXY_DEADMAN_ON_STOP": "cancel"}, "stay, disarm"),
        (
            {"SIGNPROXY_OPERATOR_TOKENS": f"ops:{OPERATOR}", "SIGNPROXY_WORKERS": "2"},
            "a halt would stop only the worker",
        ),
    ],
)
def test_switch_settings_are_validated(variables, problem) -> None:
    """Bad switch settings stop the proxy at startup with the variable named."""
    env = env_for(LIVE_KEY, "http://127.0.0.1:1", SIGNPROXY_CLIENT_TOKENS=f"bot:{CLIENT}")
    with pytest.raises(ConfigError, match=problem):
        Settings.from_env({**env, **variables})


def test_the_halt_state_dir_defaults_next_to_the_journal(tmp_path) -> None:
    """Without SIGNPROXY_STATE_DIR the halt is kept next to SIGNPROXY_JOURNAL; with neither, a warning says it is not durable."""
    env = env_for(LIVE_KEY, "http://127.0.0.1:1", SIGNPROXY_OPERATOR_TOKENS=f"ops:{OPERATOR}")
    journal = tmp_path / "j" / "journal.sqlite"
    settings = Settings.from_env({**env, "SIGNPROXY_JOURNAL": str(journal)})
    assert settings.switches.state_dir == journal.parent
    settings = Settings.from_env(env)
    assert settings.switches.state_dir is None
    assert any("SIGNPROXY_STATE_DIR" in warning for warning in settings.warnings)
    assert OPERATOR in settings.sensitive_values()
