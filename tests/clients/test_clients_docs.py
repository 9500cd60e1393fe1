"""Every recipe in docs/clients.md runs as written against a proxy.

Each fenced block is run unchanged except for the proxy's address (the test proxy listens on a
free port instead of 8787): Python blocks with this interpreter, JavaScript blocks with node
next to the npm packages of tests/clients/node, shell blocks with bash.
"""

from __future__ import annotations

import re

import pytest

from tests.support.clients import assert_all_signed_by_proxy, calls, run_recipe
from tests.support.keys import LIVE_KEY
from tests.support.paths import DOCS

pytestmark = pytest.mark.clients

CLIENTS_DOC = DOCS / "clients.md"
DOCUMENTED_PROXY = "http://127.0.0.1:8787"
TOKEN_SECTION = "\n## Sending the client token\n"
_FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def client_recipes() -> list[tuple[str, str]]:
    """``(language, code)`` of each fenced block in docs/clients.md, before the token recipes.

    The recipes that send a client token run against a proxy that requires one, in
    tests/clients/test_clients_tokens.py.
    """
    text = CLIENTS_DOC.read_text(encoding="utf-8").split(TOKEN_SECTION, 1)[0]
    return _FENCE.findall(text)


RECIPES = client_recipes()


def test_every_client_has_a_recipe():
    """docs/clients.md has python-okx, ccxt (Python, JS), okx-api, curl and fetch recipes."""
    assert [language for language, _ in RECIPES] == ["python", "python", "js", "js", "sh", "js"]
    code = "\n".join(block for _, block in RECIPES)
    for needle in ("okx.Trade.TradeAPI", "ccxt.okx({", "new ccxt.okx", '"okx-api"', "curl -s"):
        assert needle in code
    assert "await fetch(" in code


@pytest.mark.parametrize(
    ("language", "code"),
    RECIPES,
    ids=[f"{number}-{language}" for number, (language, _) in enumerate(RECIPES)],
)
async def test_docs_recipe_runs_as_written(make_proxy, request, tmp_path, language, code):
    """The recipe exits 0, and every call it made reached OKX signed by the proxy and succeeded."""
    assert DOCUMENTED_PROXY in code
    harness = await make_proxy(LIVE_KEY)
    script = code.replace(DOCUMENTED_PROXY, harness.base)
    output = await run_recipe(request, tmp_path, language, script, "docs")

    assert output.strip()
    assert_all_signed_by_proxy(harness.emulator, LIVE_KEY)
    assert ("POST", "/api/v5/trade/cancel-order") in calls(harness.emulator)
    assert all(order["state"] == "canceled" for order in harness.emulator.all_orders())
