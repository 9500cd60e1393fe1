"""Client tokens: parsing the configured ones, and finding which one a request presents.

The format (``SIGNPROXY_CLIENT_TOKENS``, or the file ``SIGNPROXY_CLIENT_TOKENS_FILE`` names) is a
list of ``name:token`` entries separated by commas or newlines; in either, blank entries and lines
starting with ``#`` are ignored. A name is 1-64 of ``A-Z a-z 0-9 _ . -`` and is what the logs show
instead of the token. A token is 16-512 of ``A-Z a-z 0-9 . _ ~ + / = -`` (the characters of an
RFC 6750 bearer token), so neither ``:`` nor ``,`` can appear in one: a later field (the accounts a
token may use) can be added after a second ``:`` without making old entries ambiguous.

That field is ``name:token:account1+account2``: the accounts (see
:mod:`signproxy.settings.accounts`) the
token may use, joined by ``+``; each must be configured. A token without it may use every account.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from signproxy.errors import ConfigError
from signproxy.settings.accounts import DEFAULT_ACCOUNT, account_name

if TYPE_CHECKING:
    from collections.abc import Collection

_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_TOKEN = re.compile(r"[A-Za-z0-9._~+/=-]{16,512}")
MIN_TOKEN_LENGTH = 16


def _digest(value: str) -> bytes:
    # Tokens are compared as SHA-256 digests: every comparison then has the same length, so
    # hmac.compare_digest's time does not depend on how long the presented token is either.
    return hashlib.sha256(value.encode("utf-8", "surrogateescape")).digest()


@dataclass(frozen=True, slots=True)
class ClientToken:
    """One configured client token. Its value never shows in a repr."""

    name: str
    token: str = field(repr=False)
    digest: bytes = field(init=False, repr=False, compare=False)
    accounts: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        """Precompute the digest that requests are compared against."""
        object.__setattr__(self, "digest", _digest(self.token))


def parse_client_tokens(
    text: str, variable: str, accounts: Collection[str] | None = (DEFAULT_ACCOUNT,)
) -> tuple[ClientToken, ...]:
    """Parse the ``name:token[:accounts]`` list; errors name the variable and entry, not tokens.

    ``accounts`` are the configured account names a token may be bound to (None: not checked,
    for a caller that only needs the tokens, such as ``signproxy health``).

    Raises:
        ConfigError: a malformed entry, a repeated name, a token used twice, or a binding to an
            account that is not in ``accounts``.
    """
    entries = [
        entry.strip()
        for line in text.splitlines()
        if not line.lstrip().startswith("#")
        for entry in line.split(",")
    ]
    tokens: list[ClientToken] = []
    for position, entry in enumerate((entry for entry in entries if entry), start=1):
        name, colon, token = entry.partition(":")
        token, bound, bindings = token.partition(":")
        name, token = name.strip(), token.strip()
        if not colon or not _NAME.fullmatch(name):
            raise ConfigError(
                variable, f"entry {position} must be name:token (name of A-Z a-z 0-9 _ . -)"
            )
        if not _TOKEN.fullmatch(token):
            raise ConfigError(
                variable,
                f"entry {position} ({name}): the token must be {MIN_TOKEN_LENGTH}-512 characters"
                " of A-Z a-z 0-9 . _ ~ + / = - (e.g. from: python3 -c 'import secrets;"
                " print(secrets.token_urlsafe(32))')",
            )
        if any(existing.name == name for existing in tokens):
            raise ConfigError(variable, f"entry {position}: the name {name} is used twice")
        if any(existing.token == token for existing in tokens):
            raise ConfigError(variable, f"entry {position} ({name}): the same token is used twice")
        allowed = _bindings(bindings, variable, position, name) if bound else frozenset()
        unknown = sorted(allowed.difference(accounts)) if accounts is not None else []
        if unknown:
            raise ConfigError(
                variable,
                f"entry {position} ({name}) is bound to account(s) that are not configured:"
                f" {', '.join(unknown)} (configured: {', '.join(accounts or ())})",
            )
        tokens.append(ClientToken(name, token, allowed))
    return tuple(tokens)


def _bindings(text: str, variable: str, position: int, name: str) -> frozenset[str]:
    accounts = [account_name(part) for part in text.split("+")]
    if not accounts or None in accounts:
        raise ConfigError(
            variable,
            f"entry {position} ({name}): after the token comes the accounts it may use, joined by"
            " + (names of a-z 0-9 -)",
        )
    return frozenset(account for account in accounts if account is not None)


def identify(presented: str, tokens: tuple[ClientToken, ...]) -> ClientToken | None:
    """Return the configured token equal to ``presented``, comparing in constant time.

    Every configured token is compared, with no early exit, so the time taken says nothing about
    which token (or how much of one) matched.
    """
    digest = _digest(presented)
    found: ClientToken | None = None
    for candidate in tokens:
        if hmac.compare_digest(digest, candidate.digest):
            found = candidate
    return found
