"""The variable registry agrees with the code and the docs; the unknown-variable rules hold."""

from __future__ import annotations

import re

import pytest

from signproxy.errors import ConfigError
from signproxy.settings.config import Settings
from signproxy.settings.registry import KNOWN_VARIABLES
from signproxy.settings.unknown import check_variables, closest, edit_distance
from tests.support.paths import ROOT

BASE = {
    "OKX_API_KEY": "fake-key-reg-0001",
    "OKX_API_SECRET": "FAKE0SECRET0REG0000000000000001",
    "OKX_API_PASSPHRASE": "fake-pass-reg",
}


def documented_variables() -> set[str]:
    """Names with a row of their own in a variable table (README.md or any docs/ page)."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    text = "\n".join(page.read_text() for page in pages if page.is_file())
    return set(re.findall(r"^\| `((?:OKX|SIGNPROXY)_[A-Z0-9_]+)`", text, flags=re.MULTILINE))


def test_every_documented_variable_is_in_the_registry_and_vice_versa() -> None:
    """The variable table and settings/registry.py list the same names (a _FILE form goes with its base)."""
    documented = documented_variables()
    registered = {
        name
        for name in KNOWN_VARIABLES
        if not (name.endswith("_FILE") and name.removesuffix("_FILE") in KNOWN_VARIABLES)
    }
    assert documented
    assert sorted(documented - registered) == [], "documented but not in the registry"
    assert sorted(registered - documented) == [], "in the registry but not documented"


def test_every_variable_the_code_names_is_in_the_registry() -> None:
    """Each OKX_/SIGNPROXY_ name quoted in the package is a registered variable (or a prefix)."""
    source = "".join(path.read_text() for path in (ROOT / "signproxy").rglob("*.py"))
    names = set(re.findall(r'"((?:OKX|SIGNPROXY)_[A-Z0-9_]*[A-Z0-9])"', source))
    prefixes = {"OKX_ACCOUNT", "OKX_API"}
    assert sorted(names - KNOWN_VARIABLES - prefixes) == []


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("OKX_DEMO", "OKX_DEMO", 0),
        ("OKX_DEMMO", "OKX_DEMO", 1),
        ("SIGNPROXY_PROT", "SIGNPROXY_PORT", 1),  # a swap of neighbours is one edit
        ("SIGNPROXY_LOG_LEVL", "SIGNPROXY_LOG_LEVEL", 1),
        ("OKX_DMO_", "OKX_DEMO", 2),
        ("OKX_STRATEGY", "OKX_DEMO", 7),
    ],
)
def test_edit_distance(a: str, b: str, distance: int) -> None:
    """Insertions, deletions, substitutions and neighbour swaps each count one."""
    assert edit_distance(a, b) == distance
    assert edit_distance(b, a) == distance


def test_closest_is_within_two_edits_only() -> None:
    """A suggestion is offered only within two edits; ties go to the alphabetically first."""
    assert closest("SIGNPROXY_PROT", KNOWN_VARIABLES) == "SIGNPROXY_PORT"
    assert closest("SIGNPROXY_TURBO", KNOWN_VARIABLES) is None
    assert closest("AB", ["AC", "AA"]) == "AA"


def test_the_rules_for_unknown_names() -> None:
    """Near misses and unknown SIGNPROXY_/OKX_ACCOUNT_ names raise; other OKX_ names warn; others and empty values pass."""
    assert check_variables({"PATH": "/bin", "OKX_DEMMO": "", "HOME": "/"}, ()) == []
    warnings = check_variables({"OKX_BOT_STRATEGY": "grid"}, ())
    assert warnings == [
        "OKX_BOT_STRATEGY: not a signproxy variable; ignored (fine if your bot reads it)"
    ]
    with pytest.raises(ConfigError, match=r"^OKX_DEMMO: unknown; did you mean OKX_DEMO\?$"):
        check_variables({"OKX_DEMMO": "1"}, ())
    with pytest.raises(ConfigError, match="SIGNPROXY_TURBO: unknown"):
        check_variables({"SIGNPROXY_TURBO": "1"}, ())
    with pytest.raises(ConfigError, match="belongs to no account"):
        check_variables({"OKX_ACCOUNT_GHOST_API_KEY": "x"}, ())
    assert check_variables({"OKX_ACCOUNT_A_DEMO": "1"}, ("OKX_ACCOUNT_A_DEMO",)) == []


def test_settings_refuse_a_typo_before_reporting_what_is_missing() -> None:
    """OKX_API_SECRT is named as a typo, not reported as a missing OKX_API_SECRET."""
    env = {**BASE, "OKX_API_SECRT": BASE["OKX_API_SECRET"]}
    del env["OKX_API_SECRET"]
    with pytest.raises(ConfigError, match="OKX_API_SECRT: unknown; did you mean OKX_API_SECRET"):
        Settings.from_env(env)


def test_settings_carry_the_warning_for_a_bots_own_variable() -> None:
    """An unrelated OKX_* variable is kept as a startup warning, never an error."""
    settings = Settings.from_env({**BASE, "OKX_SYMBOLS": "BTC-USDT"})
    assert any(warning.startswith("OKX_SYMBOLS:") for warning in settings.warnings)


def test_config_example_env_names_only_known_variables() -> None:
    """Every variable config.example.env sets or shows commented out is known, so uncommenting one never stops the proxy."""
    text = (ROOT / "config.example.env").read_text()
    names = set(re.findall(r"^#?\s*((?:OKX|SIGNPROXY)_[A-Z0-9_]+)=", text, flags=re.MULTILINE))
    assert names
    unknown = {n for n in names - KNOWN_VARIABLES if not n.startswith("OKX_ACCOUNT_")}
    assert sorted(unknown) == []
