"""Refusals by the guard and the endpoint policy (codes SPX200-SPX299).

    RequestRejected                     (errors.py)
    └── Refused                         carries the name of the rule that refused
        ├── TokenMissing         401    SPX200 no client token
        ├── TokenInvalid         401    SPX201 a client token that matches none configured
        ├── TokenAmbiguous       400    SPX202 more than one token, or a malformed Authorization
        ├── HostRefused          403    SPX203 Host missing, malformed, repeated or not allowed
        ├── OriginRefused        403    SPX204 an Origin that is not explicitly allowed
        ├── BrowserRefused       403    SPX205 Sec-Fetch-* headers only browsers send
        ├── PreflightRefused     403    SPX206 OPTIONS (CORS preflight)
        ├── SteeringRefused      403    SPX207 a header that tries to steer the upstream
        └── PolicyRefused        403    SPX208 the endpoint policy refuses the method and path

Nothing is read from the body, signed or forwarded for any of them. Messages never hold a value
the client sent (a token, an origin, a host): only which rule refused and how to change it.
"""

from __future__ import annotations

from signproxy.errors import RequestRejected


class Refused(RequestRejected):
    """A request refused by a named rule; the rule goes into the canonical log line.

    Attributes:
        rule: a short, stable, low-cardinality name (``host``, ``client-token``, ``funds-asset``).
    """

    status = 403

    def __init__(self, message: str, *, rule: str) -> None:
        """Keep the message and the rule's name."""
        super().__init__(message)
        self.rule = rule


class TokenMissing(Refused):
    """Client tokens are configured and the request carries none."""

    status = 401
    code = "SPX200"


class TokenInvalid(Refused):
    """The request's client token matches none of the configured ones."""

    status = 401
    code = "SPX201"


class TokenAmbiguous(Refused):
    """More than one token was sent, or ``Authorization`` is not ``Bearer <token>``."""

    status = 400
    code = "SPX202"


class HostRefused(Refused):
    """The ``Host`` header names a host the proxy does not answer to (DNS rebinding)."""

    code = "SPX203"


class OriginRefused(Refused):
    """A browser page from an origin that is not explicitly allowed."""

    code = "SPX204"


class BrowserRefused(Refused):
    """Fetch-metadata headers that only browsers send, without an allowed ``Origin``."""

    code = "SPX205"


class PreflightRefused(Refused):
    """CORS preflights never get an allowing answer."""

    code = "SPX206"


class SteeringRefused(Refused):
    """A header that would name another host, scheme, URL or method for the request."""

    code = "SPX207"


class PolicyRefused(Refused):
    """The endpoint policy does not let this method and path be signed."""

    code = "SPX208"
