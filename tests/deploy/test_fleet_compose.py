"""compose.fleet.yaml (proxies sharing Redis) is valid, configures the proxies, and is documented."""

from __future__ import annotations

from pathlib import Path

import yaml

from signproxy.settings.config import Settings
from tests.support.keys import LIVE_KEY
from tests.support.paths import DOCS, ROOT

FLEET = yaml.safe_load((ROOT / "compose.fleet.yaml").read_text())


def test_fleet_proxies_share_redis_with_valid_settings(tmp_path: Path) -> None:
    """Each proxy's environment, with its secret files in place, is valid and uses the Redis."""
    files = {
        "okx_api_key": LIVE_KEY.api_key,
        "okx_api_secret": LIVE_KEY.secret,
        "okx_api_passphrase": LIVE_KEY.passphrase,
        "client_tokens": "bot:fake-client-token-0000000001",
    }
    for name, value in files.items():
        (tmp_path / name).write_text(value + "\n")
        (tmp_path / name).chmod(0o400)
    for service in ("signproxy-a", "signproxy-b"):
        env = {
            name: value.replace("/run/secrets", str(tmp_path))
            for name, value in FLEET["services"][service]["environment"].items()
        }
        settings = Settings.from_env(env)
        assert settings.redis_url is not None
        assert settings.redis_url.reveal() == "redis://redis:6379/0"
        assert settings.rates.enabled
    assert "redis" in FLEET["services"]


def test_docs_show_the_fleet_compose_file() -> None:
    """docs/rate-limits.md shows compose.fleet.yaml as it is."""
    section = (DOCS / "rate-limits.md").read_text().split("`compose.fleet.yaml`:", 1)[1]
    shown = yaml.safe_load(section.split("```yaml\n", 1)[1].split("```", 1)[0])
    assert shown == FLEET
