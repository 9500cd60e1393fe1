"""The collector's tuning once the proxy serves (runtime/collector.py)."""

from __future__ import annotations

import gc

from signproxy.runtime.collector import YOUNG_THRESHOLD, settle


def test_settle_freezes_startup_and_raises_the_young_threshold() -> None:
    """Objects alive at settle() are frozen; young passes wait for YOUNG_THRESHOLD objects."""
    threshold = gc.get_threshold()
    survivor = ["made at start-up"]  # a list: always tracked by the collector
    try:
        settle()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (YOUNG_THRESHOLD, *threshold[1:])
        assert not any(item is survivor for item in gc.get_objects())  # frozen: not tracked
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
    assert any(item is survivor for item in gc.get_objects())
