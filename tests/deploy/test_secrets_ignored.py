"""The Docker recipe writes secrets only into an ignored folder, and .gitignore names them too."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.support.paths import DOCS, ROOT

_SHELL = re.compile(r"^```sh\n(.*?)^```$", re.MULTILINE | re.DOTALL)
_WRITTEN = re.compile(r">\s*([^\s&|;]+)")
SECRET_NAMES = ("tokens", "okx_api_key", "okx_api_secret", "okx_api_passphrase")


def docker_recipe() -> str:
    """The shell block of docs/deployment.md's Docker section."""
    section = (DOCS / "deployment.md").read_text().split("## Docker", 1)[1]
    return _SHELL.findall(section)[0]


def test_the_docker_recipe_writes_secrets_only_under_secrets() -> None:
    """Every file the recipe writes (> file) is in secrets/, and the mounts read from there."""
    written = _WRITTEN.findall(docker_recipe())
    assert written
    assert all(path.startswith("secrets/") for path in written), written
    mounts = re.findall(r'-v "\$PWD/([^:]+):', docker_recipe())
    assert mounts
    assert all(path.startswith("secrets/") for path in mounts), mounts


@pytest.mark.parametrize(
    "path", ["secrets/tokens", *SECRET_NAMES, "sub/okx_api_secret", "secrets/okx_live_secret"]
)
def test_git_ignores_the_recipe_secrets(path: str) -> None:
    """Git would not add the secrets folder nor a secret file name anywhere in the tree."""
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        lines = (ROOT / ".gitignore").read_text().splitlines()
        assert "secrets/" in lines
        assert all(name in lines for name in SECRET_NAMES)
        return
    result = subprocess.run(
        [git, "check-ignore", "--no-index", "-q", path],
        cwd=ROOT,
        check=False,
        timeout=30,
    )
    assert result.returncode == 0, f"{path} is not ignored"
