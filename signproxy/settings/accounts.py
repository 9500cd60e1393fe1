"""Named OKX accounts: the frozen model that signing uses, and the names accounts may have.

How accounts are read from variables is in :mod:`signproxy.settings.account_env`. An
:class:`Accounts`
is immutable: a reload builds a new one and swaps it in whole.
"""

from __future__ import annotations

import re
import types
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from signproxy.okx.signing import Signer, iso_timestamp

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from signproxy.settings.credentials import Credentials

DEFAULT_ACCOUNT = "default"
# OKX's REST hosts (aws.okx.com is shut down). Anything else needs the explicit override.
OKX_REST_HOSTS = frozenset(
    {
        "https://www.okx.com",
        "https://openapi.okx.com",
        "https://us.okx.com",
        "https://eea.okx.com",
        "https://tr.okx.com",
    }
)
ACCOUNT_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")


def account_name(value: str) -> str | None:
    """Return ``value`` as an account name (lower case), or None when it is not one."""
    lowered = value.strip().lower()
    return lowered if ACCOUNT_NAME.fullmatch(lowered) else None


@dataclass(frozen=True, slots=True)
class Account:
    """One OKX API key, the REST host it is used on, and what signing with it needs.

    ``upstream`` is the per-host key for anything that depends on the host: the OKX clock
    offset, and (for WebSocket) the matching ``ws``/``wspap`` host.
    """

    name: str
    credentials: Credentials
    upstream: str
    variables: str = field(compare=False)
    signer: Signer = field(init=False, repr=False, compare=False)
    headers: types.MappingProxyType[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Key the signer and build the headers every request with this account carries."""
        creds = self.credentials
        headers = {
            "Content-Type": "application/json",
            "OK-ACCESS-KEY": creds.api_key.reveal(),
            "OK-ACCESS-PASSPHRASE": creds.passphrase.reveal(),
        }
        if creds.demo:
            headers["x-simulated-trading"] = "1"
        object.__setattr__(self, "signer", Signer(creds.secret.reveal()))
        object.__setattr__(self, "headers", types.MappingProxyType(headers))

    @property
    def official(self) -> bool:
        """Whether ``upstream`` is one of OKX's REST hosts."""
        return self.upstream in OKX_REST_HOSTS

    @property
    def demo(self) -> bool:
        """Whether this is a demo-trading key."""
        return self.credentials.demo

    def sensitive_values(self) -> tuple[str, ...]:
        """The key, secret and passphrase."""
        return self.credentials.sensitive_values()

    def signed_headers(self, now_ms: int, method: str, target: str, body: bytes) -> dict[str, str]:
        """The headers of one request the proxy makes itself, signed at ``now_ms`` (OKX time).

        For the proxy's own calls (order look-ups, the switches, the account's rate limit);
        forwarded requests are signed by the ``sign`` stage, which adds the client's headers.
        """
        headers = dict(self.headers)
        timestamp = iso_timestamp(now_ms)
        headers["OK-ACCESS-TIMESTAMP"] = timestamp
        headers["OK-ACCESS-SIGN"] = self.signer.sign_request(timestamp, method, target, body)
        return headers


@dataclass(frozen=True, slots=True)
class Accounts:
    """Every configured account, by name. Immutable: a reload builds a new one and swaps it."""

    accounts: tuple[Account, ...]
    _by_name: Mapping[str, Account] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Index the accounts by name."""
        by_name = {account.name: account for account in self.accounts}
        object.__setattr__(self, "_by_name", types.MappingProxyType(by_name))

    def get(self, name: str) -> Account | None:
        """The account called ``name`` (lower case), or None."""
        return self._by_name.get(name)

    @property
    def names(self) -> tuple[str, ...]:
        """The account names, in configuration order (``default`` first when present)."""
        return tuple(account.name for account in self.accounts)

    @property
    def primary(self) -> Account:
        """The ``default`` account, or the first one listed when there is none."""
        return self._by_name.get(DEFAULT_ACCOUNT, self.accounts[0])

    def __iter__(self) -> Iterator[Account]:
        """Iterate over the accounts in configuration order."""
        return iter(self.accounts)

    def __len__(self) -> int:
        """How many accounts there are."""
        return len(self.accounts)

    def sensitive_values(self) -> tuple[str, ...]:
        """Every account's key, secret and passphrase."""
        return tuple(value for account in self.accounts for value in account.sensitive_values())
