"""Who may use the proxy and what it will sign: the settings, read and validated at startup."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from signproxy.errors import ConfigError
from signproxy.proxy.policy import (
    ALLOW_VARIABLE,
    DENY_VARIABLE,
    READ_ONLY_VARIABLE,
    Policy,
    parse_rules,
)
from signproxy.settings.netnames import (
    WILDCARD_BINDS,
    is_loopback,
    normalize_name,
    parse_allowed_hosts,
    parse_allowed_origins,
)
from signproxy.settings.tokens import parse_client_tokens

if TYPE_CHECKING:
    from signproxy.settings.tokens import ClientToken
    from signproxy.settings.variables import VariableReader

TOKENS_VARIABLE = "SIGNPROXY_CLIENT_TOKENS"
INSECURE_BIND_VARIABLE = "SIGNPROXY_INSECURE_BIND"
WS_ORIGINS_VARIABLE = "SIGNPROXY_WS_ALLOWED_ORIGINS"


@dataclass(frozen=True, slots=True)
class Access:
    """Client tokens, allowed Host names and origins, and the endpoint policy."""

    client_tokens: tuple[ClientToken, ...] = ()
    allowed_hosts: frozenset[str] = frozenset()
    allowed_origins: frozenset[str] = frozenset()
    # WebSocket upgrades from web pages: a list of its own, since a page that may open a
    # WebSocket can read the login answer, subscribe to the account and send orders.
    ws_allowed_origins: frozenset[str] = frozenset()
    insecure_bind: bool = False
    policy: Policy = field(default_factory=Policy)

    def sensitive_values(self) -> tuple[str, ...]:
        """The token values, which must never appear in output."""
        return tuple(token.token for token in self.client_tokens)


def read_access(
    reader: VariableReader, bind_host: str, accounts: tuple[str, ...] = ("default",)
) -> Access:
    """Read the access settings, and refuse an unauthenticated listener off loopback.

    ``accounts`` are the configured account names client tokens may be bound to.

    Raises:
        ConfigError: a malformed variable, or a non-loopback ``bind_host`` without client tokens
            and without the explicit override.
    """
    tokens = parse_client_tokens(
        reader.optional_secret(TOKENS_VARIABLE) or "", TOKENS_VARIABLE, accounts
    )
    insecure = reader.boolean(INSECURE_BIND_VARIABLE, default=False)
    if not is_loopback(bind_host) and not tokens:
        if not insecure:
            raise ConfigError(
                "SIGNPROXY_HOST",
                "listening (--host or SIGNPROXY_HOST) on an address other than loopback needs"
                " client tokens"
                f" ({TOKENS_VARIABLE}): anyone who can reach the port could trade with the key."
                f" Set {INSECURE_BIND_VARIABLE}=1 to run without them only if nothing untrusted"
                " can reach that address and port",
            )
        reader.warnings.append(
            f"{INSECURE_BIND_VARIABLE}: listening on a non-loopback address without client"
            " tokens; whoever can reach the port can use the key"
        )
    hosts = parse_allowed_hosts(
        reader.text("SIGNPROXY_ALLOWED_HOSTS", ""), "SIGNPROXY_ALLOWED_HOSTS"
    )
    bound_name = normalize_name(bind_host.strip())
    if bind_host.strip() not in WILDCARD_BINDS and bound_name is not None:
        # Clients that reach the proxy on the very address it listens on name it in Host.
        hosts |= {bound_name}
    return Access(
        client_tokens=tokens,
        allowed_hosts=hosts,
        allowed_origins=parse_allowed_origins(
            reader.text("SIGNPROXY_ALLOWED_ORIGINS", ""), "SIGNPROXY_ALLOWED_ORIGINS"
        ),
        ws_allowed_origins=parse_allowed_origins(
            reader.text(WS_ORIGINS_VARIABLE, ""), WS_ORIGINS_VARIABLE
        ),
        insecure_bind=insecure,
        policy=Policy(
            allow=parse_rules(reader.text(ALLOW_VARIABLE, ""), ALLOW_VARIABLE, "allow"),
            deny=parse_rules(reader.text(DENY_VARIABLE, ""), DENY_VARIABLE, "deny"),
            read_only=reader.boolean(READ_ONLY_VARIABLE, default=False),
        ),
    )
