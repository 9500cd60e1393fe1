"""Frozen, validated settings built from a mapping of variables.

All parsing and validation happens in :meth:`Settings.from_env`, so bad configuration fails at
startup with a :class:`ConfigError` that names the variable and never shows its value. Only
``cli.py`` reads the process environment and ``.env`` files; tests pass plain dicts.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, cast
from urllib.parse import urlsplit

from signproxy.access import Access, read_access
from signproxy.account_env import read_accounts, unbound_token_warnings
from signproxy.accounts import DEFAULT_ACCOUNT, Account, Accounts
from signproxy.credentials import Credentials, Secret
from signproxy.errors import ConfigError
from signproxy.ws.urls import derive_ws_base

if TYPE_CHECKING:
    from collections.abc import Mapping

    from signproxy.canonical import BodyMode
    from signproxy.logs import LogFormat

DEFAULT_PORT = 8787
# config.example.env's credential values: starting with one of them is a mistake worth a warning.
EXAMPLE_PLACEHOLDERS = frozenset(
    {"00000000-fake-key-0000-000000000000", "FAKE0SECRET0000000000000000000000", "fake-passphrase"}
)
SHORT_CREDENTIAL = 8
DEFAULT_UPSTREAM = "https://www.okx.com"
FILE_SUFFIX = "_FILE"


__all__ = ["Credentials", "Secret", "Settings", "merge_sources"]


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the proxy needs to run. Build it with :meth:`from_env`."""

    credentials: Credentials
    upstream: str = DEFAULT_UPSTREAM
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    body_mode: BodyMode = "canonical"
    max_body_bytes: int = 64 * 1024
    max_response_bytes: int = 32 * 1024 * 1024
    connect_timeout: float = 5.0
    request_timeout: float = 15.0
    log_level: str = "info"
    log_format: LogFormat = "auto"
    access: Access = field(default_factory=Access)
    ws_upstream: str | None = "wss://ws.okx.com:8443"
    ws_auto_login: bool = False
    ws_max_message_bytes: int = 4 * 1024 * 1024
    ws_max_connections: int = 100
    upstream_check_interval: int = 30
    clock_sync_interval: float = 60.0
    exptime_ms: int | None = None
    get_retries: int = 2
    shutdown_grace: float = 8.0
    upstream_idle_timeout: float = 15.0
    workers: int = 1
    warnings: tuple[str, ...] = field(default=(), compare=False)
    # Every account; ``credentials`` and ``upstream`` are the primary (``default``) account's.
    accounts: Accounts = field(default_factory=lambda: Accounts(()))
    watch_interval: int = 5

    def __post_init__(self) -> None:
        """Settings made with credentials only (no accounts) get them as the default account."""
        if not self.accounts.accounts:
            default = Account(DEFAULT_ACCOUNT, self.credentials, self.upstream, "OKX_API_*")
            object.__setattr__(self, "accounts", Accounts((default,)))

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str],
        *,
        host: str | None = None,
        port: int | None = None,
    ) -> Settings:
        """Parse and validate settings; ``host``/``port`` (command-line flags) win over ``env``.

        Raises:
            ConfigError: a variable is missing or invalid; the message names it.
        """
        reader = _Reader(env)
        bind_host = host or reader.text("SIGNPROXY_HOST", "127.0.0.1")
        log_level, log_format = log_options(env)
        default_upstream = reader.upstream("SIGNPROXY_UPSTREAM", DEFAULT_UPSTREAM)
        accounts = read_accounts(reader, default_upstream)
        access = read_access(reader, bind_host, accounts.names)
        reader.warnings.extend(unbound_token_warnings(access.client_tokens, accounts))
        return cls(
            credentials=accounts.primary.credentials,
            upstream=default_upstream,
            host=bind_host,
            port=port
            if port is not None
            else reader.integer("SIGNPROXY_PORT", DEFAULT_PORT, 0, 65535),
            body_mode=cast("BodyMode", reader.choice("SIGNPROXY_BODY", ("canonical", "raw"))),
            max_body_bytes=reader.integer(
                "SIGNPROXY_MAX_BODY_BYTES", 64 * 1024, 2, 16 * 1024 * 1024
            ),
            max_response_bytes=reader.integer(
                "SIGNPROXY_MAX_RESPONSE_BYTES", 32 * 1024 * 1024, 1024, 1024 * 1024 * 1024
            ),
            connect_timeout=reader.seconds("SIGNPROXY_CONNECT_TIMEOUT", 5.0),
            request_timeout=reader.seconds("SIGNPROXY_TIMEOUT", 15.0),
            log_level=log_level,
            log_format=log_format,
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
            exptime_ms=reader.optional_integer("SIGNPROXY_EXPTIME_MS", 100, 600_000),
            get_retries=reader.integer("SIGNPROXY_GET_RETRIES", 2, 0, 5),
            shutdown_grace=reader.seconds("SIGNPROXY_SHUTDOWN_GRACE", 8.0),
            upstream_idle_timeout=reader.seconds("SIGNPROXY_UPSTREAM_IDLE_TIMEOUT", 15.0),
            workers=reader.integer("SIGNPROXY_WORKERS", 1, 1, 64),
            warnings=tuple(reader.warnings),
            accounts=accounts,
            watch_interval=reader.integer("SIGNPROXY_WATCH_INTERVAL", 5, 0, 3600),
        )

    def sensitive_values(self) -> tuple[str, ...]:
        """Every value that must never appear in output."""
        return (
            *self.credentials.sensitive_values(),
            *self.accounts.sensitive_values(),
            *self.access.sensitive_values(),
        )


def log_options(env: Mapping[str, str]) -> tuple[str, LogFormat]:
    """Read the log level and format; the CLI needs them before the rest, to log config errors.

    Raises:
        ConfigError: ``SIGNPROXY_LOG_LEVEL`` or ``SIGNPROXY_LOG_FORMAT`` is not one of its choices.
    """
    reader = _Reader(env)
    level = reader.choice("SIGNPROXY_LOG_LEVEL", ("info", "debug", "warning", "error"))
    fmt = reader.choice("SIGNPROXY_LOG_FORMAT", ("auto", "json", "console"))
    return level, cast("LogFormat", fmt)


def merge_sources(env_file: Mapping[str, str | None], environ: Mapping[str, str]) -> dict[str, str]:
    """Combine an env file with the process environment; the environment wins.

    It wins per setting: ``OKX_API_SECRET_FILE`` in the environment overrides ``OKX_API_SECRET``
    in the file, so the two never meet as an ambiguous pair.
    """
    merged = {name: value for name, value in env_file.items() if value is not None}
    for name, value in environ.items():
        base = name.removesuffix(FILE_SUFFIX)
        merged.pop(base, None)
        merged.pop(base + FILE_SUFFIX, None)
        merged[name] = value
    return merged


class _Reader:
    """Reads one variable at a time, raising ConfigError that names it."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.warnings: list[str] = []

    def _raw(self, name: str) -> str | None:
        value = self.env.get(name)
        return value or None

    def credential(self, name: str) -> str:
        direct, path = self._raw(name), self._raw(name + FILE_SUFFIX)
        if direct is not None and path is not None:
            raise ConfigError(name, f"set either {name} or {name}{FILE_SUFFIX}, not both")
        if path is not None:
            direct = self._read_secret_file(name + FILE_SUFFIX, Path(path))
        if direct is None:
            raise ConfigError(name, f"is required (or {name}{FILE_SUFFIX} with a path to it)")
        if not direct.isascii() or not direct.isprintable() or direct != direct.strip():
            # It goes into an HTTP header (or the HMAC key); a stray newline or space is
            # almost always a copy-paste accident, and a CR/LF would be header injection.
            raise ConfigError(name, "must be printable ASCII without surrounding whitespace")
        if " " in direct and name.endswith(("_API_KEY", "_API_SECRET")):
            raise ConfigError(name, "must not contain spaces (OKX API keys and secrets have none)")
        if direct in EXAMPLE_PLACEHOLDERS:
            self.warnings.append(
                f"{name}: is config.example.env's placeholder, not a credential; OKX will refuse it"
            )
        elif len(direct) < SHORT_CREDENTIAL:
            # Every occurrence of a secret is redacted from the logs: a very short one garbles
            # ordinary words there (and is weak).
            self.warnings.append(f"{name}: is shorter than {SHORT_CREDENTIAL} characters")
        return direct

    def optional_secret(self, name: str) -> str | None:
        """The value of ``name`` or of the file ``<name>_FILE`` names; None when neither is set."""
        direct, path = self._raw(name), self._raw(name + FILE_SUFFIX)
        if direct is not None and path is not None:
            raise ConfigError(name, f"set either {name} or {name}{FILE_SUFFIX}, not both")
        if path is not None:
            return self._read_secret_file(name + FILE_SUFFIX, Path(path))
        return direct

    def _read_secret_file(self, name: str, path: Path) -> str:
        try:
            mode = path.stat().st_mode
            value = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            # The uid says who must be able to read it (the image runs as 10001).
            raise ConfigError(
                name,
                f"cannot read the file it names ({type(exc).__name__};"
                f" signproxy runs as uid {os.getuid()})",
            ) from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            self.warnings.append(f"{name}: the file is readable by group or others; chmod 600 it")
        # Secret files are usually written with a trailing newline; only that is dropped.
        value = value.removesuffix("\n").removesuffix("\r")
        if not value:
            raise ConfigError(name, "the file it names is empty")
        return value

    def text(self, name: str, default: str) -> str:
        return self._raw(name) or default

    def choice(self, name: str, allowed: tuple[str, ...]) -> str:
        value = (self._raw(name) or allowed[0]).lower()
        if value not in allowed:
            raise ConfigError(name, f"must be one of {', '.join(allowed)}")
        return value

    def boolean(self, name: str, *, default: bool) -> bool:
        value = self._raw(name)
        if value is None:
            return default
        lowered = value.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ConfigError(name, "must be 1/true/yes/on or 0/false/no/off")

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        value = self._raw(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise ConfigError(name, "must be a whole number") from None
        if not low <= number <= high:
            raise ConfigError(name, f"must be between {low} and {high}")
        return number

    def seconds(self, name: str, default: float) -> float:
        value = self._raw(name)
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError:
            raise ConfigError(name, "must be a number of seconds") from None
        if not 0 < number <= 3600:  # noqa: PLR2004
            raise ConfigError(name, "must be more than 0 and at most 3600 seconds")
        return number

    def seconds_or_zero(self, name: str, default: float) -> float:
        if self._raw(name) in ("0", "0.0"):
            return 0.0
        return self.seconds(name, default)

    def optional_integer(self, name: str, low: int, high: int) -> int | None:
        if self._raw(name) is None:
            return None
        return self.integer(name, low, low, high)

    def upstream(self, name: str, default: str) -> str:
        value = self._raw(name) or default
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(name, "must be an http:// or https:// URL with a host")
        if parts.username or parts.password or parts.query or parts.fragment:
            raise ConfigError(name, "must not hold credentials, a query or a fragment")
        if parts.path not in ("", "/"):
            raise ConfigError(name, "must be a base URL without a path (e.g. https://www.okx.com)")
        try:
            port = parts.port
        except ValueError:
            raise ConfigError(name, "has an invalid port") from None
        host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
        return f"{parts.scheme}://{host}" + (f":{port}" if port else "")

    def ws_upstream(self, name: str, derived: str | None) -> str | None:
        value = self._raw(name)
        if value is None:
            if derived is None:
                self.warnings.append(
                    f"{name}: no confirmed OKX WebSocket host for SIGNPROXY_UPSTREAM; the"
                    " /ws/v5/ routes refuse connections (SPX700) until it is set"
                )
            return derived
        parts = urlsplit(value)
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise ConfigError(name, "must be a ws:// or wss:// URL with a host")
        if parts.username or parts.password or parts.query or parts.fragment:
            raise ConfigError(name, "must not hold credentials, a query or a fragment")
        if parts.path not in ("", "/"):
            raise ConfigError(
                name, "must be a base URL without a path (e.g. wss://ws.okx.com:8443)"
            )
        try:
            port = parts.port
        except ValueError:
            raise ConfigError(name, "has an invalid port") from None
        host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
        return f"{parts.scheme}://{host}" + (f":{port}" if port else "")
