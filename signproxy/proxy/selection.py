"""Choosing the account a request is signed with, and the refusals when it cannot be chosen.

A request names its account with a path prefix, ``/a/<name>/api/v5/...`` (for SDKs that only
take a base URL: ``http://127.0.0.1:8787/a/<name>``), or a header ``X-Signproxy-Account: <name>``.
The prefix is removed before anything else looks at the path, so what is signed and sent is the
plain ``/api/v5/...`` target. In order:

1. the prefix and the header; when both are sent they must name the same account;
2. else the client token's account, when the token is bound to exactly one;
3. else the account ``default``, or the only account when there is just one.

A client token bound to accounts (``name:token:a+b``) may use those and no other, whatever the
prefix or header says. Names are case-insensitive.

    RequestRejected                    (errors.py)
    ├── AccountUnknown         404     SPX600 the named account is not configured
    ├── AccountForbidden       403     SPX601 the client token may not use the named account
    ├── AccountMalformed       400     SPX602 a malformed name, two headers, or prefix and
    │                                         header naming different accounts
    └── AccountRequired        400     SPX603 several accounts are possible and none is named
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from signproxy.errors import RequestRejected
from signproxy.settings.accounts import DEFAULT_ACCOUNT, account_name
from signproxy.settings.tokens import ClientToken

if TYPE_CHECKING:
    from signproxy.proxy.record import Exchange
    from signproxy.settings.accounts import Account, Accounts

ACCOUNT_HEADER = "X-Signproxy-Account"
PATH_PREFIX = "/a/"
CLIENT_TOKEN = web.RequestKey("signproxy.client_token", ClientToken)
_HOW = f"name one with the path prefix {PATH_PREFIX}<account>/api/v5/... or {ACCOUNT_HEADER}"


class AccountUnknown(RequestRejected):
    """The request names an account that is not configured."""

    status = 404
    code = "SPX600"


class AccountForbidden(RequestRejected):
    """The client token is bound to other accounts than the one named."""

    status = 403
    code = "SPX601"


class AccountMalformed(RequestRejected):
    """The account name is malformed, or the request names two different accounts."""

    status = 400
    code = "SPX602"


class AccountRequired(RequestRejected):
    """More than one account could be meant and the request names none."""

    status = 400
    code = "SPX603"


class Selector:
    """Picks each request's account from the current :class:`Accounts`, swapped on reload.

    A request reads :attr:`accounts` once, in :meth:`select`, and keeps the :class:`Account` it
    got: a reload that swaps in new accounts never changes a request already being handled.
    """

    __slots__ = ("accounts",)

    def __init__(self, accounts: Accounts) -> None:
        """Start with ``accounts``."""
        self.accounts = accounts

    def swap(self, accounts: Accounts) -> None:
        """Use ``accounts`` for every request selected from now on."""
        self.accounts = accounts

    def select(
        self, request: web.Request, raw_path: str, exchange: Exchange
    ) -> tuple[Account, str]:
        """Return the request's account and ``raw_path`` without the account prefix.

        The account's name goes into ``exchange`` as soon as it is known, so refusals show
        which account was asked for too.

        Raises:
            RequestRejected: one of the ``Account*`` refusals above; nothing may be forwarded.
        """
        named: str | None = None
        if raw_path.startswith(PATH_PREFIX):
            segment, slash, rest = raw_path[len(PATH_PREFIX) :].partition("/")
            named = _name(segment)
            raw_path = slash + rest
        headers = request.headers.getall(ACCOUNT_HEADER, ())
        if headers:
            if len(headers) > 1:
                raise AccountMalformed(f"send one {ACCOUNT_HEADER} header")
            from_header = _name(headers[0])
            if named is not None and from_header != named:
                raise AccountMalformed(
                    f"the path prefix and {ACCOUNT_HEADER} name different accounts"
                )
            named = from_header
        token = request.get(CLIENT_TOKEN)
        allowed = token.accounts if token is not None and token.accounts else None
        accounts = self.accounts
        if named is None:
            named = _implied(accounts, allowed)
        exchange.account_name = named
        if allowed is not None and named not in allowed:
            raise AccountForbidden(
                "this client token may not use that account (it is bound to others)"
            )
        account = accounts.get(named)
        if account is None:
            raise AccountUnknown(f"no account of that name is configured; {_HOW}")
        return account, raw_path


def _name(value: str) -> str:
    name = account_name(value)
    if name is None:
        raise AccountMalformed(
            "an account name is 1-32 of a-z 0-9 - (starting with a letter or digit)"
        )
    return name


def _implied(accounts: Accounts, allowed: frozenset[str] | None) -> str:
    if allowed is not None:
        if len(allowed) == 1:
            return next(iter(allowed))
        raise AccountRequired(f"this client token may use several accounts; {_HOW}")
    if accounts.get(DEFAULT_ACCOUNT) is not None:
        return DEFAULT_ACCOUNT
    if len(accounts) == 1:
        return accounts.accounts[0].name
    raise AccountRequired(f"several accounts are configured; {_HOW}")
