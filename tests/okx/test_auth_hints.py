"""Auth refusals relayed from OKX carry a hint in the request's log line."""

from __future__ import annotations

import io
import json

from signproxy.emulator import EmulatedKey
from signproxy.okx.auth_hints import hint_for
from tests.support.keys import LIVE_KEY


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
