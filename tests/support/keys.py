"""The one set of obviously fake credentials, and the variables that point a proxy at them.

Tests and bench/ both use these; they are accepted only by the local emulator.
"""

from __future__ import annotations

from signproxy.emulator import EmulatedKey

# Obviously fake credentials; never used anywhere but against the local emulator.
LIVE_KEY = EmulatedKey(
    api_key="fake-live-key-0001",
    secret="FAKE0SECRET0LIVE0NOT0REAL0000001",
    passphrase="fake-pass-live-01",
)
DEMO_KEY = EmulatedKey(
    api_key="fake-demo-key-0002",
    secret="FAKE0SECRET0DEMO0NOT0REAL0000002",
    passphrase="fake-pass-demo-02",
    demo=True,
)
ALL_SECRETS = tuple(
    value for key in (LIVE_KEY, DEMO_KEY) for value in (key.api_key, key.secret, key.passphrase)
)


def env_for(key: EmulatedKey, upstream: str, **extra: str) -> dict[str, str]:
    """The variables that point a proxy at ``upstream`` with ``key``."""
    return {
        "OKX_API_KEY": key.api_key,
        "OKX_API_SECRET": key.secret,
        "OKX_API_PASSPHRASE": key.passphrase,
        "OKX_DEMO": "1" if key.demo else "0",
        "SIGNPROXY_UPSTREAM": upstream,
        # No background clock sync unless a test asks for it: its GET /public/time requests
        # would interleave with the ones a test counts in emulator.received.
        "SIGNPROXY_CLOCK_SYNC_INTERVAL": "0",
        # The emulator is not one of OKX's hosts: signing for it needs the explicit override.
        "SIGNPROXY_ALLOW_CUSTOM_UPSTREAM": "1",
        # Rate budgets only where a test is about them (tests/ratelimit/ turns them on): other
        # tests send bursts OKX would refuse, and the accRateLimit read at start would add a
        # request to the ones they count.
        "SIGNPROXY_RATE_LIMITS": "off",
        **extra,
    }


def account_env(name: str, key: EmulatedKey) -> dict[str, str]:
    """The variables of the named account ``name`` holding ``key`` (OKX_ACCOUNT_<NAME>_*)."""
    prefix = f"OKX_ACCOUNT_{name.upper().replace('-', '_')}_"
    return {
        prefix + "API_KEY": key.api_key,
        prefix + "API_SECRET": key.secret,
        prefix + "API_PASSPHRASE": key.passphrase,
        prefix + "DEMO": "1" if key.demo else "0",
    }
