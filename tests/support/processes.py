"""The one way tests start `signproxy` (and other programs): never outliving the test.

Every process starts in a session (and so a process group) of its own, so killing the group
also kills what it started (``SIGNPROXY_WORKERS`` children). Each launched group is recorded and
killed with SIGKILL by whichever comes first: the helper's own ``finally`` (a failed assert, an
``asyncio`` timeout, a cancelled test), the autouse ``no_leftover_processes`` fixture at the end
of every test, or ``atexit`` when pytest itself stops.

Processes run in an empty private directory unless the test gives one, with an environment
holding no ``OKX_*`` or ``SIGNPROXY_*`` variable unless the test adds it: a ``.env`` in the
working directory (``cp config.example.env .env``, as the docs say) never reaches a test.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

START_TIMEOUT = 30.0
SIGNPROXY = (sys.executable, "-m", "signproxy")
# Kept from the test's environment: what Python, Node and git need to run at all.
# XDG_STATE_HOME: conftest points it at a temporary folder, so a proxy's default order journal
# is never the user's ~/.local/state/signproxy (a journal shared between runs would answer a
# test's orders from an earlier run).
_KEPT = (
    "PATH",
    "HOME",
    "XDG_STATE_HOME",
    "LANG",
    "LC_ALL",
    "TMPDIR",
    "SYSTEMROOT",
    "PYTHONUNBUFFERED",
)
_EMPTY = tempfile.TemporaryDirectory(prefix="signproxy-test-cwd-")
EMPTY_DIR = Path(_EMPTY.name)
_GROUPS: set[int] = set()


def cli_env(**extra: str) -> dict[str, str]:
    """A minimal environment (no OKX_/SIGNPROXY_ variables, JSON logs) plus ``extra``."""
    kept = {name: os.environ[name] for name in _KEPT if name in os.environ}
    return {**kept, "SIGNPROXY_LOG_FORMAT": "json", **extra}


def kill_group(pid: int) -> None:
    """SIGKILL the process group ``pid`` leads (a no-op when it is gone) and forget it."""
    _GROUPS.discard(pid)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def kill_all() -> None:
    """Kill every group still recorded: the finalizer behind the fixture and atexit."""
    for pid in list(_GROUPS):
        kill_group(pid)


atexit.register(kill_all)


async def start(
    *args: str,
    env: dict[str, str] | None,
    cwd: Path | None = None,
    program: Sequence[str] = SIGNPROXY,
    separate_stderr: bool = False,
) -> asyncio.subprocess.Process:
    """Start ``program *args`` (default ``signproxy``); stderr joins stdout unless separate.

    ``env=None`` passes the test's own environment on (client programs need it, ``signproxy``
    never gets it).
    """
    process = await asyncio.create_subprocess_exec(
        *program,
        *args,
        env=env,
        cwd=cwd or EMPTY_DIR,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE if separate_stderr else asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    _GROUPS.add(process.pid)
    return process


async def reap(process: asyncio.subprocess.Process) -> None:
    """Kill ``process``'s group and wait for it, so its pipes close inside the test's loop."""
    kill_group(process.pid)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(process.wait(), START_TIMEOUT)


def popen(argv: Sequence[str], **kwargs: Any) -> subprocess.Popen[bytes]:
    """``subprocess.Popen`` in a new session, recorded for the finalizers; cwd defaults empty."""
    kwargs.setdefault("cwd", EMPTY_DIR)
    process = subprocess.Popen(argv, start_new_session=True, **kwargs)
    _GROUPS.add(process.pid)
    return process


async def run(
    *args: str,
    env: dict[str, str],
    cwd: Path | None = None,
    timeout: float = START_TIMEOUT,  # noqa: ASYNC109 - the bound is the point
    program: Sequence[str] = SIGNPROXY,
) -> tuple[int, str]:
    """Run ``signproxy *args`` to completion; (exit status, combined output). Killed on timeout."""
    process = await start(*args, env=env, cwd=cwd, program=program)
    try:
        out, _ = await asyncio.wait_for(process.communicate(), timeout)
    finally:
        await reap(process)
    assert process.returncode is not None
    return process.returncode, out.decode()


async def listening_url(stream: asyncio.StreamReader, seen: list[dict[str, Any]]) -> str:
    """Read JSON log lines into ``seen`` until the listening line; its URL."""
    while line := await stream.readline():
        entry = json.loads(line)
        seen.append(entry)
        if entry["event"] in ("signproxy.listening", "signproxy.emulator_listening"):
            return str(entry["url"])
    raise AssertionError(f"exited before listening: {seen}")


@asynccontextmanager
async def running(
    *args: str, env: dict[str, str], cwd: Path | None = None
) -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """Start ``signproxy *args``; yield (url, log lines) once listening; SIGTERM, expect exit 0.

    Whatever happens, the process group is SIGKILLed on the way out.
    """
    process = await start(*args, env=env, cwd=cwd)
    assert process.stdout is not None
    seen: list[dict[str, Any]] = []
    try:
        url = await asyncio.wait_for(listening_url(process.stdout, seen), START_TIMEOUT)
        yield url, seen
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        rest, _ = await asyncio.wait_for(process.communicate(), START_TIMEOUT)
        lines = rest.decode().splitlines()
        seen.extend(json.loads(line) for line in lines if line.startswith("{"))
        assert process.returncode == 0, seen
    finally:
        await reap(process)
