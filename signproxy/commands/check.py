"""``signproxy check``: what each account is configured with, and whether OKX accepts it.

For each account it prints the environment, REST host and a hint of the key (its last four
characters; the secret and passphrase only as "set"), then calls ``GET /api/v5/account/config``,
a read-only private endpoint, signed with that account. OKX answers it only when the key exists,
the passphrase is right, the signature verifies and the demo flag matches the key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from signproxy.errors import UpstreamError
from signproxy.okx.signing import iso_timestamp
from signproxy.upstream.client import Upstream
from signproxy.upstream.clock import SystemClock

if TYPE_CHECKING:
    from signproxy.settings.accounts import Account
    from signproxy.settings.config import Settings
    from signproxy.upstream.clock import Clock

CHECK_PATH = "/api/v5/account/config"
# What usually causes each of OKX's refusals, phrased for the operator.
_HINTS = {
    "50101": "the demo flag does not match the key (a demo key needs DEMO=1, a live key 0)",
    "50102": "this machine's clock is more than 30 s off OKX's",
    "50105": "the passphrase is wrong",
    "50110": "this machine's IP address is not in the key's IP allow-list",
    "50111": "the key does not exist on this host (or it is a key of another region)",
    "50113": "the secret does not belong to the key",
    "50119": "the key does not exist",
}


@dataclass(frozen=True, slots=True)
class Verdict:
    """One account's result: whether OKX accepted it, and a line saying why or why not."""

    account: Account
    accepted: bool
    detail: str


def describe(account: Account) -> str:
    """One line of what ``account`` is configured with; no secret, the key's last 4 only."""
    creds = account.credentials
    return (
        f"account {account.name}: {'demo' if account.demo else 'live'}, {account.upstream},"
        f" key {creds.api_key.last4()}, secret set, passphrase set (from {account.variables})"
    )


async def check_accounts(settings: Settings, clock: Clock | None = None) -> list[Verdict]:
    """Call the read-only endpoint once per account, one after another."""
    upstream = Upstream(
        settings.upstream,
        connect_timeout=settings.connect_timeout,
        request_timeout=settings.request_timeout,
        max_response_bytes=settings.max_response_bytes,
    )
    await upstream.start()
    try:
        return [
            await _check(upstream, account, clock or SystemClock()) for account in settings.accounts
        ]
    finally:
        await upstream.close()


async def _check(upstream: Upstream, account: Account, clock: Clock) -> Verdict:
    headers = account.headers.copy()
    timestamp = iso_timestamp(clock.now_ms())
    headers["OK-ACCESS-TIMESTAMP"] = timestamp
    headers["OK-ACCESS-SIGN"] = account.signer.sign_request(timestamp, "GET", CHECK_PATH, b"")
    try:
        answer = await upstream.send("GET", CHECK_PATH, headers, b"", base_url=account.upstream)
    except UpstreamError as exc:
        return Verdict(account, accepted=False, detail=f"not checked: {exc.message}")
    envelope = _envelope(answer.body)
    code = str(envelope.get("code", ""))
    if answer.status == 200 and code == "0":  # noqa: PLR2004
        data = envelope.get("data") or [{}]
        first = data[0] if isinstance(data, list) and isinstance(data[0], dict) else {}
        return Verdict(
            account,
            accepted=True,
            detail=f"accepted (uid {first.get('uid', '?')}, permissions {first.get('perm', '?')})",
        )
    message = str(envelope.get("msg", ""))[:200]
    hint = _HINTS.get(code)
    return Verdict(
        account,
        accepted=False,
        detail=f"refused: HTTP {answer.status}, code {code or '?'} {message}".rstrip()
        + (f": {hint}" if hint else ""),
    )


def _envelope(body: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(body)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}
