"""The kill switch's state: halted or not, kept on disk and shared with the rest of the fleet.

A halt or resume is a :class:`HaltState` stamped with the wall-clock time it was made. The
newest stamp wins wherever two meet: the state file (``<state dir>/halt.json``, which every
worker of the host polls) and, with Redis, the key every proxy of the fleet polls. So a halt
made on any proxy reaches every other within a poll interval, and a proxy that cannot reach the
file or Redis keeps the last state it knew: a halted proxy stays halted.

A state file that exists but cannot be read starts the proxy halted (fail closed), and says so.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Protocol

import structlog

from signproxy.tasks import cancel_and_wait

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from aiohttp import web

STATE_FILE = "halt.json"
POLL_S = 0.25  # a halt reaches every worker and proxy well within one second
MAX_REASON = 200


@dataclass(frozen=True, slots=True)
class HaltState:
    """Halted or not, why, by which operator, and when (Unix ms; 0: never set)."""

    halted: bool = False
    reason: str = ""
    by: str = ""
    at_ms: int = 0

    def to_json(self) -> str:
        """The state as stored in the file and in Redis."""
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> HaltState:
        """Parse a stored state.

        Raises:
            ValueError: not a stored state.
        """
        data = json.loads(text)
        if not isinstance(data, dict) or not isinstance(data.get("halted"), bool):
            raise ValueError("not a halt state")  # noqa: TRY004 - one error for every bad shape
        return cls(
            halted=data["halted"],
            reason=str(data.get("reason", ""))[:MAX_REASON],
            by=str(data.get("by", ""))[:64],
            at_ms=int(data.get("at_ms", 0)),
        )


class SharedState(Protocol):
    """Where the fleet shares the state (Redis); failures raise :class:`OSError`."""

    async def read(self) -> HaltState | None:
        """The shared state, or None when none was ever written."""

    async def write(self, state: HaltState) -> None:
        """Share ``state``."""


class HaltBoard:
    """This proxy's view of the halt: read on every order, changed by operators or the fleet."""

    def __init__(self, state_dir: Path | None, shared: SharedState | None = None) -> None:
        """Keep the state in ``state_dir`` (None: in memory) and share it through ``shared``."""
        self._path = None if state_dir is None else state_dir / STATE_FILE
        self._shared = shared
        self._shared_down = False
        self._file_seen: tuple[int, int, int] | None = None
        self._log = structlog.get_logger("signproxy")
        self.state = self._read_file() or HaltState()
        if self.state.halted:
            self._log.warning("signproxy.halt_restored", reason=self.state.reason, by=self.state.by)

    @property
    def halted(self) -> bool:
        """Whether trading is halted now."""
        return self.state.halted

    async def change(self, *, halted: bool, reason: str, by: str) -> HaltState:
        """Halt or resume here, on disk and in the fleet; returns the new state.

        The file is written before answering; Redis is tried once (a proxy that cannot reach
        it keeps the change and shares it once Redis is back).
        """
        new = HaltState(halted, reason[:MAX_REASON], by, max(_now_ms(), self.state.at_ms + 1))
        self._adopt(new, "operator")
        if self._shared is not None:
            await self._share(new)
        return new

    async def lifetime(self, _app: web.Application) -> AsyncIterator[None]:
        """A cleanup context: learn the fleet's state first, then poll while serving."""
        await self._poll_once()
        task = asyncio.create_task(self._poll())
        yield
        await cancel_and_wait(task)

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(POLL_S)
            await self._poll_once()

    async def _poll_once(self) -> None:
        if self._path is not None:
            seen = _stat(self._path)
            if seen != self._file_seen:
                found = self._read_file()
                if found is not None:
                    self._adopt(found, "file")
        if self._shared is not None:
            try:
                remote = await self._shared.read()
            except OSError as exc:
                self._shared_failed(exc)
                return
            self._shared_back()
            if remote is None or remote.at_ms < self.state.at_ms:
                if self.state.at_ms:  # ours is newer (made while Redis was away): share it
                    await self._share(self.state)
            else:
                self._adopt(remote, "redis")

    async def _share(self, state: HaltState) -> None:
        assert self._shared is not None  # noqa: S101 - callers check
        try:
            await self._shared.write(state)
        except OSError as exc:
            self._shared_failed(exc)
        else:
            self._shared_back()

    def _adopt(self, new: HaltState, source: str) -> None:
        if new.at_ms <= self.state.at_ms and source != "operator":
            return
        old, self.state = self.state, new
        if source != "file":
            self._write_file(new)
        if old.halted != new.halted or source == "operator":
            event = "signproxy.halted" if new.halted else "signproxy.resumed"
            self._log.warning(event, reason=new.reason, by=new.by, source=source)

    def _read_file(self) -> HaltState | None:
        if self._path is None:
            return None
        self._file_seen = _stat(self._path)
        if self._file_seen is None:
            return None
        try:
            return HaltState.from_json(self._path.read_bytes())
        except (OSError, ValueError) as exc:
            # Fail closed: whatever the file said, it may have said "halted".
            self._log.error(
                "signproxy.halt_state_unreadable", path=str(self._path), error=type(exc).__name__
            )
            return HaltState(
                halted=True, reason="the halt state file could not be read", by="signproxy", at_ms=1
            )

    def _write_file(self, state: HaltState) -> None:
        if self._path is None:
            return
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            temporary = self._path.with_suffix(f".{os.getpid()}.tmp")
            with temporary.open("w", encoding="utf-8") as out:
                out.write(state.to_json())
                out.flush()
                os.fsync(out.fileno())
            temporary.replace(self._path)  # atomic: a reader sees the old or the new state
            self._file_seen = _stat(self._path)
        except OSError as exc:
            self._log.error(
                "signproxy.halt_state_unwritable", path=str(self._path), error=type(exc).__name__
            )

    def _shared_failed(self, exc: OSError) -> None:
        if not self._shared_down:
            self._shared_down = True
            self._log.warning(
                "signproxy.halt_shared_unreachable", error=type(exc).__name__, halted=self.halted
            )

    def _shared_back(self) -> None:
        if self._shared_down:
            self._shared_down = False
            self._log.info("signproxy.halt_shared_reachable", halted=self.halted)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _stat(path: Path) -> tuple[int, int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size, info.st_ino)
