"""Frozen, validated settings built from a mapping of variables.

All parsing and validation happens in :meth:`Settings.from_env`, so bad configuration fails at
startup with a :class:`ConfigError` that names the variable and never shows its value. Only
``cli.py`` reads the process environment and ``.env`` files; tests pass plain dicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from signproxy.errors import ConfigError
from signproxy.okx.hosts import derive_ws_base
from signproxy.settings.access import Access, read_access
from signproxy.settings.account_env import (
    ACCOUNTS_VARIABLE,
    account_names,
    account_variables,
    read_accounts,
    unbound_token_warnings,
)
from signproxy.settings.credentials import Credentials, Secret
from signproxy.settings.limits import Limits, read_limits
from signproxy.settings.order_safety import (
    DEFAULT_EXPTIME_MS,
    OrderSafety,
    read_exptime,
    read_order_safety,
)
from signproxy.settings.rates import RateSettings, read_rate_settings
from signproxy.settings.redis import read_redis_url, redis_sensitive_values
from signproxy.settings.switches import Switches, read_switches
from signproxy.settings.unix import UnixSocket, read_unix_socket
from signproxy.settings.unknown import check_variables
from signproxy.settings.variables import FILE_SUFFIX, VariableReader
from signproxy.switches.rules import Rules
from signproxy.upstream.time_slots import PER_SLOT, SLOT_S

if TYPE_CHECKING:
    from collections.abc import Mapping

    from signproxy.okx.canonical import BodyMode
    from signproxy.runtime.logs import LogFormat
    from signproxy.settings.accounts import Accounts

DEFAULT_PORT = 8787
_OWN_PREFIXES = ("OKX_", "SIGNPROXY_")
DEFAULT_UPSTREAM = "https://www.okx.com"
# The share of a worker's time-endpoint slots keep-alive requests may use without a warning;
# the clock and the readiness probe need the rest.
KEEP_WARM_SHARE = 0.5
# OKX's largest answers are instrument and ticker lists: a few MB at most (see README,
# SIGNPROXY_MAX_RESPONSE_BYTES). Room for twice that, and a bound on what one answer costs.
DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024


__all__ = ["Credentials", "Secret", "Settings", "merge_sources"]


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the proxy needs to run. Build it with :meth:`from_env`."""

    # Every account; the primary one (``default``, or the only one) is ``accounts.primary``.
    accounts: Accounts
    # The REST host of accounts that name none (SIGNPROXY_UPSTREAM).
    upstream: str = DEFAULT_UPSTREAM
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    body_mode: BodyMode = "canonical"
    max_body_bytes: int = 64 * 1024
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    connect_timeout: float = 5.0
    request_timeout: float = 15.0
    access: Access = field(default_factory=Access)
    ws_upstream: str | None = "wss://ws.okx.com:8443"
    ws_auto_login: bool = False
    ws_max_message_bytes: int = 4 * 1024 * 1024
    ws_max_connections: int = 100
    upstream_check_interval: int = 30
    clock_sync_interval: float = 60.0
    exptime_ms: int | None = DEFAULT_EXPTIME_MS
    get_retries: int = 2
    shutdown_grace: float = 8.0
    upstream_idle_timeout: float = 15.0
    upstream_keep_warm: bool = True
    workers: int = 1
    unix_socket: UnixSocket | None = None
    # Shared state for a fleet of proxies (rate budgets, de-duplication, halt); None: in-process.
    redis_url: Secret | None = None
    rates: RateSettings = field(default_factory=RateSettings)
    warnings: tuple[str, ...] = field(default=(), compare=False)
    watch_interval: int = 5
    order_safety: OrderSafety = field(default_factory=OrderSafety)
    limits: Limits = field(default_factory=Limits)
    # The dead-man switch, operator tokens and halt state (read at start), and the guardrail
    # rules (reloaded with the accounts).
    switches: Switches = field(default_factory=Switches)
    rules: Rules = field(default_factory=lambda: Rules(()))

    @property
    def credentials(self) -> Credentials:
        """The primary account's credentials."""
        return self.accounts.primary.credentials

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str],
        *,
        host: str | None = None,
        port: int | None = None,
        unix: str | None = None,
    ) -> Settings:
        """Parse and validate settings; ``host``/``port``/``unix`` (flags) win over ``env``.

        Raises:
            ConfigError: a variable is missing, invalid or unknown; the message names it.
        """
        reader = VariableReader(env)
        # First: a misspelt variable must be named as such, not reported as a missing one.
        names = account_names(reader.text(ACCOUNTS_VARIABLE, ""))
        reader.warnings.extend(check_variables(env, account_variables(names)))
        bind_host = host or reader.text("SIGNPROXY_HOST", "127.0.0.1")
        # The CLI reads these first (to log config errors as asked); checked here too, so
        # from_env alone refuses bad log settings.
        log_options(env)
        default_upstream = reader.upstream("SIGNPROXY_UPSTREAM", DEFAULT_UPSTREAM)
        accounts = read_accounts(reader, default_upstream)
        access = read_access(reader, bind_host, accounts.names)
        reader.warnings.extend(unbound_token_warnings(access.client_tokens, accounts))
        idle_timeout = reader.seconds("SIGNPROXY_UPSTREAM_IDLE_TIMEOUT", 15.0)
        keep_warm = reader.boolean("SIGNPROXY_UPSTREAM_KEEP_WARM", default=True)
        workers = reader.integer("SIGNPROXY_WORKERS", 1, 1, 64)
        if keep_warm:
            reader.warnings.extend(keep_warm_warnings(idle_timeout, workers, accounts))
        redis_url = read_redis_url(reader)
        rates = read_rate_settings(reader, workers=workers, redis=redis_url is not None)
        switches, rules = read_switches(reader, accounts.names, access.client_tokens)
        limits = read_limits(reader)
        max_response_bytes = reader.integer(
            "SIGNPROXY_MAX_RESPONSE_BYTES", DEFAULT_MAX_RESPONSE_BYTES, 1024, 1024 * 1024 * 1024
        )
        if limits.max_held_bytes < 2 * max_response_bytes:
            # An answer being read is counted twice (its chunks, then their join).
            raise ConfigError(
                "SIGNPROXY_MAX_HELD_BYTES",
                "must be at least twice SIGNPROXY_MAX_RESPONSE_BYTES (one answer must fit)",
            )
        return cls(
            accounts=accounts,
            upstream=default_upstream,
            host=bind_host,
            port=port
            if port is not None
            else reader.integer("SIGNPROXY_PORT", DEFAULT_PORT, 0, 65535),
            body_mode=cast("BodyMode", reader.choice("SIGNPROXY_BODY", ("canonical", "raw"))),
            max_body_bytes=reader.integer(
                "SIGNPROXY_MAX_BODY_BYTES", 64 * 1024, 2, 16 * 1024 * 1024
            ),
            max_response_bytes=max_response_bytes,
            connect_timeout=reader.seconds("SIGNPROXY_CONNECT_TIMEOUT", 5.0),
            request_timeout=reader.seconds("SIGNPROXY_TIMEOUT", 15.0),
            access=access,
            ws_upstream=reader.ws_upstream(
                "SIGNPROXY_WS_UPSTREAM",
                derive_ws_base(accounts.primary.upstream, demo=accounts.primary.demo),
            ),
            ws_auto_login=reader.boolean("SIGNPROXY_WS_AUTO_LOGIN", default=False),
            ws_max_message_bytes=reader.integer(
                "SIGNPROXY_WS_MAX_MESSAGE_BYTES", 4 * 1024 * 1024, 1024, 64 * 1024 * 1024
            ),
            ws_max_connections=reader.integer("SIGNPROXY_WS_MAX_CONNECTIONS", 100, 1, 10_000),
            upstream_check_interval=reader.integer(
                "SIGNPROXY_UPSTREAM_CHECK_INTERVAL", 30, 1, 3600
            ),
            clock_sync_interval=reader.seconds_or_zero("SIGNPROXY_CLOCK_SYNC_INTERVAL", 60.0),
            exptime_ms=read_exptime(reader),
            get_retries=reader.integer("SIGNPROXY_GET_RETRIES", 2, 0, 5),
            shutdown_grace=reader.seconds("SIGNPROXY_SHUTDOWN_GRACE", 8.0),
            upstream_idle_timeout=idle_timeout,
            upstream_keep_warm=keep_warm,
            workers=workers,
            unix_socket=read_unix_socket(env, unix),
            redis_url=redis_url,
            rates=rates,
            warnings=tuple(reader.warnings),
            watch_interval=reader.integer("SIGNPROXY_WATCH_INTERVAL", 5, 0, 3600),
            order_safety=read_order_safety(reader),
            limits=limits,
            switches=switches,
            rules=rules,
        )

    def sensitive_values(self) -> tuple[str, ...]:
        """Every value that must never appear in output."""
        return (
            *self.accounts.sensitive_values(),
            *self.access.sensitive_values(),
            *redis_sensitive_values(self.redis_url),
            *self.switches.sensitive_values(),
        )


def keep_warm_warnings(idle_timeout: float, workers: int, accounts: Accounts) -> list[str]:
    """Warn when the keep-alive requests may not fit in a worker's share of OKX's time limit.

    Each worker sends ``GET /api/v5/public/time`` to each host every ``idle_timeout / 2`` s, in
    its own slots (:mod:`signproxy.upstream.time_slots`): 2 attempts per 2-second slot, one slot
    in ``workers``, shared with the clock and the readiness probe. Half of that is the budget.
    """
    hosts = len({account.upstream for account in accounts})
    needed = hosts / (idle_timeout / 2)  # per second, per worker
    available = PER_SLOT / (SLOT_S * workers)
    if needed <= available * KEEP_WARM_SHARE:
        return []
    message = (
        f"SIGNPROXY_UPSTREAM_KEEP_WARM: keeping {hosts} host(s) warm every {idle_timeout / 2:g} s"
        f" needs {needed:.2f} time requests per second per worker, more than half of what OKX's"
        f" limit leaves each of {workers} workers ({available:.2f}); connections may go cold:"
        " raise SIGNPROXY_UPSTREAM_IDLE_TIMEOUT, use fewer workers or set"
        " SIGNPROXY_UPSTREAM_KEEP_WARM=0"
    )
    return [message]


def log_options(env: Mapping[str, str]) -> tuple[str, LogFormat]:
    """Read the log level and format; the CLI needs them before the rest, to log config errors.

    Raises:
        ConfigError: ``SIGNPROXY_LOG_LEVEL`` or ``SIGNPROXY_LOG_FORMAT`` is not one of its choices.
    """
    reader = VariableReader(env)
    level = reader.choice("SIGNPROXY_LOG_LEVEL", ("info", "debug", "warning", "error"))
    fmt = reader.choice("SIGNPROXY_LOG_FORMAT", ("auto", "json", "console"))
    return level, cast("LogFormat", fmt)


def merge_sources(env_file: Mapping[str, str | None], environ: Mapping[str, str]) -> dict[str, str]:
    """Combine an env file with the process environment; the environment wins.

    It wins per setting: ``OKX_API_SECRET_FILE`` in the environment overrides ``OKX_API_SECRET``
    in the file, so the two never meet as an ambiguous pair.

    Raises:
        ConfigError: a setting and its ``_FILE`` form are both set in the environment itself
            (which one would win would depend on the order of ``environ``: with a rotated
            token, the old one could stay valid).
    """
    for name, value in environ.items():
        base = name.removesuffix(FILE_SUFFIX)
        if base != name and value and environ.get(base) and base.startswith(_OWN_PREFIXES):
            raise ConfigError(
                base, f"{base} and {name} are both set in the environment; set only one"
            )
    merged = {name: value for name, value in env_file.items() if value is not None}
    for name, value in environ.items():
        base = name.removesuffix(FILE_SUFFIX)
        merged.pop(base, None)
        merged.pop(base + FILE_SUFFIX, None)
        merged[name] = value
    return merged
