"""What a proxy without Redis loads: not the Redis client (about 7 MB of resident memory)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support.keys import LIVE_KEY, env_for

_PROBE = """
import json, sys
from signproxy.proxy.app import create_app
from signproxy.settings.config import Settings
env = json.loads(sys.argv[1])
create_app(Settings.from_env(env))
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""


def _top_modules(env: dict[str, str]) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(env)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    ).stdout
    return set(json.loads(out.splitlines()[-1]))


def test_an_app_without_redis_does_not_import_the_redis_client() -> None:
    """Every default feature on, no SIGNPROXY_REDIS_URL: redis-py is never imported."""
    env = env_for(LIVE_KEY, "http://127.0.0.1:9", SIGNPROXY_RATE_LIMITS="on")
    modules = _top_modules(env)
    assert "aiohttp" in modules
    assert "redis" not in modules


def test_an_app_with_redis_imports_it() -> None:
    """With SIGNPROXY_REDIS_URL the Redis-backed stores are built (no connection is made yet)."""
    env = env_for(
        LIVE_KEY,
        "http://127.0.0.1:9",
        SIGNPROXY_RATE_LIMITS="on",
        SIGNPROXY_REDIS_URL="redis://127.0.0.1:9/0",
    )
    assert "redis" in _top_modules(env)
