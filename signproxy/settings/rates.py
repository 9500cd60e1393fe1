"""The rate-budget settings (``SIGNPROXY_RATE_*``), read and checked once.

See docs/rate-limits.md for what each one does and why its default is what it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from signproxy.errors import ConfigError

if TYPE_CHECKING:
    from signproxy.settings.variables import VariableReader

# Half of OKX's 2 s window: a burst that straddles a window's edge gets its slot, and a bot's
# own timeout (10 s and more in ccxt and python-okx) never fires first; an order later than
# that is usually stale, so past it the bot decides (429 with Retry-After), not the proxy.
DEFAULT_MAX_WAIT_MS = 1000
# Network jitter between the proxy and OKX may bring two requests closer together on arrival
# than on departure; 100 ms of margin on every 2 s window costs 5% of the budget.
DEFAULT_MARGIN_MS = 100
_IP_KEY = re.compile(r"[A-Za-z0-9._-]{1,64}")


@dataclass(frozen=True, slots=True)
class RateSettings:
    """How the proxy keeps OKX's rate limits.

    Attributes:
        enabled: ``SIGNPROXY_RATE_LIMITS`` (on by default).
        max_wait_ms: the longest a request waits for room before it is refused.
        margin_ms: added to every window.
        ip_key: names this proxy's egress IP; proxies sharing Redis and an IP share public budgets.
    """

    enabled: bool = True
    max_wait_ms: int = DEFAULT_MAX_WAIT_MS
    margin_ms: int = DEFAULT_MARGIN_MS
    ip_key: str = "default"


def read_rate_settings(reader: VariableReader, *, workers: int, redis: bool) -> RateSettings:
    """Read ``SIGNPROXY_RATE_*``; warn when workers must split every budget.

    Raises:
        ConfigError: a value out of range or of the wrong form.
    """
    enabled = reader.boolean("SIGNPROXY_RATE_LIMITS", default=True)
    ip_key = reader.text("SIGNPROXY_RATE_IP_KEY", "default")
    if not _IP_KEY.fullmatch(ip_key):
        raise ConfigError("SIGNPROXY_RATE_IP_KEY", "must be 1-64 letters, digits, '.', '_' or '-'")
    if enabled and workers > 1 and not redis:
        reader.warnings.append(
            "SIGNPROXY_WORKERS: without SIGNPROXY_REDIS_URL each worker keeps its share of every"
            " rate budget (a budget smaller than the number of workers is refused by some"
            " workers); set SIGNPROXY_REDIS_URL to share whole budgets"
        )
    return RateSettings(
        enabled=enabled,
        max_wait_ms=reader.integer("SIGNPROXY_RATE_MAX_WAIT_MS", DEFAULT_MAX_WAIT_MS, 0, 60_000),
        margin_ms=reader.integer("SIGNPROXY_RATE_MARGIN_MS", DEFAULT_MARGIN_MS, 0, 1000),
        ip_key=ip_key,
    )
