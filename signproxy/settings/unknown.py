"""Unknown variables: a typo must stop the proxy, not silently trade live.

``OKX_DEMMO=1`` used to be ignored, so the proxy signed for the live account. The rules, for
every ``OKX_*`` and ``SIGNPROXY_*`` name that is set (non-empty) and not known
(:data:`~signproxy.settings.registry.KNOWN_VARIABLES`, plus the ``OKX_ACCOUNT_<NAME>_*``
variables of the accounts ``SIGNPROXY_ACCOUNTS`` lists):

- within two edits of a known name: an error with the suggestion
  (``OKX_DEMMO: unknown; did you mean OKX_DEMO?``);
- any other ``SIGNPROXY_*`` or ``OKX_ACCOUNT_*`` name: an error (those prefixes are ours);
- any other ``OKX_*`` name: a warning only, since a bot may share the env file and read its own
  ``OKX_*`` variables.

Pure: no I/O. Runs first in :meth:`~signproxy.settings.config.Settings.from_env`, so startup and
every reload apply it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from signproxy.errors import ConfigError
from signproxy.settings.registry import KNOWN_VARIABLES

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

MAX_EDITS = 2
_OURS = ("SIGNPROXY_", "OKX_ACCOUNT_")
_CHECKED = ("SIGNPROXY_", "OKX_")


def check_variables(env: Mapping[str, str], account_variables: Iterable[str]) -> list[str]:
    """Refuse unknown ``SIGNPROXY_*``/``OKX_ACCOUNT_*`` names and near-misses; warn about the rest.

    Returns the warnings (unknown ``OKX_*`` names far from every known one).

    Raises:
        ConfigError: naming the first unknown variable (in sorted order) that is an error.
    """
    known = KNOWN_VARIABLES | frozenset(account_variables)
    warnings: list[str] = []
    for name in sorted(env):
        if not env[name] or name in known or not name.startswith(_CHECKED):
            continue
        suggestion = closest(name, known)
        if suggestion is not None:
            raise ConfigError(name, f"unknown; did you mean {suggestion}?")
        if name.startswith("OKX_ACCOUNT_"):
            raise ConfigError(
                name,
                "unknown: it belongs to no account listed in SIGNPROXY_ACCOUNTS (an account's"
                " variables are OKX_ACCOUNT_<NAME>_API_KEY, _API_SECRET, _API_PASSPHRASE, _DEMO,"
                " _UPSTREAM and _DEADMAN_S, with - in the name spelled _)",
            )
        if name.startswith(_OURS):
            raise ConfigError(
                name, "unknown: signproxy has no such variable (see the variable table)"
            )
        warnings.append(f"{name}: not a signproxy variable; ignored (fine if your bot reads it)")
    return warnings


def closest(name: str, known: Iterable[str]) -> str | None:
    """The known name nearest to ``name`` if it is at most two edits away (ties: alphabetical)."""
    best: tuple[int, str] | None = None
    for candidate in known:
        if abs(len(candidate) - len(name)) > MAX_EDITS:
            continue
        distance = edit_distance(name, candidate)
        if distance <= MAX_EDITS and (best is None or (distance, candidate) < best):
            best = (distance, candidate)
    return None if best is None else best[1]


def edit_distance(a: str, b: str) -> int:
    """Insertions, deletions, substitutions and swaps of neighbours turning ``a`` into ``b``.

    A swap counts as one edit (``PROT`` -> ``PORT``): that is how people mistype.
    """
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, char_b in enumerate(b, 1):
            current[j] = min(
                previous[j] + 1,
                current[j - 1] + 1,
                previous[j - 1] + (char_a != char_b),
            )
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]
