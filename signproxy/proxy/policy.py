"""The endpoint policy: may this method and path be signed? Pure decisions, no I/O.

A rule is an action (allow or deny), a method (``GET``, ``POST`` or ``*``) and a path prefix that
matches itself and every path below it, by whole segments: ``/api/v5/asset/transfer`` matches
``/api/v5/asset/transfer`` and ``/api/v5/asset/transfer/x``, not ``/api/v5/asset/transfer-state``.
Paths are compared in lower case, because OKX may route ``/api/v5/Asset/Transfer`` like the
lower-case path. Of the rules that match, the one with the longest path wins; on equal paths the
operator's rules beat the defaults, and deny beats allow. Read-only mode refuses every method but
``GET`` before any rule is looked at.

The policy is judged on the path :func:`signproxy.okx.canonical.split_target` returns, which is the
only spelling of the path that is signed and sent (no escapes, dot segments or empty segments).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from signproxy.errors import ConfigError
from signproxy.refusals import PolicyRefused

Action = Literal["allow", "deny"]
_RULE = re.compile(r"(GET|POST|\*)\s+(/api/v5(?:/[A-Za-z0-9_-]+)*)/?", re.IGNORECASE)
ALLOW_VARIABLE = "SIGNPROXY_ALLOW_ENDPOINTS"
DENY_VARIABLE = "SIGNPROXY_DENY_ENDPOINTS"
READ_ONLY_VARIABLE = "SIGNPROXY_READ_ONLY"


@dataclass(frozen=True, slots=True)
class Rule:
    """One allow or deny rule."""

    name: str
    action: Action
    method: str
    prefix: str
    default: bool = False

    def matches(self, method: str, lowered_path: str) -> bool:
        """True when the rule covers ``method`` and the (lower-cased) path."""
        if self.method not in ("*", method):
            return False
        return lowered_path == self.prefix or lowered_path.startswith(self.prefix + "/")

    def describe(self) -> str:
        """``POST /api/v5/asset/`` for a family, ``POST /api/v5/asset/transfer`` for one path."""
        return f"{self.method} {self.prefix}"


def _default(name: str, method: str, prefix: str) -> Rule:
    return Rule(name, "deny", method, prefix.lower(), default=True)


# From OKX's API docs (https://www.okx.com/docs-v5/en/). Every OKX v5 endpoint that changes
# state is a POST, so a POST family rule covers endpoints OKX adds to the family later, while the
# family's GETs (balances, currencies, deposit and withdrawal history, sub-account lists) keep
# working for bots.
DEFAULT_RULES = (
    # Funding account: withdrawals, transfers, convert, dust conversion: every POST moves value.
    _default("funds-asset", "POST", "/api/v5/asset"),
    # Fiat: withdrawals and buy/sell.
    _default("funds-fiat", "POST", "/api/v5/fiat"),
    # Sub-accounts and their API keys, transfer-out permission.
    _default("credentials-users", "POST", "/api/v5/users"),
    # Broker: creates sub-accounts and API keys; no trading bot needs any of it.
    _default("credentials-broker", "*", "/api/v5/broker"),
    # Savings, staking, loans: value moved between products (the operator's call).
    _default("funds-finance", "POST", "/api/v5/finance"),
    # Positions moved between accounts.
    _default("funds-move-positions", "POST", "/api/v5/account/move-positions"),
    # Grid bot profits withdrawn to the trading account.
    _default("funds-grid-withdraw-income", "POST", "/api/v5/tradingBot/grid/withdraw-income"),
)

_READ_ONLY = Rule("read-only", "deny", "*", "/api/v5")


def parse_rules(text: str, variable: str, action: Action) -> tuple[Rule, ...]:
    """Parse comma-separated ``METHOD /api/v5/path`` rules; ``METHOD`` is GET, POST or ``*``.

    Raises:
        ConfigError: an entry that is not a method and an ``/api/v5`` path of plain segments.
    """
    rules: list[Rule] = []
    entries = [entry.strip() for entry in text.split(",") if entry.strip()]
    for position, entry in enumerate(entries, start=1):
        match = _RULE.fullmatch(entry)
        if match is None:
            raise ConfigError(
                variable,
                f"entry {position} must be METHOD /api/v5/path (METHOD: GET, POST or *;"
                " the path: segments of letters, digits, '-' and '_')",
            )
        method, prefix = match.group(1).upper(), match.group(2).lower()
        rules.append(Rule(f"{action} {method} {prefix}", action, method, prefix))
    return tuple(rules)


def _priority(rule: Rule) -> tuple[int, bool, bool]:
    return (-len(rule.prefix), rule.default, rule.action == "allow")


@dataclass(frozen=True, slots=True)
class Policy:
    """The operator's rules over the defaults, and read-only mode."""

    allow: tuple[Rule, ...] = ()
    deny: tuple[Rule, ...] = ()
    read_only: bool = False
    _ordered: tuple[Rule, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Order every rule once: the first that matches a request decides."""
        ordered = sorted((*self.allow, *self.deny, *DEFAULT_RULES), key=_priority)
        object.__setattr__(self, "_ordered", tuple(ordered))

    def refusal(self, method: str, path: str) -> Rule | None:
        """Return the rule that refuses ``method`` on ``path``, or None when it may be signed."""
        if self.read_only and method != "GET":
            return _READ_ONLY
        lowered = path.lower()
        for rule in self._ordered:
            if rule.matches(method, lowered):
                return rule if rule.action == "deny" else None
        return None

    def enforce(self, method: str, path: str) -> None:
        """Raise :class:`PolicyRefused` naming the rule when the policy refuses the request."""
        rule = self.refusal(method, path)
        if rule is None:
            return
        if rule is _READ_ONLY:
            hint = f"read-only mode ({READ_ONLY_VARIABLE}) signs GET requests only"
        elif rule.default:
            hint = (
                f"it may move funds or change credentials, so it is denied by default;"
                f" the operator can allow it with {ALLOW_VARIABLE}"
            )
        else:
            hint = f"set by the operator in {DENY_VARIABLE}"
        raise PolicyRefused(
            f"refused by policy rule '{rule.name}' ({rule.describe()}): {hint}", rule=rule.name
        )
