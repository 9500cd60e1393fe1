"""Throwaway credentials for ``serve --emulator`` and a credential-less ``signproxy emulator``.

Made fresh for each run from :mod:`secrets`: nothing real is ever used, and nothing made here
is valid anywhere but in the emulator that made it.
"""

from __future__ import annotations

import secrets

from signproxy.emulator.auth import EmulatedKey


def throwaway_key() -> EmulatedKey:
    """A new random live key for one emulator run."""
    return EmulatedKey(
        api_key="emulator-" + secrets.token_hex(8),
        secret=secrets.token_hex(16).upper(),
        passphrase="emulator-" + secrets.token_hex(6),
    )
