"""Choosing the account per request through a real proxy: prefix, header, token binding, demo flag.

For every refusal here nothing is forwarded to the emulator.
"""

from __future__ import annotations

import pytest

from signproxy.emulator import EmulatorState
from signproxy.proxy.selection import (
    AccountForbidden,
    AccountMalformed,
    AccountRequired,
    AccountUnknown,
)
from tests.support.keys import DEMO_KEY, LIVE_KEY, account_env, env_for
from tests.support.logs import log_lines
from tests.support.paths import DOCS

ERRORS_DOC = DOCS / "requests-and-errors.md"

BALANCE = "/api/v5/account/balance?ccy=USDT"
ORDER = '{"instId":"BTC-USDT","tdMode":"cash","side":"buy","ordType":"limit","px":"1","sz":"1"}'
PAPER_TOKEN = "tok-paper-bot-aaaaaaaaaaaaaaaa"
LIVE_TOKEN = "tok-live-bot-bbbbbbbbbbbbbbbbb"
OPS_TOKEN = "tok-ops-cccccccccccccccccccccc"
OLD_TOKEN = "tok-old-dddddddddddddddddddddd"
TOKENS = (
    f"paper-bot:{PAPER_TOKEN}:paper,live-bot:{LIVE_TOKEN}:live,"
    f"ops:{OPS_TOKEN}:paper+live,old:{OLD_TOKEN}"
)


def two_accounts(emulator_url: str, *, default: bool = True, **extra: str) -> dict[str, str]:
    """``paper`` (the demo key) and ``live`` (the live key), and the live key as ``default``."""
    env = env_for(LIVE_KEY, emulator_url) if default else {
        "SIGNPROXY_UPSTREAM": emulator_url,
        "SIGNPROXY_ALLOW_CUSTOM_UPSTREAM": "1",
    }  # fmt: skip
    return {
        **env,
        **account_env("paper", DEMO_KEY),
        **account_env("live", LIVE_KEY),
        "SIGNPROXY_ACCOUNTS": "paper,live",
        **extra,
    }


def signed_with(emulator: EmulatorState) -> list[str]:
    """The API key of every request that reached the emulator."""
    return [seen.headers["OK-ACCESS-KEY"] for seen in emulator.received]


async def test_path_prefix_selects_account_and_is_not_signed(
    proxy_from_env, emulator, emulator_url, log_output
):
    """/a/<name>/api/v5/... is signed and sent as /api/v5/... with that account's key and demo flag."""
    proxy = await proxy_from_env(two_accounts(emulator_url))
    paper = await proxy.get("/a/paper" + BALANCE)
    live = await proxy.post("/a/LIVE/api/v5/trade/order", ORDER)
    assert (paper.status, paper.json()["code"]) == (200, "0")
    assert (live.status, live.json()["code"]) == (200, "0")
    first, second = emulator.received
    assert (first.target, first.headers["OK-ACCESS-KEY"]) == (BALANCE, DEMO_KEY.api_key)
    assert first.headers.getall("x-simulated-trading") == ["1"]
    assert (second.target, second.headers["OK-ACCESS-KEY"]) == (
        "/api/v5/trade/order",
        LIVE_KEY.api_key,
    )
    assert "x-simulated-trading" not in second.headers
    lines = log_lines(log_output, "signproxy.request")
    assert [(line["account"], line["path"]) for line in lines] == [
        ("paper", "/api/v5/account/balance"),
        ("live", "/api/v5/trade/order"),
    ]


async def test_header_selects_account_and_default_is_used_otherwise(
    proxy_from_env, emulator, emulator_url
):
    """X-Signproxy-Account selects an account (any case); without prefix or header the default account signs."""
    proxy = await proxy_from_env(two_accounts(emulator_url))
    assert (await proxy.get(BALANCE, headers={"X-Signproxy-Account": " Paper "})).status == 200
    assert (await proxy.get(BALANCE)).status == 200
    assert (await proxy.get(BALANCE, headers={"X-Signproxy-Account": "default"})).status == 200
    assert signed_with(emulator) == [DEMO_KEY.api_key, LIVE_KEY.api_key, LIVE_KEY.api_key]
    assert all(seen.code == "0" for seen in emulator.received)


@pytest.mark.parametrize(
    ("target", "headers", "code", "status"),
    [
        ("/a/nobody" + BALANCE, {}, "SPX600", 404),
        (BALANCE, {"X-Signproxy-Account": "nobody"}, "SPX600", 404),
        ("/a/paper" + BALANCE, {"X-Signproxy-Account": "live"}, "SPX602", 400),
        ("/a/Bad_Name" + BALANCE, {}, "SPX602", 400),
        ("/a/%70aper" + BALANCE, {}, "SPX602", 400),
        (BALANCE, {"X-Signproxy-Account": "pa per"}, "SPX602", 400),
        ("/a/paper", {}, "SPX102", 400),
        ("/a/paper/a/live" + BALANCE, {}, "SPX100", 404),
    ],
    ids=["unknown-prefix", "unknown-header", "conflict", "bad-name", "escaped-name",
         "bad-header", "prefix-only", "double-prefix"],
)  # fmt: skip
async def test_bad_selection_is_refused_and_nothing_forwarded(
    proxy_from_env, emulator, emulator_url, log_output, target, headers, code, status
):
    """Unknown, malformed or conflicting account names get an OKX-shaped SPX error; nothing reaches OKX."""
    proxy = await proxy_from_env(two_accounts(emulator_url))
    reply = await proxy.get(target, headers=headers)
    assert (reply.status, reply.json()["code"], reply.headers["X-Signproxy-Error"]) == (
        status,
        code,
        code,
    )
    assert reply.json()["data"] == []
    assert emulator.received == []
    (line,) = log_lines(log_output, "signproxy.request")
    assert (line["error"], line["status"]) == (code, status)


async def test_two_account_headers_are_refused(proxy_from_env, emulator, emulator_url):
    """Two X-Signproxy-Account headers are ambiguous: SPX602."""
    proxy = await proxy_from_env(two_accounts(emulator_url))
    reply = await proxy.session.get(
        proxy.base + BALANCE,
        headers=[("X-Signproxy-Account", "paper"), ("X-Signproxy-Account", "paper")],
    )
    assert (await reply.json())["code"] == "SPX602"
    assert emulator.received == []


async def test_several_accounts_without_default_need_a_choice(
    proxy_from_env, emulator, emulator_url
):
    """With no default account and two named ones, a request naming none gets SPX603; naming one works."""
    proxy = await proxy_from_env(two_accounts(emulator_url, default=False))
    reply = await proxy.get(BALANCE)
    assert (reply.status, reply.json()["code"]) == (400, "SPX603")
    assert emulator.received == []
    assert (await proxy.get("/a/live" + BALANCE)).json()["code"] == "0"
    assert signed_with(emulator) == [LIVE_KEY.api_key]


async def test_single_named_account_needs_no_choice(proxy_from_env, emulator, emulator_url):
    """When the only account is a named one, requests use it without prefix or header."""
    env = two_accounts(emulator_url, default=False, SIGNPROXY_ACCOUNTS="paper")
    env = {name: value for name, value in env.items() if not name.startswith("OKX_ACCOUNT_LIVE")}
    proxy = await proxy_from_env(env)
    assert (await proxy.get(BALANCE)).json()["code"] == "0"
    assert signed_with(emulator) == [DEMO_KEY.api_key]


async def test_token_bound_to_one_account_selects_it(
    proxy_from_env, emulator, emulator_url, log_output
):
    """A token bound to exactly one account uses it without prefix or header."""
    proxy = await proxy_from_env(two_accounts(emulator_url, SIGNPROXY_CLIENT_TOKENS=TOKENS))
    paper = await proxy.get(BALANCE, headers={"Authorization": f"Bearer {PAPER_TOKEN}"})
    live = await proxy.get(BALANCE, headers={"X-Signproxy-Token": LIVE_TOKEN})
    assert paper.json()["code"] == live.json()["code"] == "0"
    assert signed_with(emulator) == [DEMO_KEY.api_key, LIVE_KEY.api_key]
    lines = log_lines(log_output, "signproxy.request")
    assert [(line["client"], line["account"]) for line in lines] == [
        ("paper-bot", "paper"),
        ("live-bot", "live"),
    ]


@pytest.mark.parametrize(
    ("target", "headers"),
    [
        (BALANCE, {"X-Signproxy-Account": "live"}),
        ("/a/live" + BALANCE, {}),
        ("/a/default" + BALANCE, {}),
        (BALANCE, {"X-Signproxy-Account": "default"}),
        ("/a/nobody" + BALANCE, {}),
    ],
    ids=["header-live", "prefix-live", "prefix-default", "header-default", "unknown"],
)
async def test_bound_token_cannot_reach_another_account(
    proxy_from_env, emulator, emulator_url, target, headers
):
    """The paper bot's token gets SPX601 for any other account, by header or prefix; nothing is forwarded."""
    proxy = await proxy_from_env(two_accounts(emulator_url, SIGNPROXY_CLIENT_TOKENS=TOKENS))
    reply = await proxy.get(target, headers={**headers, "Authorization": f"Bearer {PAPER_TOKEN}"})
    assert (reply.status, reply.json()["code"]) == (403, "SPX601")
    assert emulator.received == []


async def test_token_bound_to_several_accounts_must_choose(proxy_from_env, emulator, emulator_url):
    """A token bound to two accounts gets SPX603 without a choice and may use either of them."""
    proxy = await proxy_from_env(two_accounts(emulator_url, SIGNPROXY_CLIENT_TOKENS=TOKENS))
    auth = {"Authorization": f"Bearer {OPS_TOKEN}"}
    assert (await proxy.get(BALANCE, headers=auth)).json()["code"] == "SPX603"
    assert (await proxy.get("/a/paper" + BALANCE, headers=auth)).json()["code"] == "0"
    assert (await proxy.get(BALANCE, headers={**auth, "X-Signproxy-Account": "live"})).json()[
        "code"
    ] == "0"
    forbidden = await proxy.get("/a/default" + BALANCE, headers=auth)
    assert forbidden.json()["code"] == "SPX601"
    assert signed_with(emulator) == [DEMO_KEY.api_key, LIVE_KEY.api_key]


async def test_unbound_token_may_use_every_account(proxy_from_env, emulator, emulator_url):
    """A plain name:token entry may use any account (and the default one without a choice)."""
    proxy = await proxy_from_env(two_accounts(emulator_url, SIGNPROXY_CLIENT_TOKENS=TOKENS))
    auth = {"Authorization": f"Bearer {OLD_TOKEN}"}
    for target in (BALANCE, "/a/paper" + BALANCE, "/a/live" + BALANCE):
        assert (await proxy.get(target, headers=auth)).json()["code"] == "0"
    assert signed_with(emulator) == [LIVE_KEY.api_key, DEMO_KEY.api_key, LIVE_KEY.api_key]


@pytest.mark.parametrize(("account", "client_flag"), [("paper", "0"), ("live", "1")])
async def test_account_decides_demo_header_whatever_the_client_sends(
    proxy_from_env, emulator, emulator_url, account, client_flag
):
    """Demo accounts always send x-simulated-trading: 1 and live ones never do, whatever the client says."""
    proxy = await proxy_from_env(two_accounts(emulator_url))
    reply = await proxy.post(
        f"/a/{account}/api/v5/trade/order", ORDER, headers={"x-simulated-trading": client_flag}
    )
    assert reply.json()["code"] == "0"
    (seen,) = emulator.received
    expected = ["1"] if account == "paper" else []
    assert seen.headers.getall("x-simulated-trading", []) == expected


async def test_demo_flag_mismatch_is_logged_once_per_client(
    proxy_from_env, emulator_url, log_output
):
    """A client whose x-simulated-trading disagrees with its account is logged once per token name."""
    proxy = await proxy_from_env(two_accounts(emulator_url, SIGNPROXY_CLIENT_TOKENS=TOKENS))
    paper_bot = {"X-Signproxy-Token": PAPER_TOKEN, "x-simulated-trading": "0"}
    live_bot = {"X-Signproxy-Token": LIVE_TOKEN, "x-simulated-trading": "1"}
    agreeing = {"X-Signproxy-Token": OPS_TOKEN, "x-simulated-trading": "1"}
    for _ in range(3):
        await proxy.get(BALANCE, headers=paper_bot)
        await proxy.get(BALANCE, headers=live_bot)
        await proxy.get("/a/paper" + BALANCE, headers=agreeing)
        await proxy.get("/a/live" + BALANCE, headers={"X-Signproxy-Token": OPS_TOKEN})
    notes = log_lines(log_output, "signproxy.demo_flag_mismatch")
    assert [(n["client"], n["account"], n["account_demo"], n["client_demo"]) for n in notes] == [
        ("paper-bot", "paper", True, False),
        ("live-bot", "live", False, True),
    ]
    assert all(n["level"] == "warning" for n in notes)


async def test_demo_flag_mismatch_without_tokens_is_per_address(
    proxy_from_env, emulator_url, log_output
):
    """Without client tokens the mismatch note is keyed by the client's address: once for many requests."""
    proxy = await proxy_from_env(two_accounts(emulator_url))
    for _ in range(3):
        await proxy.get(BALANCE, headers={"x-simulated-trading": "1"})  # default is live
    (note,) = log_lines(log_output, "signproxy.demo_flag_mismatch")
    assert note["client"] == "127.0.0.1"
    assert (note["account"], note["client_demo"]) == ("default", True)


@pytest.mark.parametrize(
    "error", [AccountUnknown, AccountForbidden, AccountMalformed, AccountRequired]
)
def test_account_codes_are_documented(error) -> None:
    """Each account refusal has its own SPX6xx code, with its status, in the docs' error table."""
    assert error.code.startswith("SPX6")
    assert f"| `{error.code}` | {error.status} |" in ERRORS_DOC.read_text()
