"""Pure OKX signing: timestamps, prehash strings and signatures. No I/O, no clock reads.

OKX verifies ``Base64(HMAC-SHA256(secret, timestamp + METHOD + requestPath + body))`` over the
bytes it receives, so callers must pass exactly the request target and body that go on the wire.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import time

WS_LOGIN_PATH = "/users/self/verify"


def iso_timestamp(epoch_ms: int) -> str:
    """Format milliseconds since the epoch as OKX wants them: ``2020-12-08T09:08:57.715Z``."""
    seconds, millis = divmod(epoch_ms, 1000)
    return f"{_iso_second(seconds)}.{millis:03d}Z"


@functools.lru_cache(maxsize=4)  # one request after another mostly falls in the same second
def _iso_second(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


def prehash(timestamp: str, method: str, request_path: str, body: bytes) -> bytes:
    """Build the string OKX signs; ``request_path`` includes the query string for GET."""
    return (timestamp + method.upper() + request_path).encode() + body


class Signer:
    """Holds an API secret as a keyed HMAC, and never shows it.

    The secret is absorbed into the HMAC state once, so signing a request copies a prepared
    state instead of re-keying, and no attribute of this object holds the secret as text.
    """

    __slots__ = ("_keyed",)

    def __init__(self, secret: str) -> None:
        """Key the HMAC with the secret's UTF-8 bytes."""
        self._keyed = hmac.new(secret.encode(), digestmod=hashlib.sha256)

    def __repr__(self) -> str:
        """Show nothing of the secret."""
        return "Signer(<redacted>)"

    def sign(self, message: bytes) -> str:
        """Return Base64(HMAC-SHA256(secret, message))."""
        mac = self._keyed.copy()
        mac.update(message)
        return base64.b64encode(mac.digest()).decode("ascii")

    def sign_request(self, timestamp: str, method: str, request_path: str, body: bytes) -> str:
        """Sign one REST request (see :func:`prehash`)."""
        return self.sign(prehash(timestamp, method, request_path, body))

    def sign_ws_login(self, timestamp_seconds: str) -> str:
        """Sign a WebSocket login: the timestamp is in Unix seconds, the body empty."""
        return self.sign(prehash(timestamp_seconds, "GET", WS_LOGIN_PATH, b""))
