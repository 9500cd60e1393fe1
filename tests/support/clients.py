"""Helpers for the client tests: run real client programs and read what reached the emulator."""

from __future__ import annotations

import asyncio
import shutil
import sys
from typing import TYPE_CHECKING

import pytest

from tests.support.processes import reap, start

if TYPE_CHECKING:
    from pathlib import Path

    from signproxy.emulator import EmulatedKey, EmulatorState

PROGRAM_TIMEOUT = 120.0  # seconds; the client programs take one or two


async def run_program(*args: str, cwd: Path | None = None) -> str:
    """Run a client program without blocking the event loop the proxy runs on; its stdout.

    A non-zero exit fails the test with the program's stderr.
    """
    process = await start(env=None, cwd=cwd, program=args, separate_stderr=True)
    try:
        out, err = await asyncio.wait_for(process.communicate(), PROGRAM_TIMEOUT)
    finally:
        await reap(process)  # on a timeout too: the program and anything it started
    assert process.returncode == 0, f"{args[0]} exited {process.returncode}:\n{err.decode()}"
    return out.decode()


def calls(emulator: EmulatorState) -> list[tuple[str, str]]:
    """``(method, path)`` of every request that reached the emulator, in order."""
    return [(seen.method, seen.target.partition("?")[0]) for seen in emulator.received]


def assert_all_signed_by_proxy(emulator: EmulatorState, key: EmulatedKey) -> None:
    """Every request reached OKX signed with the proxy's key, was accepted and succeeded."""
    assert emulator.received, "no request reached the emulator"
    for seen in emulator.received:
        assert seen.headers["OK-ACCESS-KEY"] == key.api_key, seen.target
        assert seen.headers["OK-ACCESS-PASSPHRASE"] == key.passphrase, seen.target
        assert (seen.status, seen.code) == (200, "0"), (seen.target, seen.status, seen.code)
        simulated = seen.headers.getall("x-simulated-trading", [])
        assert simulated == (["1"] if key.demo else []), (seen.target, simulated)


async def run_recipe(
    request: pytest.FixtureRequest, tmp_path: Path, language: str, script: str, name: str
) -> str:
    """Write a docs recipe (``python``, ``js`` or ``sh``) to a file, run it, return its output.

    JavaScript runs among the installed Node clients (``node_clients``); shell needs curl.
    """
    if language == "python":
        path = tmp_path / "recipe.py"
        command = [sys.executable, str(path)]
    elif language == "js":
        node_clients = request.getfixturevalue("node_clients")
        path = node_clients / f"{name}_{request.node.callspec.id}.mjs"
        command = ["node", str(path)]
    else:
        if shutil.which("curl") is None:
            pytest.skip("curl is not installed")
        path = tmp_path / "recipe.sh"
        command = ["bash", "-eu", str(path)]
    path.write_text(script, encoding="utf-8")
    return await run_program(*command, cwd=path.parent)
