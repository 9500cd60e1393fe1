"""The features the CPU comparison turns off one at a time, and the variable that does it.

A row is used when its variable exists in this checkout (its name appears in the package's
source) and the settings accept the value that turns it off; otherwise the row is listed as
absent. So features that land later (rate budgets, the order journal, de-duplication) are
measured as soon as they exist, under their own name, without editing the benchmark.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "signproxy"


@dataclass(frozen=True)
class Feature:
    """A default feature with a per-request cost, and how to turn it off."""

    name: str
    variable: str
    off: str
    # Also required in the source when the variable alone does not prove the feature is there
    # (SIGNPROXY_JOURNAL names the halt state's directory before the journal itself lands).
    marker: str | None = None


FEATURES = (
    Feature("info logs (the canonical log line)", "SIGNPROXY_LOG_LEVEL", "warning"),
    Feature("canonical JSON body", "SIGNPROXY_BODY", "raw"),
    Feature("metrics", "SIGNPROXY_METRICS", "0"),
    Feature("rate budgets (in-process)", "SIGNPROXY_RATE_LIMITS", "0"),
    Feature("order journal", "SIGNPROXY_JOURNAL", "off", marker="read_order_safety"),
    Feature("de-duplication", "SIGNPROXY_DEDUP_WINDOW", "0", marker="read_order_safety"),
    Feature("expTime on orders", "SIGNPROXY_EXPTIME_MS", "off", marker="read_order_safety"),
)


def _source_text() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in PACKAGE.rglob("*.py"))


def available(base_env: dict[str, str]) -> tuple[list[Feature], list[Feature]]:
    """(features this checkout can turn off, features it lacks), judged as the module says."""
    from signproxy.errors import ConfigError  # noqa: PLC0415 - the checkout under test
    from signproxy.settings.config import Settings  # noqa: PLC0415

    source = _source_text()
    present, absent = [], []
    for feature in FEATURES:
        if not re.search(rf"\b{feature.variable}\b", source) or (
            feature.marker is not None and feature.marker not in source
        ):
            absent.append(feature)
            continue
        try:
            Settings.from_env({**base_env, feature.variable: feature.off})
        except ConfigError:
            absent.append(feature)
        else:
            present.append(feature)
    return present, absent
