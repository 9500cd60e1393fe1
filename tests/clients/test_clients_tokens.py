"""The client-token recipes of docs/clients.md run as written against a proxy that needs a token.

Each block is run unchanged except for the proxy's address, like the other recipes; the proxy
requires the recipes' token, so a recipe that failed to send it would be refused (SPX200).
"""

from __future__ import annotations

import re

import pytest

from tests.clients.test_clients_docs import CLIENTS_DOC, DOCUMENTED_PROXY, TOKEN_SECTION
from tests.support.clients import assert_all_signed_by_proxy, calls, run_recipe
from tests.support.keys import LIVE_KEY

pytestmark = pytest.mark.clients

TOKEN = "FAKE-token-bot-0123456789abcdef"
_FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
RECIPES = _FENCE.findall(CLIENTS_DOC.read_text(encoding="utf-8").split(TOKEN_SECTION, 1)[1])


def test_every_client_has_a_token_recipe():
    """python-okx, ccxt (Python and JS), okx-api, curl and fetch each show how to send the token."""
    assert [language for language, _ in RECIPES] == ["python", "python", "js", "js", "sh", "js"]
    assert all(TOKEN in code for _, code in RECIPES)


async def test_a_request_without_the_token_is_refused(make_proxy):
    """The proxy these recipes run against refuses a request that carries no token."""
    harness = await make_proxy(LIVE_KEY, SIGNPROXY_CLIENT_TOKENS=f"bot:{TOKEN}")
    reply = await harness.get("/api/v5/account/balance?ccy=USDT")
    assert (reply.status, reply.json()["code"]) == (401, "SPX200")
    assert harness.emulator.received == []


@pytest.mark.parametrize(
    ("language", "code"),
    RECIPES,
    ids=[f"{number}-{language}" for number, (language, _) in enumerate(RECIPES)],
)
async def test_token_recipe_runs_as_written(make_proxy, request, tmp_path, language, code):
    """The recipe exits 0 and its balance call reached OKX, signed by the proxy."""
    harness = await make_proxy(LIVE_KEY, SIGNPROXY_CLIENT_TOKENS=f"bot:{TOKEN}")
    script = code.replace(DOCUMENTED_PROXY, harness.base)
    output = await run_recipe(request, tmp_path, language, script, "token")

    assert output.strip()
    assert ("GET", "/api/v5/account/balance") in calls(harness.emulator)
    assert_all_signed_by_proxy(harness.emulator, LIVE_KEY)
