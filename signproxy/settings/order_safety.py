"""The exactly-once settings: client order ids, the order journal, resolution and de-duplication.

Read by :func:`read_order_safety` for :meth:`signproxy.settings.config.Settings.from_env`.
Every default is explained in docs/order-safety.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from signproxy.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from signproxy.settings.variables import VariableReader

# The proxy's own part of a client order id is 20 characters (see okx/clordid.py); OKX allows 32.
MAX_PREFIX = 12
DEFAULT_PREFIX = "spx"
DEFAULT_RETENTION_S = 7 * 86_400
DEFAULT_RESOLVE_TIMEOUT_S = 20.0
# A retry within five minutes of the first attempt is answered from the first attempt. Bots and
# SDKs that retry do so within seconds to a minute; a longer window would refuse (as a conflict)
# the legitimate reuse of a client order id some bots practise once the order is done.
DEFAULT_DEDUP_WINDOW_S = 300.0
JOURNAL_FILE = "journal.sqlite"
DEFAULT_EXPTIME_MS = 5000

_PREFIX = re.compile(r"[A-Za-z0-9]{1,12}")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd]?)")
_UNIT_S = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86_400}


@dataclass(frozen=True, slots=True)
class OrderSafety:
    """How the proxy makes each order happen once, and says what happened.

    Attributes:
        clordid_prefix: the start of every client order id the proxy makes.
        journal: the SQLite journal's path, or None when it is off.
        journal_retention_s: rows older than this are pruned.
        resolve_timeout_s: how long an unknown outcome is looked up before SPX301 is answered
            (0: not looked up; SPX301 at once).
        dedup_window_s: how long a client order id is remembered (0: no de-duplication).
    """

    clordid_prefix: str = DEFAULT_PREFIX
    journal: Path | None = None
    journal_retention_s: float = DEFAULT_RETENTION_S
    resolve_timeout_s: float = DEFAULT_RESOLVE_TIMEOUT_S
    dedup_window_s: float = DEFAULT_DEDUP_WINDOW_S


def default_journal(env: Mapping[str, str]) -> Path | None:
    """The journal's default path: ``$XDG_STATE_HOME/signproxy`` or ``~/.local/state/signproxy``.

    Taken from the variables given (never the process environment): without ``HOME`` or
    ``XDG_STATE_HOME`` there is no sensible place, so the journal is off unless named.
    """
    state = env.get("XDG_STATE_HOME") or None
    if state is not None:
        return Path(state) / "signproxy" / JOURNAL_FILE
    home = env.get("HOME") or None
    if home is not None:
        return Path(home) / ".local" / "state" / "signproxy" / JOURNAL_FILE
    return None


def read_order_safety(reader: VariableReader) -> OrderSafety:
    """Read the prefix, journal, retention, resolve timeout and dedup window variables.

    Raises:
        ConfigError: a value is malformed or out of range; the message names the variable.
    """
    prefix = reader.text("SIGNPROXY_CLORDID_PREFIX", DEFAULT_PREFIX)
    if not _PREFIX.fullmatch(prefix):
        raise ConfigError(
            "SIGNPROXY_CLORDID_PREFIX",
            f"must be 1 to {MAX_PREFIX} letters and digits (OKX allows no '-' or '_' in clOrdId)",
        )
    raw_journal = reader.text("SIGNPROXY_JOURNAL", "")
    if raw_journal.lower() == "off":
        journal = None
    elif raw_journal:
        journal = Path(raw_journal)
    else:
        journal = default_journal(reader.env)
    retention = duration(reader, "SIGNPROXY_JOURNAL_RETENTION", DEFAULT_RETENTION_S)
    if retention < 60:  # noqa: PLR2004 - pruning more often than that would be the bug
        raise ConfigError("SIGNPROXY_JOURNAL_RETENTION", "must be at least 60 seconds")
    resolve = duration(reader, "SIGNPROXY_RESOLVE_TIMEOUT", DEFAULT_RESOLVE_TIMEOUT_S)
    if not 0 <= resolve <= 600:  # noqa: PLR2004
        raise ConfigError("SIGNPROXY_RESOLVE_TIMEOUT", "must be at most 600 s (0: off)")
    window = duration(reader, "SIGNPROXY_DEDUP_WINDOW", DEFAULT_DEDUP_WINDOW_S)
    if window > 86_400:  # noqa: PLR2004
        raise ConfigError("SIGNPROXY_DEDUP_WINDOW", "must be at most a day (86400 s); 0 disables")
    if journal is not None and retention < window:
        # A retry's answer is read from the journal while its claim lives: the row must too.
        raise ConfigError(
            "SIGNPROXY_JOURNAL_RETENTION",
            f"must be at least SIGNPROXY_DEDUP_WINDOW ({window:g} s): retries are answered"
            " from the journal",
        )
    return OrderSafety(prefix, journal, retention, resolve, window)


def read_exptime(reader: VariableReader) -> int | None:
    """``SIGNPROXY_EXPTIME_MS``: the ``expTime`` window of placing and amending requests.

    5000 ms by default: OKX takes milliseconds to process an order, so five seconds leave room
    for a congested path while bounding how long "not placed" takes to conclude after a broken
    connection. ``off`` (or 0) sends none, and then "not placed" is never concluded.
    """
    if reader.text("SIGNPROXY_EXPTIME_MS", "").lower() in ("off", "0"):
        return None
    return reader.integer("SIGNPROXY_EXPTIME_MS", DEFAULT_EXPTIME_MS, 100, 600_000)


def duration(reader: VariableReader, name: str, default: float) -> float:
    """A duration: seconds, or a number with ``s``, ``m``, ``h`` or ``d`` (``7d``, ``90m``)."""
    value = reader.text(name, "")
    if not value:
        return default
    match = _DURATION.fullmatch(value.strip().lower())
    if match is None:
        raise ConfigError(name, "must be a duration such as 300, 90s, 15m, 12h or 7d")
    return float(match.group(1)) * _UNIT_S[match.group(2)]
