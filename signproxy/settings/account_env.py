"""Reading named OKX accounts from variables, and validating their REST hosts.

The naming scheme. ``SIGNPROXY_ACCOUNTS`` lists account names, separated by commas: 1-32 of
``a-z 0-9 -``, starting with a letter or digit, case-insensitive (stored in lower case). Account
``<name>`` is read from variables named ``OKX_ACCOUNT_<NAME>_<FIELD>``, where ``<NAME>`` is the
name upper-cased with ``-`` spelled ``_`` (``live-bot`` -> ``OKX_ACCOUNT_LIVE_BOT_API_KEY``):

    API_KEY, API_SECRET, API_PASSPHRASE   required (each may be ``..._FILE`` instead)
    DEMO                                  1 for a demo-trading key (default 0)
    UPSTREAM                              its REST base URL (default ``SIGNPROXY_UPSTREAM``)
    DEADMAN_S                             its dead-man switch (default ``SIGNPROXY_DEADMAN_S``)

Names have no ``_``, so two names never map to the same prefix, and no field is an
``_``-suffix of another, so every ``OKX_ACCOUNT_`` variable belongs to at most one account; one
that belongs to none is a configuration error (:mod:`signproxy.settings.unknown` says so, with
a suggestion when it is a near miss).

The single-account variables (``OKX_API_KEY``/``_SECRET``/``_PASSPHRASE``, ``OKX_DEMO``,
``SIGNPROXY_UPSTREAM``) are the account named ``default``, required when ``SIGNPROXY_ACCOUNTS``
is empty and optional otherwise (present as soon as one of its credentials is set).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from signproxy.errors import ConfigError
from signproxy.settings.accounts import (
    DEFAULT_ACCOUNT,
    OKX_REST_HOSTS,
    Account,
    Accounts,
    account_name,
)
from signproxy.settings.credentials import Credentials, Secret
from signproxy.settings.variables import FILE_SUFFIX

if TYPE_CHECKING:
    from collections.abc import Mapping

    from signproxy.settings.tokens import ClientToken
    from signproxy.settings.variables import VariableReader

ACCOUNTS_VARIABLE = "SIGNPROXY_ACCOUNTS"
ACCOUNT_PREFIX = "OKX_ACCOUNT_"
ALLOW_CUSTOM_UPSTREAM_VARIABLE = "SIGNPROXY_ALLOW_CUSTOM_UPSTREAM"
DEFAULT_CREDENTIALS = ("OKX_API_KEY", "OKX_API_SECRET", "OKX_API_PASSPHRASE")
_SECRET_FIELDS = ("API_KEY", "API_SECRET", "API_PASSPHRASE")
# DEADMAN_S is read with the switches (settings/switches.py).
_FIELDS = (
    *_SECRET_FIELDS,
    *(name + FILE_SUFFIX for name in _SECRET_FIELDS),
    "DEMO",
    "UPSTREAM",
    "DEADMAN_S",
)


def variable_prefix(name: str) -> str:
    """The prefix of account ``name``'s variables: ``live-bot`` -> ``OKX_ACCOUNT_LIVE_BOT_``."""
    return ACCOUNT_PREFIX + name.upper().replace("-", "_") + "_"


def read_accounts(reader: VariableReader, default_upstream: str) -> Accounts:
    """Read every account (see the module docstring); ``default_upstream`` is SIGNPROXY_UPSTREAM.

    Raises:
        ConfigError: naming the variable: a missing or invalid credential, a malformed account
            list, or an upstream that is not OKX's without the explicit override.
    """
    allow_custom = reader.boolean(ALLOW_CUSTOM_UPSTREAM_VARIABLE, default=False)
    names = account_names(reader.text(ACCOUNTS_VARIABLE, ""))
    accounts: list[Account] = []
    if not names or any(_is_set(reader.env, name) for name in DEFAULT_CREDENTIALS):
        variables: tuple[str, ...] = (*DEFAULT_CREDENTIALS, "OKX_DEMO", "SIGNPROXY_UPSTREAM")
        accounts.append(_read_one(reader, DEFAULT_ACCOUNT, variables, default_upstream))
    for name in names:
        prefix = variable_prefix(name)
        variables = tuple(prefix + suffix for suffix in (*_SECRET_FIELDS, "DEMO", "UPSTREAM"))
        accounts.append(_read_one(reader, name, variables, default_upstream))
    for account in accounts:
        if account.official or allow_custom:
            continue
        variable = f"{variable_prefix(account.name)}UPSTREAM"
        if account.name == DEFAULT_ACCOUNT or not _is_set(reader.env, variable):
            variable = "SIGNPROXY_UPSTREAM"
        raise ConfigError(
            variable,
            f"is not one of OKX's REST hosts ({', '.join(sorted(OKX_REST_HOSTS))}); to sign"
            f" for another (an emulator, a test server) set {ALLOW_CUSTOM_UPSTREAM_VARIABLE}=1",
        )
    return Accounts(tuple(accounts))


def _read_one(
    reader: VariableReader, name: str, variables: tuple[str, ...], default_upstream: str
) -> Account:
    key, secret, passphrase, demo, upstream = variables
    credentials = Credentials(
        api_key=Secret(reader.credential(key)),
        secret=Secret(reader.credential(secret)),
        passphrase=Secret(reader.credential(passphrase)),
        demo=reader.boolean(demo, default=False),
    )
    base = (
        default_upstream if name == DEFAULT_ACCOUNT else reader.upstream(upstream, default_upstream)
    )
    # https://www.okx.com:443 is https://www.okx.com; compare hosts without the default port.
    base = base.removesuffix(":443") if base.startswith("https://") else base
    shown = "OKX_API_*" if name == DEFAULT_ACCOUNT else key.removesuffix("API_KEY") + "*"
    return Account(name, credentials, base, shown)


def unbound_token_warnings(tokens: tuple[ClientToken, ...], accounts: Accounts) -> list[str]:
    """Warn about tokens that may use every account when there is more than one."""
    if len(accounts) < 2:  # noqa: PLR2004 - with one account there is nothing to choose
        return []
    return [
        f"SIGNPROXY_CLIENT_TOKENS: token {token.name} is bound to no account, so it may use all"
        f" {len(accounts)}; bind it with name:token:account"
        for token in tokens
        if not token.accounts
    ]


def _is_set(env: Mapping[str, str], name: str) -> bool:
    return bool(env.get(name) or env.get(name + FILE_SUFFIX))


def account_variables(names: tuple[str, ...]) -> tuple[str, ...]:
    """Every variable the accounts called ``names`` may set (``OKX_ACCOUNT_<NAME>_<FIELD>``)."""
    return tuple(variable_prefix(name) + suffix for name in names for suffix in _FIELDS)


def account_names(text: str) -> tuple[str, ...]:
    """Parse ``SIGNPROXY_ACCOUNTS``: the names, in order.

    Raises:
        ConfigError: a malformed, reserved or repeated name.
    """
    names: list[str] = []
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        name = account_name(entry)
        if name is None:
            raise ConfigError(
                ACCOUNTS_VARIABLE,
                "account names are 1-32 of a-z 0-9 - (starting with a letter or digit),"
                " separated by commas",
            )
        if name == DEFAULT_ACCOUNT:
            raise ConfigError(
                ACCOUNTS_VARIABLE,
                "the name default is reserved for the OKX_API_* variables; do not list it",
            )
        if name in names:
            raise ConfigError(ACCOUNTS_VARIABLE, f"the account {name} is listed twice")
        names.append(name)
    return tuple(names)
