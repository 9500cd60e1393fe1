"""Settings for time and failure handling: defaults and validation that names the variable."""

import pytest

from signproxy.errors import ConfigError
from signproxy.settings.config import Settings

BASE = {
    "OKX_API_KEY": "fake-key-cfg-0001",
    "OKX_API_SECRET": "FAKE0SECRET0CFG0000000000000001",
    "OKX_API_PASSPHRASE": "fake-pass-cfg",
}


def test_documented_defaults() -> None:
    """Clock sync every 60 s, expTime 5 s after OKX's now, 2 GET retries, 8 s shutdown grace."""
    settings = Settings.from_env(BASE)
    assert settings.clock_sync_interval == 60.0
    assert settings.exptime_ms == 5000
    assert settings.get_retries == 2
    assert settings.shutdown_grace == 8.0


def test_values_are_parsed() -> None:
    """Each variable is read into its field; a sync interval of 0 turns syncing off."""
    settings = Settings.from_env(
        {
            **BASE,
            "SIGNPROXY_CLOCK_SYNC_INTERVAL": "0",
            "SIGNPROXY_EXPTIME_MS": "5000",
            "SIGNPROXY_GET_RETRIES": "0",
            "SIGNPROXY_SHUTDOWN_GRACE": "2.5",
        }
    )
    assert settings.clock_sync_interval == 0.0
    assert settings.exptime_ms == 5000
    assert settings.get_retries == 0
    assert settings.shutdown_grace == 2.5


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SIGNPROXY_CLOCK_SYNC_INTERVAL", "-1"),
        ("SIGNPROXY_CLOCK_SYNC_INTERVAL", "often"),
        ("SIGNPROXY_EXPTIME_MS", "50"),
        ("SIGNPROXY_EXPTIME_MS", "1.5"),
        ("SIGNPROXY_GET_RETRIES", "6"),
        ("SIGNPROXY_SHUTDOWN_GRACE", "0"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    """An out-of-range or malformed value is a ConfigError naming the variable."""
    with pytest.raises(ConfigError) as info:
        Settings.from_env({**BASE, name: value})
    assert info.value.variable == name
