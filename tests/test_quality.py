"""The code base stays lint-clean and type-clean, and tests/ keeps the package's shape."""

import subprocess
import sys

import pytest

from tests.support.paths import ROOT


@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "-m", "ruff", "check", "."],
        [sys.executable, "-m", "ruff", "format", "--check", "."],
        [sys.executable, "-m", "mypy"],
    ],
    ids=["ruff-check", "ruff-format", "mypy"],
)
def test_tool_is_clean(command: list[str]) -> None:
    """The tool exits 0 on the whole repository."""
    result = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, check=False, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr


# Folders of tests/ that are not named after a package: real clients, deployment and docs, and
# the helpers tests import.
_NOT_PACKAGES = {"clients", "deploy", "support"}


def test_tests_mirror_the_package() -> None:
    """Each test module sits in a tests/ folder named after a signproxy package (or clients/deploy)."""
    tests = ROOT / "tests"
    packages = {path.parent.name for path in (ROOT / "signproxy").glob("*/__init__.py")}
    assert [path.name for path in tests.glob("test_*.py")] == ["test_quality.py"]
    for module in tests.glob("*/**/test_*.py"):
        folder = module.relative_to(tests).parts[0]
        assert folder in packages | _NOT_PACKAGES, module
        assert (module.parent / "__init__.py").exists(), module
