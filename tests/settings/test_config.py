"""Settings: parsing, validation, _FILE secrets, precedence, and no secret in any repr."""

import os
from pathlib import Path

import pytest

from signproxy.errors import ConfigError
from signproxy.settings.config import DEFAULT_PORT, DEFAULT_UPSTREAM, Settings, merge_sources
from tests.support.paths import ROOT

BASE = {
    "OKX_API_KEY": "fake-key-cfg-0001",
    "OKX_API_SECRET": "FAKE0SECRET0CFG0000000000000001",
    "OKX_API_PASSPHRASE": "fake-pass-cfg",
}


def test_defaults() -> None:
    """Only the three credentials are required; everything else has a documented default."""
    settings = Settings.from_env(BASE)
    assert settings.upstream == DEFAULT_UPSTREAM == "https://www.okx.com"
    assert (settings.host, settings.port) == ("127.0.0.1", DEFAULT_PORT)
    assert settings.credentials.demo is False
    assert settings.body_mode == "canonical"


@pytest.mark.parametrize("name", ["OKX_API_KEY", "OKX_API_SECRET", "OKX_API_PASSPHRASE"])
def test_missing_credential_names_the_variable(name: str) -> None:
    """A missing (or empty) credential is an error naming the variable."""
    for env in ({k: v for k, v in BASE.items() if k != name}, {**BASE, name: ""}):
        with pytest.raises(ConfigError) as caught:
            Settings.from_env(env)
        assert caught.value.variable == name
        assert name in str(caught.value)


def test_file_variant_is_read_and_trailing_newline_dropped(tmp_path: Path) -> None:
    """<NAME>_FILE holds a path to the value; one trailing newline is dropped."""
    secret_file = tmp_path / "secret"
    secret_file.write_text("FAKE0SECRET0FROM0FILE00000000001\n")
    secret_file.chmod(0o600)
    env = {**BASE, "OKX_API_SECRET_FILE": str(secret_file)}
    del env["OKX_API_SECRET"]
    settings = Settings.from_env(env)
    assert settings.credentials.secret.reveal() == "FAKE0SECRET0FROM0FILE00000000001"
    assert settings.warnings == ()


def test_group_readable_secret_file_warns(tmp_path: Path) -> None:
    """A secret file readable by group or others gives a warning naming the variable."""
    secret_file = tmp_path / "secret"
    secret_file.write_text("FAKE0SECRET0FROM0FILE00000000001")
    secret_file.chmod(0o644)
    env = {**BASE, "OKX_API_SECRET_FILE": str(secret_file)}
    del env["OKX_API_SECRET"]
    (warning,) = Settings.from_env(env).warnings
    assert "OKX_API_SECRET_FILE" in warning
    assert "FAKE0SECRET" not in warning


def test_both_value_and_file_is_an_error(tmp_path: Path) -> None:
    """Setting NAME and NAME_FILE together is ambiguous and refused."""
    secret_file = tmp_path / "secret"
    secret_file.write_text("x")
    with pytest.raises(ConfigError, match="not both"):
        Settings.from_env({**BASE, "OKX_API_SECRET_FILE": str(secret_file)})


def test_unreadable_file_names_variable_not_value(tmp_path: Path) -> None:
    """A _FILE that cannot be read is an error naming the variable."""
    env = {**BASE, "OKX_API_KEY_FILE": str(tmp_path / "missing")}
    del env["OKX_API_KEY"]
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(env)
    assert caught.value.variable == "OKX_API_KEY_FILE"


@pytest.mark.parametrize("bad", ["trailing ", "line\nbreak", "tab\tx", "ünicode", " padded"])
def test_credentials_must_be_header_safe(bad: str) -> None:
    """A credential with whitespace or control characters is refused without echoing it."""
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({**BASE, "OKX_API_PASSPHRASE": bad})
    assert bad not in str(caught.value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SIGNPROXY_UPSTREAM", "ftp://www.okx.com"),
        ("SIGNPROXY_UPSTREAM", "https://www.okx.com/api"),
        ("SIGNPROXY_UPSTREAM", "https://user:pw@www.okx.com"),
        ("SIGNPROXY_UPSTREAM", "not a url"),
        ("SIGNPROXY_PORT", "http"),
        ("SIGNPROXY_PORT", "70000"),
        ("SIGNPROXY_BODY", "pretty"),
        ("OKX_DEMO", "maybe"),
        ("SIGNPROXY_TIMEOUT", "0"),
        ("SIGNPROXY_TIMEOUT", "soon"),
        ("SIGNPROXY_MAX_BODY_BYTES", "-1"),
        ("SIGNPROXY_LOG_LEVEL", "loud"),
    ],
)
def test_invalid_values_name_their_variable(name: str, value: str) -> None:
    """Each invalid value fails at startup with an error that names its variable."""
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({**BASE, name: value})
    assert caught.value.variable == name


def test_upstream_is_normalized() -> None:
    """A trailing slash and default spelling are normalized away."""
    assert (
        Settings.from_env({**BASE, "SIGNPROXY_UPSTREAM": "https://www.okx.com/"}).upstream
        == "https://www.okx.com"
    )
    assert (
        Settings.from_env(
            {
                **BASE,
                "SIGNPROXY_UPSTREAM": "http://127.0.0.1:8788",
                "SIGNPROXY_ALLOW_CUSTOM_UPSTREAM": "1",
            }
        ).upstream
        == "http://127.0.0.1:8788"
    )


def test_flags_win_over_environment() -> None:
    """--host/--port override SIGNPROXY_HOST/SIGNPROXY_PORT."""
    settings = Settings.from_env(
        {**BASE, "SIGNPROXY_HOST": "0.0.0.0", "SIGNPROXY_PORT": "9000"}, host="::1", port=0
    )
    assert (settings.host, settings.port) == ("::1", 0)


def test_repr_shows_no_secret() -> None:
    """The settings' repr (as printed by a debugger or a crash) holds no credential."""
    text = repr(Settings.from_env(BASE)) + str(Settings.from_env(BASE))
    for value in BASE.values():
        assert value not in text


def test_settings_are_frozen() -> None:
    """Settings cannot be changed after validation."""
    settings = Settings.from_env(BASE)
    with pytest.raises(AttributeError):
        settings.port = 1  # type: ignore[misc]


def test_environment_wins_over_env_file_per_setting() -> None:
    """The process environment overrides the env file, including across NAME / NAME_FILE."""
    merged = merge_sources(
        {"OKX_API_SECRET": "from-file", "OKX_API_KEY": "file-key", "EMPTY": None},
        {"OKX_API_SECRET_FILE": os.devnull, "OKX_API_KEY": "env-key"},
    )
    assert merged == {"OKX_API_SECRET_FILE": os.devnull, "OKX_API_KEY": "env-key"}


def test_space_inside_key_or_secret_is_refused() -> None:
    """An API key or secret with a space inside (a copy-paste slip) is refused, naming the variable."""
    for name in ("OKX_API_KEY", "OKX_API_SECRET"):
        with pytest.raises(ConfigError) as caught:
            Settings.from_env({**BASE, name: "abc def-0000000000"})
        assert caught.value.variable == name


def test_example_placeholders_and_short_values_warn() -> None:
    """config.example.env's placeholder credentials, and very short ones, give startup warnings."""
    example = dict(
        line.split("=", 1)
        for line in (ROOT / "config.example.env").read_text().splitlines()
        if line.startswith("OKX_API_")
    )
    warnings = Settings.from_env({**BASE, **example}).warnings
    assert len([w for w in warnings if "placeholder" in w]) == 3
    (short,) = Settings.from_env({**BASE, "OKX_API_PASSPHRASE": "e"}).warnings
    assert "OKX_API_PASSPHRASE" in short
    assert Settings.from_env(BASE).warnings == ()


def test_unreadable_secret_file_says_which_uid(tmp_path: Path) -> None:
    """A secret file that cannot be read names the variable and the uid that must read it."""
    env = {**BASE, "OKX_API_SECRET_FILE": str(tmp_path / "missing")}  # unreadable even as root
    del env["OKX_API_SECRET"]
    with pytest.raises(ConfigError, match=f"uid {os.getuid()}") as caught:
        Settings.from_env(env)
    assert caught.value.variable == "OKX_API_SECRET_FILE"
