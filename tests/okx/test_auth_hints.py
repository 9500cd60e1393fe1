"""Auth refusals relayed from OKX carry a hint in the request's log line."""

from __future__ import annotations

import asyncio
import io
import json

from signproxy.emulator import EmulatedKey
from signproxy.okx.auth_hints import hint_for
from tests.support.keys import LIVE_KEY
from tests.ws.test_ws import DUMMY_LOGIN


async def test_an_auth_refusal_is_logged_with_a_hint(make_proxy, log_output: io.StringIO) -> None:
    """OKX's 50105 is relayed as is, and its log line carries a hint pointing to `signproxy check`."""
    wrong = EmulatedKey(LIVE_KEY.api_key, LIVE_KEY.secret, "fake-wrong-passphrase")
    proxy = await make_proxy(wrong)
    reply = await proxy.get("/api/v5/account/balance")
    assert reply.json()["code"] == "50105"
    (line,) = [
        json.loads(raw)
        for raw in log_output.getvalue().splitlines()
        if '"signproxy.request"' in raw
    ]
    assert line["okx_code"] == "50105"
    assert "passphrase is wrong" in line["hint"]
    assert "signproxy check" in line["hint"]


def test_hints_cover_exactly_the_auth_codes() -> None:
    """Codes 50100-50120 get a hint; success, other codes and no code get none."""
    assert all("signproxy check" in (hint_for(str(code)) or "") for code in range(50100, 50121))
    for code in ("0", "50099", "50121", "51000", None, "x"):
        assert hint_for(code) is None


async def test_a_refused_websocket_login_is_logged_with_a_hint(
    make_proxy, log_output: io.StringIO
) -> None:
    """OKX refusing the proxy's WebSocket login (60024: wrong passphrase) logs the hint too."""
    wrong = EmulatedKey(LIVE_KEY.api_key, LIVE_KEY.secret, "fake-wrong-passphrase")
    proxy = await make_proxy(wrong)
    url = "ws" + proxy.base.removeprefix("http") + "/ws/v5/private"
    async with proxy.session.ws_connect(url) as ws:
        await ws.send_str(DUMMY_LOGIN)
        answer = json.loads((await ws.receive(timeout=5)).data)
    assert answer["code"] == "60024"
    for _ in range(100):  # the log line follows the relayed answer
        if '"signproxy.ws_login"' in log_output.getvalue():
            break
        await asyncio.sleep(0.01)
    (line,) = [
        json.loads(raw)
        for raw in log_output.getvalue().splitlines()
        if '"signproxy.ws_login"' in raw
    ]
    assert line["code"] == "60024"
    assert "passphrase is wrong" in line["hint"]
    assert "signproxy check" in line["hint"]
