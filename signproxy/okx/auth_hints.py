"""What OKX's authentication refusals (REST 50100-50120, WebSocket login 600xx) mean. Pure.

The proxy puts :func:`hint_for` in the log line of every request OKX refused with one of
these codes, so the log says what to check and points to ``signproxy check``, which diagnoses
the key end to end. ``signproxy check`` uses :data:`EXPLANATIONS` for its own verdicts. Codes and
meanings follow OKX's error-code list (see docs/troubleshooting.md); match on the code, never on
OKX's message text.
"""

from __future__ import annotations

AUTH_CODES = range(50100, 50121)
CHECK_COMMAND = "run `signproxy check` to diagnose the key"

EXPLANATIONS: dict[str, str] = {
    "50100": "the API key is frozen: OKX support must unfreeze it, or create a new key",
    "50101": "the demo flag does not match the key: a demo-trading key needs DEMO=1 (the"
    " x-simulated-trading header), a live key DEMO=0",
    "50102": "the request's timestamp is more than 30 s off OKX's clock: synchronise this"
    " machine's clock (NTP) and keep SIGNPROXY_CLOCK_SYNC_INTERVAL on",
    "50103": "no OK-ACCESS-KEY header reached OKX",
    "50104": "no OK-ACCESS-PASSPHRASE header reached OKX",
    "50105": "the passphrase is wrong: it is the one chosen when the key was created, not the"
    " account password",
    "50106": "no OK-ACCESS-SIGN header reached OKX",
    "50107": "no OK-ACCESS-TIMESTAMP header reached OKX",
    "50110": "this machine's public IP address is not in the key's IP allow-list",
    "50111": "OKX does not know this API key: check it was copied whole, and the region host",
    "50112": "the OK-ACCESS-TIMESTAMP header is malformed",
    "50113": "the signature does not verify: the secret does not belong to the key (or the"
    " signed bytes differ from the sent ones; see the prehash at debug level)",
    "50114": "the authorization is invalid",
    "50119": "the key does not exist on this host: it may belong to another region"
    " (eea.okx.com, us.okx.com, ...) or have been deleted",
    "50120": "the key has no permission for this endpoint",
}


# OKX's WebSocket login refusals (the proxy logs in with the account's key).
WS_EXPLANATIONS: dict[str, str] = {
    "60004": "the login timestamp is invalid",
    "60005": "OKX does not know this API key (or it belongs to another region's host)",
    "60006": "the login timestamp is more than 30 s off OKX's clock: synchronise this clock",
    "60007": "the login signature does not verify: the secret does not belong to the key",
    "60009": "OKX refused the login",
    "60024": "the passphrase is wrong",
}


def is_auth_code(code: str | None) -> bool:
    """Whether ``code`` is one of OKX's authentication refusals (50100-50120, WS logins)."""
    if code is None:
        return False
    return code in WS_EXPLANATIONS or (code.isdigit() and int(code) in AUTH_CODES)


def hint_for(code: str | None) -> str | None:
    """What to do about an authentication refusal (for the request log line); None otherwise."""
    if code is None or not is_auth_code(code):
        return None
    meaning = EXPLANATIONS.get(code) or WS_EXPLANATIONS.get(
        code, "OKX refused the request's authentication"
    )
    return f"{meaning}; {CHECK_COMMAND}"
