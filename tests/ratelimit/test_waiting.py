"""Requests waiting for one budget take turns in arrival order; one that gives up passes its turn."""

from __future__ import annotations

import asyncio

import pytest

from signproxy.ratelimit.waiting import WaitingRoom


async def test_turns_come_in_arrival_order():
    """Three waiters on one key get their turns one at a time, first come first served."""
    room = WaitingRoom()
    order: list[int] = []
    release = asyncio.Event()

    async def wait(number: int) -> None:
        async with room.turn("k", 5):
            order.append(number)
            if number == 0:
                await release.wait()

    tasks = [asyncio.create_task(wait(n)) for n in range(3)]
    await asyncio.sleep(0.01)
    assert order == [0]  # the others are in line behind the first
    assert room.waiting("k") == 3
    release.set()
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2]
    assert room.waiting("k") == 0


async def test_a_waiter_past_its_time_leaves_and_the_next_gets_the_turn():
    """A waiter whose time runs out raises TimeoutError; the one behind it still gets its turn."""
    room = WaitingRoom()
    release = asyncio.Event()
    got: list[str] = []

    async def first() -> None:
        async with room.turn("k", 5):
            await release.wait()

    async def impatient() -> None:
        with pytest.raises(TimeoutError):
            async with room.turn("k", 0.02):
                got.append("impatient")

    async def patient() -> None:
        async with room.turn("k", 5):
            got.append("patient")

    holder = asyncio.create_task(first())
    await asyncio.sleep(0)
    waiters = [asyncio.create_task(impatient()), asyncio.create_task(patient())]
    await asyncio.sleep(0.05)
    release.set()
    await asyncio.gather(holder, *waiters)
    assert got == ["patient"]
    assert room.waiting("k") == 0


async def test_keys_have_lines_of_their_own():
    """A waiter on another key does not wait behind this one."""
    room = WaitingRoom()
    release = asyncio.Event()

    async def hold() -> None:
        async with room.turn("a", 5):
            await release.wait()

    holder = asyncio.create_task(hold())
    await asyncio.sleep(0)
    async with room.turn("b", 0.5):
        pass
    release.set()
    await holder
