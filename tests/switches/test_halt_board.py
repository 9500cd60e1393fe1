"""The halt board's memory: the state file, failing closed, and the newest change winning."""

from __future__ import annotations

import json
from pathlib import Path

from signproxy.switches.halt import STATE_FILE, HaltBoard, HaltState


async def test_a_halt_is_written_and_read_back(tmp_path: Path) -> None:
    """A halt is in the state file before it is answered; a new board starts halted from it."""
    board = HaltBoard(tmp_path / "state")
    state = await board.change(halted=True, reason="drill", by="ops")
    stored = json.loads((tmp_path / "state" / STATE_FILE).read_text())
    assert stored == {"halted": True, "reason": "drill", "by": "ops", "at_ms": state.at_ms}
    assert HaltBoard(tmp_path / "state").state == state


def test_an_unreadable_state_file_starts_halted(tmp_path: Path) -> None:
    """A state file that exists but cannot be parsed means halted (fail closed)."""
    (tmp_path / STATE_FILE).write_text("{not json")
    board = HaltBoard(tmp_path)
    assert board.halted
    assert "could not be read" in board.state.reason


async def test_the_newest_change_wins_and_older_ones_are_ignored(tmp_path: Path) -> None:
    """A state another worker wrote later is adopted; an older one is not."""
    board = HaltBoard(tmp_path)
    mine = await board.change(halted=True, reason="mine", by="ops")
    older = HaltState(halted=False, reason="", by="other", at_ms=mine.at_ms - 1)
    (tmp_path / STATE_FILE).write_text(older.to_json())
    await board._poll_once()
    assert board.state == mine
    newer = HaltState(halted=False, reason="", by="other", at_ms=mine.at_ms + 1)
    (tmp_path / STATE_FILE).write_text(newer.to_json())
    await board._poll_once()
    assert board.state == newer
    assert not board.halted


async def test_without_a_state_dir_the_halt_lives_in_memory(tmp_path: Path) -> None:
    """No state dir: halting works, nothing is written."""
    board = HaltBoard(None)
    await board.change(halted=True, reason="x", by="ops")
    assert board.halted
    assert not list(tmp_path.iterdir())  # noqa: ASYNC240 - a test, one directory listing
