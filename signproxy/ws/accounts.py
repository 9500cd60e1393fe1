"""Which OKX credentials and WebSocket host a relayed connection logs in with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from signproxy.okx.hosts import derive_ws_base
from signproxy.okx.signing import Signer
from signproxy.proxy.record import EXCHANGE

if TYPE_CHECKING:
    from collections.abc import Callable

    from aiohttp import web

    from signproxy.proxy.selection import Selector
    from signproxy.settings.config import Secret, Settings


@dataclass(frozen=True, slots=True)
class WsAccount:
    """The credentials and WebSocket host one connection logs in with."""

    name: str
    api_key: Secret
    passphrase: Secret
    signer: Signer
    ws_base: str | None

    @classmethod
    def from_settings(cls, settings: Settings) -> WsAccount:
        """The single configured account."""
        credentials = settings.credentials
        return cls(
            name="default",
            api_key=credentials.api_key,
            passphrase=credentials.passphrase,
            signer=Signer(credentials.secret.reveal()),
            ws_base=settings.ws_upstream,
        )


def ws_account_selector(
    settings: Settings, selector: Selector
) -> Callable[[web.Request], WsAccount]:
    """Select a connection's account exactly as a REST request's (prefix, header, token binding).

    The primary account logs in to ``SIGNPROXY_WS_UPSTREAM`` (derived from its host unless set);
    a named account to the WebSocket host derived from its own REST host and demo flag.
    """
    primary = settings.accounts.primary.name

    def select(request: web.Request) -> WsAccount:
        account, _ = selector.select(request, request.raw_path, request[EXCHANGE])
        ws_base = (
            settings.ws_upstream
            if account.name == primary
            else derive_ws_base(account.upstream, demo=account.demo)
        )
        credentials = account.credentials
        return WsAccount(
            account.name, credentials.api_key, credentials.passphrase, account.signer, ws_base
        )

    return select
