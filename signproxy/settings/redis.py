"""``SIGNPROXY_REDIS_URL``: where a fleet of proxies keeps the state they share.

The URL may carry a password, so it is read like a secret (``_FILE`` allowed), kept in a
:class:`~signproxy.settings.credentials.Secret`, and its password is redacted from every log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from signproxy.errors import ConfigError
from signproxy.settings.credentials import Secret

if TYPE_CHECKING:
    from signproxy.settings.variables import VariableReader

REDIS_URL_VARIABLE = "SIGNPROXY_REDIS_URL"
_SCHEMES = ("redis", "rediss", "unix")


def read_redis_url(reader: VariableReader) -> Secret | None:
    """The Redis URL, or None when unset.

    Raises:
        ConfigError: not a ``redis://``, ``rediss://`` or ``unix://`` URL.
    """
    value = reader.optional_secret(REDIS_URL_VARIABLE)
    if value is None or not value.strip():
        return None
    try:
        parts = urlsplit(value.strip())
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ConfigError(REDIS_URL_VARIABLE, "not a valid URL") from None
    if parts.scheme not in _SCHEMES:
        raise ConfigError(
            REDIS_URL_VARIABLE,
            "must start with redis://, rediss:// or unix:// (e.g. redis://host:6379/0)",
        )
    if parts.scheme != "unix" and not parts.hostname:
        raise ConfigError(REDIS_URL_VARIABLE, "names no host (e.g. redis://host:6379/0)")
    return Secret(value.strip())


def redis_sensitive_values(url: Secret | None) -> tuple[str, ...]:
    """The URL and its password, for the log redactor."""
    if url is None:
        return ()
    password = urlsplit(url.reveal()).password
    return (url.reveal(), password) if password else (url.reveal(),)


def redis_display(url: Secret) -> str:
    """The URL without user name or password, for logs and ``/-/ready``."""
    parts = urlsplit(url.reveal())
    if parts.scheme == "unix":
        return f"unix://{parts.path}"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}{parts.path}"
