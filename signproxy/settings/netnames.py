"""Pure parsing of host names, Host headers and origins, for the guard and its settings."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from signproxy.errors import ConfigError

LOOPBACK_NAMES = frozenset({"localhost"})
# Addresses that mean "every interface": never a name clients use, never auto-allowed.
WILDCARD_BINDS = frozenset({"", "0.0.0.0", "::", "[::]"})  # noqa: S104 - compared, not bound
_NAME = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*")
_PORT = re.compile(r"[0-9]{0,5}")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _address(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def normalize_name(text: str) -> str | None:
    """Return a host name or address in one spelling (lower case, no brackets), or None.

    ``LOCALHOST.`` becomes ``localhost``; ``[::1]`` and ``0:0::1`` become ``::1``.
    """
    text = text.lower()
    if text.startswith("[") and text.endswith("]"):
        return _address(text[1:-1]) if ":" in text else None
    address = _address(text)
    if address is not None:
        return address
    text = text.removesuffix(".")
    return text if _NAME.fullmatch(text) else None


def host_header_name(value: str) -> str | None:
    """Return the normalized name in a ``Host`` header value (port dropped), or None if malformed.

    A bare IPv6 address without brackets is malformed (RFC 9110: ``uri-host [ ":" port ]``).
    """
    value = value.strip()
    if value.startswith("["):
        close = value.find("]")
        name, rest = value[: close + 1], value[close + 1 :]
        if close < 0 or (rest and not (rest.startswith(":") and _PORT.fullmatch(rest[1:]))):
            return None
        return normalize_name(name)
    name, colon, port = value.partition(":")
    if colon and not _PORT.fullmatch(port):
        return None
    return normalize_name(name)


def is_loopback(name: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1), in any spelling."""
    normalized = normalize_name(name.strip())
    if normalized is None:
        return False
    if normalized in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(normalized).is_loopback
    except ValueError:
        return False


def host_allowed(name: str, allowed: frozenset[str]) -> bool:
    """True when a normalized Host name is loopback or configured."""
    return name in allowed or is_loopback(name)


def _entries(text: str) -> list[str]:
    return [entry.strip() for entry in text.split(",") if entry.strip()]


def parse_allowed_hosts(text: str, variable: str) -> frozenset[str]:
    """Parse a comma-separated list of host names or addresses (no ports, no schemes).

    Raises:
        ConfigError: an entry that is not a plain name or address.
    """
    names: set[str] = set()
    for position, entry in enumerate(_entries(text), start=1):
        name = normalize_name(entry)
        if name is None:
            raise ConfigError(
                variable, f"entry {position} must be a host name or address, without port"
            )
        names.add(name)
    return frozenset(names)


def normalize_origin(value: str) -> str | None:
    """Return ``scheme://host[:port]`` in the form browsers send (default port left out)."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    if parts.username or parts.password or parts.query or parts.fragment:
        return None
    if parts.path not in ("", "/"):
        return None
    name = normalize_name(parts.hostname)
    if name is None:
        return None
    host = f"[{name}]" if ":" in name else name
    if port is not None and port != _DEFAULT_PORTS[parts.scheme]:
        host += f":{port}"
    return f"{parts.scheme}://{host}"


def parse_allowed_origins(text: str, variable: str) -> frozenset[str]:
    """Parse a comma-separated list of origins such as ``http://localhost:3000``.

    Raises:
        ConfigError: ``*``, ``null`` (sandboxed frames and files send it) or not an origin.
    """
    origins: set[str] = set()
    for position, entry in enumerate(_entries(text), start=1):
        if entry.lower() in ("*", "null"):
            raise ConfigError(variable, f"entry {position}: '*' and 'null' can never be allowed")
        origin = normalize_origin(entry)
        if origin is None:
            raise ConfigError(
                variable, f"entry {position} must be an origin: http(s)://host[:port], no path"
            )
        origins.add(origin)
    return frozenset(origins)
