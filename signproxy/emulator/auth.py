"""Request verification exactly as OKX does it, answering with OKX's own error codes."""

from __future__ import annotations

import calendar
import hmac
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from signproxy.okx.signing import Signer

if TYPE_CHECKING:
    from multidict import CIMultiDictProxy

TIMESTAMP_WINDOW_MS = 30_000
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})Z")


@dataclass(frozen=True, slots=True)
class EmulatedKey:
    """An API key the emulator accepts."""

    api_key: str
    secret: str
    passphrase: str
    demo: bool = False
    # What GET /api/v5/account/config reports, and what the checks below enforce.
    perm: str = "read_only,trade"
    ips: tuple[str, ...] = ()  # the IP allow-list; empty: bound to no address

    def __repr__(self) -> str:
        """Show the key's environment only."""
        return f"EmulatedKey(demo={self.demo})"


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """What OKX verifies: the method, the raw request target and body bytes, the headers."""

    method: str
    target: str
    headers: CIMultiDictProxy[str]
    body: bytes
    remote: str = ""  # the client's address, for a key's IP allow-list


@dataclass(frozen=True, slots=True)
class AuthFailure:
    """Why OKX would refuse a request: its code, message and HTTP status."""

    code: str
    msg: str
    status: int = 401


def parse_iso_ms(value: str) -> int | None:
    """Parse OKX's ``2020-12-08T09:08:57.715Z`` into epoch milliseconds, or None."""
    match = _ISO.fullmatch(value)
    if not match:
        return None
    year, month, day, hour, minute, second, millis = (int(part) for part in match.groups())
    try:
        seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
        time.gmtime(seconds)
    except (OverflowError, ValueError):
        return None
    return seconds * 1000 + millis


def verify(  # noqa: PLR0911 - one return per OKX error code, in OKX's order
    keys: dict[str, EmulatedKey],
    request: SignedRequest,
    now_ms: int,
    elsewhere: frozenset[str] = frozenset(),
) -> AuthFailure | EmulatedKey:
    """Check a signed request; return the key it was signed with, or why OKX would refuse it.

    ``elsewhere`` holds keys that exist on another OKX host (another region): OKX answers them
    50119 "API key doesn't exist" (with HTTP 200, as OKX does), where an unknown key is 50111.
    """
    headers = request.headers
    key_id = headers.get("OK-ACCESS-KEY", "")
    sign = headers.get("OK-ACCESS-SIGN", "")
    timestamp = headers.get("OK-ACCESS-TIMESTAMP", "")
    passphrase = headers.get("OK-ACCESS-PASSPHRASE", "")
    for value, code, name in (
        (key_id, "50103", "OK-ACCESS-KEY"),
        (passphrase, "50104", "OK-ACCESS-PASSPHRASE"),
        (sign, "50106", "OK-ACCESS-SIGN"),
        (timestamp, "50107", "OK-ACCESS-TIMESTAMP"),
    ):
        if not value:
            return AuthFailure(code, f"Request header {name} cannot be empty.")
    sent_ms = parse_iso_ms(timestamp)
    if sent_ms is None:
        return AuthFailure("50112", "Invalid OK-ACCESS-TIMESTAMP")
    if abs(now_ms - sent_ms) > TIMESTAMP_WINDOW_MS:
        return AuthFailure("50102", "Timestamp request expired")
    key = _identify(keys, elsewhere, key_id, passphrase, request.remote)
    if isinstance(key, AuthFailure):
        return key
    if (headers.get("x-simulated-trading") == "1") != key.demo:
        return AuthFailure("50101", "APIKey does not match current environment.")
    expected = Signer(key.secret).sign_request(
        timestamp, request.method, request.target, request.body
    )
    if not hmac.compare_digest(sign.encode(), expected.encode()):
        return AuthFailure("50113", "Invalid Sign")
    return key


def _identify(
    keys: dict[str, EmulatedKey],
    elsewhere: frozenset[str],
    key_id: str,
    passphrase: str,
    remote: str,
) -> AuthFailure | EmulatedKey:
    key = keys.get(key_id)
    if key is None and key_id in elsewhere:
        return AuthFailure("50119", "API key doesn't exist", status=200)
    if key is None:
        return AuthFailure("50111", "Invalid OK-ACCESS-KEY")
    if not hmac.compare_digest(passphrase.encode(), key.passphrase.encode()):
        return AuthFailure("50105", "OK-ACCESS-PASSPHRASE incorrect")
    if key.ips and remote not in key.ips:
        return AuthFailure(
            "50110", f"Your IP {remote} is not included in your API key's IP whitelist."
        )
    return key
