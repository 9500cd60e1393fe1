"""The Unix socket the proxy may listen on beside TCP: its path and the group that may use it.

A bot in another container reaches the proxy through a socket file on a shared volume; nothing
on the network can. The socket is created with mode 0660: its owner (the proxy's user) and one
group may connect. That group is the proxy's own unless ``SIGNPROXY_UNIX_SOCKET_GROUP`` names
another (a name or a number) that the proxy's user belongs to.
"""

from __future__ import annotations

import grp
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from signproxy.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Mapping

SOCKET_VARIABLE = "SIGNPROXY_UNIX_SOCKET"
GROUP_VARIABLE = "SIGNPROXY_UNIX_SOCKET_GROUP"
SOCKET_MODE = 0o660
# sun_path holds 108 bytes on Linux (104 on macOS), the terminating NUL included.
_MAX_PATH_BYTES = 103


@dataclass(frozen=True, slots=True)
class UnixSocket:
    """Where to listen, and the group the socket file is given (None: the process's own)."""

    path: str
    gid: int | None = None


def read_unix_socket(env: Mapping[str, str], flag: str | None = None) -> UnixSocket | None:
    """Read ``SIGNPROXY_UNIX_SOCKET`` (``flag``, from ``--unix``, wins) and its group.

    Raises:
        ConfigError: the path is too long for a socket address or names a directory that does
            not exist, or the group is unknown.
    """
    path = flag or env.get(SOCKET_VARIABLE) or None
    group = env.get(GROUP_VARIABLE) or None
    if path is None:
        if group is not None:
            raise ConfigError(GROUP_VARIABLE, f"is set but {SOCKET_VARIABLE} (or --unix) is not")
        return None
    name = "--unix" if flag else SOCKET_VARIABLE
    if "\0" in path or len(os.fsencode(path)) > _MAX_PATH_BYTES:
        raise ConfigError(name, f"must be a file path of at most {_MAX_PATH_BYTES} bytes")
    directory = os.path.dirname(os.path.abspath(path))  # noqa: PTH100, PTH120 - str in, str out
    if not os.path.isdir(directory):  # noqa: PTH112
        raise ConfigError(name, "the directory it names does not exist")
    return UnixSocket(path, None if group is None else _gid(group))


def _gid(group: str) -> int:
    if group.isdecimal():
        return int(group)
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        raise ConfigError(GROUP_VARIABLE, "names no group known on this system") from None
