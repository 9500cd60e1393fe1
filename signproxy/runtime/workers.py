"""Several proxy processes on one port (``SIGNPROXY_WORKERS``), for throughput beyond one core.

The parent forks N workers and serves nothing itself. Each worker is a complete, independent
proxy: its own event loop, upstream connection pool, clock and logs, listening on the same
address with ``SO_REUSEPORT`` so the kernel spreads incoming connections across them. The parent
passes SIGINT/SIGTERM on to every worker and waits for them; if one worker exits, it stops the
others and exits too (no respawning: a supervisor such as systemd or Docker restarts the whole).

The parent logs each worker's end (``signproxy.worker_exited``: its index, pid, and exit status
or the signal that killed it, SIGKILL included). A worker whose parent is gone (killed, so
nobody would forward a signal) stops itself gracefully: on Linux the kernel sends it SIGTERM
(``PR_SET_PDEATHSIG``); elsewhere a thread notices its parent change within a second.

One worker (the default) is one process, exactly as without this module. Use more only when the
proxy needs more than one core: every worker holds its own pooled connections to OKX.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time
from typing import TYPE_CHECKING

import structlog

from signproxy.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Callable


_current = (0, 1)


def current_worker() -> tuple[int, int]:
    """This process's worker index and the number of workers: (0, 1) without workers."""
    return _current


def run_workers(count: int, serve: Callable[[], None]) -> int:
    """Fork ``count`` processes that each call ``serve()``; return the exit status for main.

    ``serve`` runs the proxy until SIGTERM/SIGINT and returns; it must set up its own event loop
    (nothing asynchronous may exist before the fork). A worker ended by a signal makes the
    status 128 + the signal's number, as a shell reports it, so a supervisor sees a failure.
    """
    children: dict[int, int] = {}  # pid -> worker index
    log = structlog.get_logger("signproxy")
    parent = os.getpid()
    stopping: list[int] = []  # the signals asked to stop (forwarded), or the first exit

    def forward(signum: int, _frame: object) -> None:
        if signum != signal.SIGHUP:
            stopping.append(signum)
        for child in children:
            _signal(child, signum)

    # Installed before the first fork, so a signal that comes early is not lost. SIGHUP too:
    # each worker reloads its own accounts (key rotation); unhandled, its default action would
    # end this parent and, with it, the workers.
    for signum in _FORWARDED:
        signal.signal(signum, forward)
    for index in range(count):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child, which leaves with os._exit
            global _current  # noqa: PLW0603 - set once, in the fresh child, before serve()
            _current = (index, count)
            os._exit(_child(serve, parent))
        children[pid] = index
    status = 0
    while children:
        pid, wait_status = os.wait()
        index = children.pop(pid)
        code = os.waitstatus_to_exitcode(wait_status)
        how = {"signal": signal.Signals(-code).name} if code < 0 else {"exit_status": code}
        # A worker that ends on its own (not stopped through this parent) is the news: an error.
        getattr(log, "info" if stopping else "error")(
            "signproxy.worker_exited", worker=index, pid=pid, **how
        )
        stopping.append(0)
        # The first worker to leave takes the others with it: a proxy running with fewer
        # workers than configured would be a silent surprise.
        for child in children:
            _signal(child, signal.SIGTERM)
        status = status or (code if code >= 0 else 128 - code)
    return status


_FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
EXIT_CONFIG = 2  # as the CLI's: a worker that cannot start for a configuration reason


def _child(serve: Callable[[], None], parent: int) -> int:  # pragma: no cover - forked child
    # The parent's forwarding handlers (and its list of siblings) must not act in a worker:
    # back to the defaults until serve() installs its own; SIGHUP ignored until it can reload.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    _exit_with_parent(parent)
    try:
        serve()
    except ConfigError as exc:  # e.g. the port is taken: one line naming it, no traceback
        structlog.get_logger("signproxy").error(
            "signproxy.worker_crashed", pid=os.getpid(), variable=exc.variable, problem=exc.message
        )
        return EXIT_CONFIG
    except BaseException:  # noqa: BLE001 - the worker is about to exit; say why first
        # Through the (inherited) log setup, so the traceback is redacted like every line.
        structlog.get_logger("signproxy").exception("signproxy.worker_crashed", pid=os.getpid())
        return 1
    return 0


_PR_SET_PDEATHSIG = 1


def _exit_with_parent(parent: int) -> None:  # pragma: no cover - runs in a forked child
    """Get SIGTERM (a graceful stop) when the parent process is gone."""
    if sys.platform == "linux":
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) == 0:
            if os.getppid() != parent:  # it died before prctl took effect
                os.kill(os.getpid(), signal.SIGTERM)
            return

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="signproxy.parent_watch", daemon=True).start()


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # it has just exited
        os.kill(pid, signum)
