"""Guardrail rules: the TOML file parsed and validated into frozen objects. Pure: no clock.

The file (``SIGNPROXY_RULES_FILE``) is a list of ``[[rule]]`` tables; every rule whose
``tokens`` and ``accounts`` match a request applies to it, so limits add up::

    [[rule]]
    name = "spot-bot"                  # shown in every refusal; unique
    tokens = ["bot-a"]                 # client token names (omitted: every client)
    accounts = ["default"]             # accounts (omitted: every account)
    instruments = ["BTC-USDT", "*-USDT-SWAP"]  # allow-list of glob patterns
    max_notional = 50000               # sz x px, for SPOT and MARGIN orders with a px
    reduce_only = true                 # SWAP, FUTURES and OPTION orders need reduceOnly
    max_orders_per_minute = 120        # placed orders per client token, sliding minute
    [rule.max_size]                    # the first pattern that matches the instrument
    "BTC-USDT" = 0.5
    "*" = 100

A key that is not one of these is an error (a typo must not switch a limit off).
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from signproxy.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

_KEYS = frozenset(
    {
        "name",
        "tokens",
        "accounts",
        "instruments",
        "max_size",
        "max_notional",
        "reduce_only",
        "max_orders_per_minute",
    }
)
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_PATTERN = re.compile(r"[A-Za-z0-9*?\[\]!_.-]{1,64}")


@dataclass(frozen=True, slots=True)
class Pattern:
    """One glob pattern over instrument ids (``BTC-*``), matched case-sensitively like OKX."""

    text: str
    regex: re.Pattern[str] = field(repr=False, compare=False)

    @classmethod
    def of(cls, text: str) -> Pattern:
        """Compile ``text`` once."""
        return cls(text, re.compile(fnmatch.translate(text)))

    def matches(self, inst_id: str) -> bool:
        """Whether ``inst_id`` matches."""
        return self.regex.match(inst_id) is not None


def is_derivative(inst_id: str) -> bool:
    """SWAP (``BTC-USDT-SWAP``), FUTURES (``BTC-USD-250328``), OPTION (five parts)."""
    return inst_id.endswith("-SWAP") or inst_id.count("-") >= 2  # noqa: PLR2004


@dataclass(frozen=True, slots=True)
class InstrumentFacts:
    """What one rule says about one instrument: allowed, its size limit, derivative or not."""

    allowed: bool
    size_limit: tuple[Pattern, Decimal] | None
    derivative: bool


_MAX_REMEMBERED = 4096  # instrument ids come from clients: remember a bounded number


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule: whom it applies to and its limits (None or empty: no such limit)."""

    name: str
    tokens: frozenset[str] | None = None
    accounts: frozenset[str] | None = None
    instruments: tuple[Pattern, ...] | None = None
    max_size: tuple[tuple[Pattern, Decimal], ...] = ()
    max_notional: Decimal | None = None
    reduce_only: bool = False
    max_orders_per_minute: int | None = None
    _facts: dict[str, InstrumentFacts] = field(default_factory=dict, repr=False, compare=False)

    def facts(self, inst_id: str) -> InstrumentFacts:
        """The rule's verdicts on ``inst_id``, computed once per instrument.

        Glob matching is the costly part of judging an order, and bots trade few instruments.
        """
        found = self._facts.get(inst_id)
        if found is None:
            if len(self._facts) >= _MAX_REMEMBERED:
                self._facts.clear()
            allowed = self.instruments is None or any(p.matches(inst_id) for p in self.instruments)
            found = self._facts[inst_id] = InstrumentFacts(
                allowed, self.size_limit(inst_id), is_derivative(inst_id)
            )
        return found

    def applies(self, client: str | None, account: str | None) -> bool:
        """Whether the rule applies to requests of ``client`` (token name) on ``account``."""
        if self.tokens is not None and client not in self.tokens:
            return False
        return self.accounts is None or account in self.accounts

    def size_limit(self, inst_id: str) -> tuple[Pattern, Decimal] | None:
        """The first ``max_size`` entry whose pattern matches ``inst_id``."""
        return next((entry for entry in self.max_size if entry[0].matches(inst_id)), None)


@dataclass(frozen=True, slots=True)
class Rules:
    """Every rule of the file, in file order; which apply to a client and account is cached."""

    rules: tuple[Rule, ...]
    source: str = ""
    _cache: dict[tuple[str | None, str | None], tuple[Rule, ...]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def applying(self, client: str | None, account: str | None) -> tuple[Rule, ...]:
        """The rules that apply to ``client`` on ``account`` (remembered: few pairs exist)."""
        key = (client, account)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = tuple(r for r in self.rules if r.applies(client, account))
        return found


def load_rules(path: Path, variable: str) -> Rules:
    """Read and parse the rules file ``path``.

    Raises:
        ConfigError: the file cannot be read, is not TOML, or a rule is invalid (the message
            names the rule and the key, never anything else of the file).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(variable, f"cannot read the rules file ({type(exc).__name__})") from None
    return parse_rules(text, variable, source=str(path))


def parse_rules(text: str, variable: str, *, source: str = "") -> Rules:
    """Parse rules from TOML text (see the module docstring)."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(variable, f"the rules file is not valid TOML ({exc})") from None
    extra = sorted(set(document) - {"rule"})
    if extra:
        raise ConfigError(variable, f"unknown top-level key {extra[0]!r} (rules are [[rule]])")
    tables = document.get("rule", [])
    if not isinstance(tables, list):
        raise ConfigError(variable, "rules are an array of tables: [[rule]]")
    rules: list[Rule] = []
    for position, table in enumerate(tables, start=1):
        rule = _rule(table, position, variable)
        if any(existing.name == rule.name for existing in rules):
            raise ConfigError(variable, f"rule {position}: the name {rule.name!r} is used twice")
        rules.append(rule)
    return Rules(tuple(rules), source)


def _rule(table: dict[str, Any], position: int, variable: str) -> Rule:
    name = table.get("name", f"rule-{position}")
    where = f"rule {position}"
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ConfigError(variable, f"{where}: name must be 1-64 of A-Z a-z 0-9 _ . -")
    where = f"rule {name!r}"
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise ConfigError(variable, f"{where}: unknown key {unknown[0]!r}")
    reduce_only = table.get("reduce_only", False)
    if not isinstance(reduce_only, bool):
        raise ConfigError(variable, f"{where}: reduce_only must be true or false")
    rate = table.get("max_orders_per_minute")
    if rate is not None and (isinstance(rate, bool) or not isinstance(rate, int) or rate < 1):
        raise ConfigError(variable, f"{where}: max_orders_per_minute must be a whole number >= 1")
    sizes = table.get("max_size", {})
    if not isinstance(sizes, dict):
        raise ConfigError(variable, f"{where}: max_size is a table of pattern = size")
    instruments = table.get("instruments")
    notional = table.get("max_notional")
    return Rule(
        name=name,
        tokens=_names(table.get("tokens"), f"{where}: tokens", variable),
        accounts=_names(table.get("accounts"), f"{where}: accounts", variable),
        instruments=None
        if instruments is None
        else tuple(_patterns(instruments, f"{where}: instruments", variable)),
        max_size=tuple(
            (Pattern.of(_pattern(p, f"{where}: max_size", variable)), _amount(v, where, variable))
            for p, v in sizes.items()
        ),
        max_notional=None if notional is None else _amount(notional, where, variable),
        reduce_only=reduce_only,
        max_orders_per_minute=rate,
    )


def _names(value: object, where: str, variable: str) -> frozenset[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(variable, f"{where} must be a list of names")
    return frozenset(value) if where.endswith("tokens") else frozenset(v.lower() for v in value)


def _patterns(value: object, where: str, variable: str) -> list[Pattern]:
    if not isinstance(value, list):
        raise ConfigError(variable, f"{where} must be a list of glob patterns")
    return [Pattern.of(_pattern(item, where, variable)) for item in value]


def _pattern(value: object, where: str, variable: str) -> str:
    if not isinstance(value, str) or not _PATTERN.fullmatch(value):
        raise ConfigError(variable, f"{where}: a pattern is 1-64 of A-Z a-z 0-9 - _ . * ? [ ] !")
    return value


def _amount(value: object, where: str, variable: str) -> Decimal:
    # Strings too: "0.1" keeps the decimal exact where a TOML float might not.
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ConfigError(variable, f"{where}: a limit must be a positive number")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ConfigError(variable, f"{where}: a limit must be a positive number") from None
    if not amount.is_finite() or amount <= 0:
        raise ConfigError(variable, f"{where}: a limit must be a positive number")
    return amount
