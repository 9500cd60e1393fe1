"""Reading one setting at a time from a mapping of variables, with errors that name it.

:class:`VariableReader` does the parsing for :meth:`signproxy.settings.config.Settings.from_env`
(and the
access and account readers it hands itself to): every problem is a :class:`ConfigError` naming
the variable, never showing its value. Secrets may come from a ``<NAME>_FILE`` path.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from signproxy.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Mapping

FILE_SUFFIX = "_FILE"
# config.example.env's credential values: starting with one of them is a mistake worth a warning.
EXAMPLE_PLACEHOLDERS = frozenset(
    {"00000000-fake-key-0000-000000000000", "FAKE0SECRET0000000000000000000000", "fake-passphrase"}
)
SHORT_CREDENTIAL = 8


class VariableReader:
    """Reads one variable at a time, raising ConfigError that names it."""

    def __init__(self, env: Mapping[str, str]) -> None:
        """Read from ``env``; :attr:`warnings` collects what is allowed but worth saying."""
        self.env = env
        self.warnings: list[str] = []

    def _raw(self, name: str) -> str | None:
        value = self.env.get(name)
        return value or None

    def credential(self, name: str) -> str:
        """A required credential, or the contents of the file ``<name>_FILE`` names."""
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
            mode, value = _read_regular_file(path)
        except _NotRegularError:
            # A FIFO (or a device) would block the reader until someone writes to it.
            raise ConfigError(name, "the path it names is not a regular file") from None
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
        """A plain value, or ``default``."""
        return self._raw(name) or default

    def choice(self, name: str, allowed: tuple[str, ...]) -> str:
        """One of ``allowed`` (case-insensitive); the first is the default."""
        value = (self._raw(name) or allowed[0]).lower()
        if value not in allowed:
            raise ConfigError(name, f"must be one of {', '.join(allowed)}")
        return value

    def boolean(self, name: str, *, default: bool) -> bool:
        """A yes/no value: 1/true/yes/on or 0/false/no/off."""
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
        """A whole number from ``low`` to ``high``."""
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
        """A duration in seconds, more than 0 and at most an hour."""
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
        """A duration in seconds, or 0 to switch the feature off."""
        if self._raw(name) in ("0", "0.0"):
            return 0.0
        return self.seconds(name, default)

    def optional_integer(self, name: str, low: int, high: int) -> int | None:
        """A whole number from ``low`` to ``high``, or None when unset."""
        if self._raw(name) is None:
            return None
        return self.integer(name, low, low, high)

    def upstream(self, name: str, default: str) -> str:
        """An http(s) base URL, normalized to ``scheme://host[:port]``."""
        return _base_url(name, self._raw(name) or default, ("http", "https"), "https://www.okx.com")

    def ws_upstream(self, name: str, derived: str | None) -> str | None:
        """A ws(s) base URL, or ``derived`` (which may be None: no known host) when unset."""
        value = self._raw(name)
        if value is None:
            if derived is None:
                self.warnings.append(
                    f"{name}: no confirmed OKX WebSocket host for SIGNPROXY_UPSTREAM; the"
                    " /ws/v5/ routes refuse connections (SPX700) until it is set"
                )
            return derived
        return _base_url(name, value, ("ws", "wss"), "wss://ws.okx.com:8443")


class _NotRegularError(Exception):
    pass


def _read_regular_file(path: Path) -> tuple[int, str]:
    """The mode and UTF-8 text of ``path``, read only if it is a regular file.

    Opened without blocking (``O_NONBLOCK``: opening a FIFO with no writer would wait forever)
    and checked on the opened descriptor, so a swap between a check and the open cannot fool it.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _NotRegularError
        with os.fdopen(fd, "rb", closefd=False) as stream:
            data = stream.read()
    finally:
        os.close(fd)
    return info.st_mode, data.decode("utf-8")


def _base_url(name: str, value: str, schemes: tuple[str, str], example: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.hostname:
        raise ConfigError(name, f"must be a {schemes[0]}:// or {schemes[1]}:// URL with a host")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ConfigError(name, "must not hold credentials, a query or a fragment")
    if parts.path not in ("", "/"):
        raise ConfigError(name, f"must be a base URL without a path (e.g. {example})")
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(name, "has an invalid port") from None
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")
