"""Real SDKs that only take a base URL select accounts with the path prefix, or with a bound token.

The SDKs are synchronous; they run in a worker thread so the proxy and emulator keep serving.
"""

from __future__ import annotations

import asyncio

import ccxt
import pytest

from tests.clients.test_clients_python import (
    assert_ccxt_round_trip,
    ccxt_exchange,
    ccxt_round_trip,
    okx_round_trip,
)
from tests.proxy.test_selection import LIVE_TOKEN, PAPER_TOKEN, TOKENS, two_accounts
from tests.support.clients import assert_all_signed_by_proxy, calls
from tests.support.keys import DEMO_KEY, LIVE_KEY

pytestmark = [
    pytest.mark.clients,
    pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:datetime.datetime.utcnow:DeprecationWarning"),
]


@pytest.mark.parametrize(("account", "key"), [("paper", DEMO_KEY), ("live", LIVE_KEY)])
async def test_python_okx_domain_with_account_prefix(
    proxy_from_env, emulator, emulator_url, account, key
):
    """python-okx with domain=http://proxy/a/<name> trades on that account, whatever its flag says."""
    proxy = await proxy_from_env(two_accounts(emulator_url))
    answers = await asyncio.to_thread(okx_round_trip, f"{proxy.base}/a/{account}", "0")
    assert all(answer["code"] == "0" for answer in answers.values()), answers
    assert_all_signed_by_proxy(emulator, key)
    assert ("POST", "/api/v5/trade/order") in calls(emulator)  # signed without the prefix


async def test_ccxt_with_bound_tokens(proxy_from_env, emulator, emulator_url):
    """The ccxt SDK with a token bound to one account uses it with the plain URL and cannot reach another by prefix."""
    proxy = await proxy_from_env(two_accounts(emulator_url, SIGNPROXY_CLIENT_TOKENS=TOKENS))
    exchange = ccxt_exchange(proxy.base)
    exchange.headers = {"Authorization": f"Bearer {LIVE_TOKEN}"}
    assert_ccxt_round_trip(await asyncio.to_thread(ccxt_round_trip, exchange))
    assert_all_signed_by_proxy(emulator, LIVE_KEY)

    emulator.received.clear()
    intruder = ccxt_exchange(f"{proxy.base}/a/live")
    intruder.headers = {"Authorization": f"Bearer {PAPER_TOKEN}"}
    with pytest.raises(ccxt.BaseError, match="SPX601"):
        await asyncio.to_thread(intruder.fetch_balance)
    intruder.close()
    assert emulator.received == []
