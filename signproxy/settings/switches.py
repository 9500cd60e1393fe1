"""The switches' settings: dead-man switch, operator tokens, halt state, guardrail rules.

SIGNPROXY_DEADMAN_S               0 (off), or 10-120: OKX's cancel-all-after range
OKX_ACCOUNT_<NAME>_DEADMAN_S      the same, for one named account (default: the above)
SIGNPROXY_DEADMAN_ON_STOP         stay (default: the switch stays armed) or disarm
SIGNPROXY_OPERATOR_TOKENS[_FILE]  name:token entries that may halt and resume (never sign)
SIGNPROXY_STATE_DIR               where the halt state is kept (default: next to
                                  SIGNPROXY_JOURNAL when that is set)
SIGNPROXY_RULES_FILE              the guardrail rules (TOML), reloaded with the accounts
"""

from __future__ import annotations

import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from signproxy.errors import ConfigError
from signproxy.settings.account_env import variable_prefix
from signproxy.settings.accounts import DEFAULT_ACCOUNT
from signproxy.settings.tokens import parse_client_tokens
from signproxy.switches.rules import Rules, load_rules

if TYPE_CHECKING:
    from collections.abc import Mapping

    from signproxy.settings.tokens import ClientToken
    from signproxy.settings.variables import VariableReader

DEADMAN_VARIABLE = "SIGNPROXY_DEADMAN_S"
ON_STOP_VARIABLE = "SIGNPROXY_DEADMAN_ON_STOP"
OPERATOR_TOKENS_VARIABLE = "SIGNPROXY_OPERATOR_TOKENS"
STATE_DIR_VARIABLE = "SIGNPROXY_STATE_DIR"
JOURNAL_VARIABLE = "SIGNPROXY_JOURNAL"
RULES_VARIABLE = "SIGNPROXY_RULES_FILE"
# OKX's cancel-all-after takes 0 (off) or 10 to 120 seconds (okx-facts.md, "Orders").
DEADMAN_MIN_S = 10
DEADMAN_MAX_S = 120


@dataclass(frozen=True, slots=True)
class Switches:
    """The dead-man switch per account, who may halt, and where the halt is kept.

    Attributes:
        deadman: seconds per account name (0: off).
        disarm_on_stop: a clean stop sends ``timeOut`` 0 (the default leaves it armed).
        operator_tokens: who may halt and resume; never valid as client tokens.
        state_dir: the directory of the durable halt state (None: kept in memory only).
        rules_file: the guardrail rules' file (None: no rules).
    """

    deadman: Mapping[str, int] = field(default_factory=lambda: types.MappingProxyType({}))
    disarm_on_stop: bool = False
    operator_tokens: tuple[ClientToken, ...] = ()
    state_dir: Path | None = None
    rules_file: Path | None = None

    def deadman_s(self, account: str) -> int:
        """The dead-man seconds of ``account`` (0: off)."""
        return self.deadman.get(account, 0)

    def sensitive_values(self) -> tuple[str, ...]:
        """The operator tokens' values."""
        return tuple(token.token for token in self.operator_tokens)


def deadman_seconds(reader: VariableReader, name: str, default: int) -> int:
    """``name`` as 0 or 10-120 seconds; ``default`` when unset."""
    value = reader.text(name, "")
    if not value:
        return default
    try:
        seconds = int(value)
    except ValueError:
        raise ConfigError(name, "must be a whole number of seconds") from None
    if seconds != 0 and not DEADMAN_MIN_S <= seconds <= DEADMAN_MAX_S:
        raise ConfigError(
            name,
            f"must be 0 (off) or {DEADMAN_MIN_S}-{DEADMAN_MAX_S}: OKX's cancel-all-after range",
        )
    return seconds


def read_switches(
    reader: VariableReader, accounts: tuple[str, ...], client_tokens: tuple[ClientToken, ...]
) -> tuple[Switches, Rules]:
    """Read the switches' settings and the rules file.

    Raises:
        ConfigError: a value out of range, a malformed operator token list, an operator token
            that is also a client token, or a rules file that cannot be read or is invalid.
    """
    default_s = deadman_seconds(reader, DEADMAN_VARIABLE, 0)
    deadman = {
        account: (
            default_s
            if account == DEFAULT_ACCOUNT
            else deadman_seconds(reader, variable_prefix(account) + "DEADMAN_S", default_s)
        )
        for account in accounts
    }
    operators = parse_client_tokens(
        reader.optional_secret(OPERATOR_TOKENS_VARIABLE) or "", OPERATOR_TOKENS_VARIABLE, None
    )
    for token in operators:
        if token.accounts:
            raise ConfigError(
                OPERATOR_TOKENS_VARIABLE, f"{token.name}: operator tokens are bound to no account"
            )
        if any(token.token == client.token for client in client_tokens):
            raise ConfigError(
                OPERATOR_TOKENS_VARIABLE,
                f"{token.name}: is also a client token; operator and client tokens must differ",
            )
    state_dir = _state_dir(reader)
    if operators and state_dir is None and reader.text("SIGNPROXY_WORKERS", "1") != "1":
        raise ConfigError(
            STATE_DIR_VARIABLE,
            "is required with SIGNPROXY_OPERATOR_TOKENS and SIGNPROXY_WORKERS > 1: the workers"
            " learn of a halt through the state file, so without it a halt would stop only the"
            " worker that received it",
        )
    if operators and state_dir is None:
        reader.warnings.append(
            f"{STATE_DIR_VARIABLE}: not set, so a halt is kept in memory only and a restarted"
            " proxy is not halted; set it (or SIGNPROXY_JOURNAL) to keep the halt across restarts"
        )
    rules_path = reader.text(RULES_VARIABLE, "")
    rules_file = Path(rules_path) if rules_path else None
    rules = load_rules(rules_file, RULES_VARIABLE) if rules_file is not None else Rules(())
    switches = Switches(
        deadman=types.MappingProxyType(deadman),
        disarm_on_stop=reader.choice(ON_STOP_VARIABLE, ("stay", "disarm")) == "disarm",
        operator_tokens=operators,
        state_dir=state_dir,
        rules_file=rules_file,
    )
    return switches, rules


def _state_dir(reader: VariableReader) -> Path | None:
    configured = reader.text(STATE_DIR_VARIABLE, "")
    if configured:
        return Path(configured)
    journal = reader.text(JOURNAL_VARIABLE, "")
    # "off" switches the order journal off (settings/order_safety.py): it names no place.
    return Path(journal).parent if journal and journal.lower() != "off" else None
