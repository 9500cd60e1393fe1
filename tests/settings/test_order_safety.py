"""The exactly-once settings: validated at startup, with the documented defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from signproxy.errors import ConfigError
from signproxy.settings.config import Settings
from tests.support.keys import LIVE_KEY, env_for

BASE = env_for(LIVE_KEY, "https://www.okx.com")


def test_defaults() -> None:
    """Prefix spx, 7-day retention, 20 s resolution, 300 s dedup window, expTime 5000 ms."""
    settings = Settings.from_env(BASE)
    options = settings.order_safety
    assert options.clordid_prefix == "spx"
    assert options.journal_retention_s == 7 * 86_400
    assert options.resolve_timeout_s == 20.0
    assert options.dedup_window_s == 300.0
    assert settings.exptime_ms == 5000


def test_journal_path_default_off_and_explicit() -> None:
    """The journal lives under XDG_STATE_HOME (or ~/.local/state); `off` turns it off."""
    assert Settings.from_env({**BASE, "XDG_STATE_HOME": "/s"}).order_safety.journal == Path(
        "/s/signproxy/journal.sqlite"
    )
    assert Settings.from_env({**BASE, "HOME": "/h"}).order_safety.journal == Path(
        "/h/.local/state/signproxy/journal.sqlite"
    )
    assert (
        Settings.from_env({**BASE, "HOME": "/h", "SIGNPROXY_JOURNAL": "off"}).order_safety.journal
        is None
    )
    assert Settings.from_env({**BASE, "SIGNPROXY_JOURNAL": "/j.db"}).order_safety.journal == Path(
        "/j.db"
    )


def test_durations_take_units() -> None:
    """Durations are seconds or a number with s, m, h or d."""
    settings = Settings.from_env(
        {
            **BASE,
            "SIGNPROXY_JOURNAL_RETENTION": "12h",
            "SIGNPROXY_DEDUP_WINDOW": "90s",
            "SIGNPROXY_RESOLVE_TIMEOUT": "0",
            "SIGNPROXY_EXPTIME_MS": "off",
        }
    )
    options = settings.order_safety
    assert (options.journal_retention_s, options.dedup_window_s) == (43_200, 90)
    assert options.resolve_timeout_s == 0
    assert settings.exptime_ms is None


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SIGNPROXY_CLORDID_PREFIX", "bot-1"),
        ("SIGNPROXY_CLORDID_PREFIX", "bot_1"),
        ("SIGNPROXY_CLORDID_PREFIX", "abcdefghijklm"),
        ("SIGNPROXY_JOURNAL_RETENTION", "10s"),
        ("SIGNPROXY_JOURNAL_RETENTION", "a week"),
        ("SIGNPROXY_RESOLVE_TIMEOUT", "11m"),
        ("SIGNPROXY_DEDUP_WINDOW", "2d"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    """A malformed or out-of-range value fails at startup, naming the variable."""
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({**BASE, name: value})
    assert caught.value.variable == name
    assert value not in caught.value.message


def test_a_short_retention_is_fine_without_a_journal() -> None:
    """Retention shorter than the window only matters when retries are answered from a journal."""
    settings = Settings.from_env(
        {**BASE, "SIGNPROXY_JOURNAL": "off", "SIGNPROXY_JOURNAL_RETENTION": "2m"}
    )
    assert settings.order_safety.journal is None


def test_a_journal_must_keep_rows_as_long_as_the_window(tmp_path: Path) -> None:
    """Retries are answered from the journal: retention shorter than the window is refused."""
    env = {
        **BASE,
        "SIGNPROXY_JOURNAL": str(tmp_path / "journal.db"),
        "SIGNPROXY_JOURNAL_RETENTION": "2m",
    }
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(env)
    assert caught.value.variable == "SIGNPROXY_JOURNAL_RETENTION"
    assert "SIGNPROXY_DEDUP_WINDOW" in caught.value.message
    assert Settings.from_env({**env, "SIGNPROXY_DEDUP_WINDOW": "90s"}).order_safety.journal
