"""The Unix socket listener: bound once, before any worker is forked, removed on exit.

Binding happens in the process that starts (the parent, with ``SIGNPROXY_WORKERS``), so every
worker serves the same listening socket (the kernel hands each connection to one of them), and
the file's mode and group are set once. The file is created with mode 0600 (through the umask,
so it is never open wider, not even for an instant) and then opened to its group: 0660.

Whoever can connect to the socket can trade with the key, so its file permissions are its access
control; the proxy asks such clients for no token (see :mod:`signproxy.proxy.guard`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import stat
from typing import TYPE_CHECKING

from signproxy.errors import ConfigError
from signproxy.settings.unix import SOCKET_MODE, SOCKET_VARIABLE

if TYPE_CHECKING:
    from collections.abc import Iterator

    from signproxy.settings.unix import UnixSocket

BACKLOG = 128  # aiohttp's own default for the sites it binds


def bind_unix_socket(unix: UnixSocket) -> socket.socket:
    """A listening, non-blocking socket at ``unix.path`` with mode 0660 and ``unix.gid``.

    A socket file left by a proxy that died is replaced; one another process listens on is not.

    Raises:
        ConfigError: the path holds something else, is in use, or cannot be bound or chowned.
    """
    _clear_stale(unix.path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        previous = os.umask(0o177)
        try:
            sock.bind(unix.path)
        finally:
            os.umask(previous)
        if unix.gid is not None:
            os.chown(unix.path, -1, unix.gid)
        os.chmod(unix.path, SOCKET_MODE)  # noqa: PTH101 - the socket's path, not a Path
        sock.listen(BACKLOG)
        sock.setblocking(False)  # noqa: FBT003 - the socket API's own flag
    except OSError as exc:
        sock.close()
        with contextlib.suppress(OSError):
            os.unlink(unix.path)  # noqa: PTH108
        hint = " (the proxy's user must belong to the group)" if exc.errno == errno.EPERM else ""
        raise ConfigError(
            SOCKET_VARIABLE, f"cannot listen there: {os.strerror(exc.errno or 0)}{hint}"
        ) from None
    return sock


def _clear_stale(path: str) -> None:
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise ConfigError(SOCKET_VARIABLE, "names a file that is not a socket; not replacing it")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
    except OSError:
        os.unlink(path)  # noqa: PTH108 - nobody listens: a previous run's leftover
        return
    finally:
        probe.close()
    raise ConfigError(SOCKET_VARIABLE, "another process is listening on that socket")


@contextlib.contextmanager
def unix_listener(unix: UnixSocket | None) -> Iterator[socket.socket | None]:
    """Bind ``unix`` (None: no socket) for the duration; remove the file afterwards."""
    if unix is None:
        yield None
        return
    sock = bind_unix_socket(unix)
    inode = os.stat(unix.path).st_ino  # noqa: PTH116
    try:
        yield sock
    finally:
        sock.close()
        # Only our own file: a successor may already have bound a new socket at that path.
        with contextlib.suppress(OSError):
            if os.stat(unix.path).st_ino == inode:  # noqa: PTH116
                os.unlink(unix.path)  # noqa: PTH108
