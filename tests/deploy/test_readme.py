"""The README's quick start and .ci/run agree, and every variable is documented in docs/."""

import re

from tests.support.paths import DOCS, ROOT

README = (ROOT / "README.md").read_text()


def quick_start_commands() -> list[str]:
    """The shell commands in the README's quick start, in order."""
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section)


def test_quick_start_has_serve_and_test_commands() -> None:
    """The quick start opens with one command that starts the proxy and one that runs the tests."""
    serve, test = quick_start_commands()[:2]
    assert "signproxy serve --emulator" in serve
    assert serve.startswith("python3 -m venv .venv")
    assert test.endswith("pytest")


def test_ci_runs_the_readme_test_command() -> None:
    """.ci/run ends with exactly the README's test command."""
    test = quick_start_commands()[1]
    ci_lines = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line.strip()]
    assert ci_lines[-1] == test


def test_every_variable_is_documented() -> None:
    """Every variable the code reads is in docs/configuration.md's table and in config.example.env."""
    example = (ROOT / "config.example.env").read_text()
    table = (DOCS / "configuration.md").read_text()
    source = "".join(path.read_text() for path in (ROOT / "signproxy").rglob("*.py"))
    names = set(re.findall(r'"((?:OKX|SIGNPROXY)_[A-Z0-9_]+)"', source)) - {"OKX_"}
    assert names
    for name in sorted(names):
        if name.endswith("_FILE"):
            continue
        assert f"`{name}`" in table, name
        assert name in example, name
