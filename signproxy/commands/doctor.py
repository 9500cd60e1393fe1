"""The diagnosis behind ``signproxy check``: one account, end to end, with read-only calls.

For each account: the clock offset to OKX (``GET /api/v5/public/time``); the signed read-only
``GET /api/v5/account/config``, which OKX answers only when the key exists on that host, the
passphrase is right, the signature verifies, the demo flag matches and the IP is allowed; on 50119
or 50101 the same call on OKX's other hosts and with the other demo flag (see
:mod:`.probe_hosts`), to say which combination the key belongs to; and from the answer the key's
permissions (``perm``) and IP binding (``ip``). Problems make ``check`` fail; warnings do not.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from signproxy.errors import UpstreamError
from signproxy.okx.auth_hints import EXPLANATIONS
from signproxy.okx.signing import iso_timestamp
from signproxy.settings.account_env import variable_prefix
from signproxy.settings.accounts import DEFAULT_ACCOUNT

if TYPE_CHECKING:
    from signproxy.commands.probe_hosts import HostMap
    from signproxy.settings.accounts import Account
    from signproxy.upstream.client import Upstream

CONFIG_PATH = "/api/v5/account/config"
TIME_PATH = "/api/v5/public/time"
CLOCK_WARNING_MS = 5_000  # well inside OKX's 30 s window, but a clock that drifts this far
_MOVED = ("50119", "50101")  # "no such key here" / "wrong environment": worth probing
_IP = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b|\b[0-9a-fA-F]{0,4}(?::[0-9a-fA-F]{0,4}){2,7}\b")


@dataclass
class Diagnosis:
    """What ``check`` found for one account."""

    account: Account
    accepted: bool = False
    status: int | None = None
    code: str | None = None
    message: str = ""
    uid: str | None = None
    permissions: tuple[str, ...] | None = None
    ip_binding: tuple[str, ...] | None = None
    clock_offset_ms: int | None = None
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the account is usable as configured."""
        return self.accepted and not self.problems


def variable_names(account: Account) -> tuple[str, str]:
    """The variables holding ``account``'s REST host and demo flag."""
    if account.name == DEFAULT_ACCOUNT:
        return "SIGNPROXY_UPSTREAM", "OKX_DEMO"
    prefix = variable_prefix(account.name)
    return prefix + "UPSTREAM", prefix + "DEMO"


async def diagnose(upstream: Upstream, account: Account, hosts: HostMap) -> Diagnosis:
    """Run every check for ``account``; never raises for OKX's answers or network failures."""
    found = Diagnosis(account)
    found.clock_offset_ms = await _clock_offset(upstream, account.upstream)
    if found.clock_offset_ms is not None and abs(found.clock_offset_ms) > CLOCK_WARNING_MS:
        found.warnings.append(
            f"this machine's clock is {found.clock_offset_ms / 1000:+.1f} s off OKX's: fix it"
            " (NTP); past 30 s OKX refuses every request unless SIGNPROXY_CLOCK_SYNC_INTERVAL"
            " is on"
        )
    try:
        status, envelope = await _config(upstream, account, account.upstream, account.demo)
    except UpstreamError as exc:
        found.problems.append(f"not checked: {exc.message}")
        return found
    found.status, found.code = status, str(envelope.get("code", "")) or None
    found.message = str(envelope.get("msg", ""))[:200]
    if status == 200 and found.code == "0":  # noqa: PLR2004
        found.accepted = True
        _read_permissions(found, envelope)
        return found
    found.problems.append(_refusal(found))
    if found.code in _MOVED:
        await _probe(upstream, found, hosts)
    return found


def _refusal(found: Diagnosis) -> str:
    line = f"refused: HTTP {found.status}, code {found.code or '?'} {found.message}".rstrip()
    explanation = EXPLANATIONS.get(found.code or "")
    if found.code == "50110":
        seen = _IP.search(found.message)
        where = f"OKX saw this machine as {seen.group(0)}" if seen else "OKX did not say which"
        explanation = (
            f"this machine's IP address is not in the key's IP allow-list ({where}): add that"
            " address to the key at okx.com (API management), or run where the key is bound"
        )
    return line + (f": {explanation}" if explanation else "")


async def _probe(upstream: Upstream, found: Diagnosis, hosts: HostMap) -> None:
    account = found.account
    current = hosts.okx_host(account.upstream)
    if current is None:
        found.problems.append(
            "the other OKX hosts were not tried: the configured upstream is not one of OKX's"
        )
        return
    tried = [(host, demo) for host in hosts.probed() for demo in (account.demo, not account.demo)]
    for okx_host, demo in tried:
        if (okx_host, demo) == (current, account.demo):
            continue
        try:
            status, envelope = await _config(upstream, account, hosts.url(okx_host), demo)
        except UpstreamError:
            continue
        if status == 200 and str(envelope.get("code")) == "0":  # noqa: PLR2004
            found.problems.append(_belongs(account, okx_host, demo, current))
            _read_permissions(found, envelope)
            return
    found.problems.append(
        f"no other OKX host ({', '.join(hosts.probed())}) nor demo flag accepts the key either:"
        " check it was copied whole, is not deleted, and belongs to this account"
    )


def _belongs(account: Account, okx_host: str, demo: bool, current: str) -> str:  # noqa: FBT001
    upstream_var, demo_var = variable_names(account)
    kind = "a demo-trading key" if demo else "a live key"
    fixes = []
    if okx_host != current:
        fixes.append(f"{upstream_var}={okx_host}")
    if demo != account.demo:
        fixes.append(f"{demo_var}={int(demo)}")
    return f"this key belongs to {okx_host} ({kind}): set {' and '.join(fixes)}"


def _read_permissions(found: Diagnosis, envelope: dict[str, Any]) -> None:
    data = envelope.get("data")
    first = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
    found.uid = str(first.get("uid", "")) or None
    found.permissions = _split(first.get("perm"))
    found.ip_binding = _split(first.get("ip"))
    if "withdraw" in found.permissions:
        found.warnings.append(
            "the key can withdraw: the proxy refuses withdrawals, but a key without withdraw"
            " rights is safer (edit it at okx.com, API management)"
        )
    if "trade" not in found.permissions:
        found.warnings.append("the key cannot trade (read-only): orders will be refused (50120)")
    if not found.ip_binding:
        found.warnings.append(
            "the key is bound to no IP address: OKX deletes trade keys without an IP binding"
            " after a period of inactivity; bind it to this machine's public address"
        )


def _split(value: object) -> tuple[str, ...]:
    return tuple(part.strip() for part in str(value or "").split(",") if part.strip())


async def _config(
    upstream: Upstream,
    account: Account,
    base_url: str,
    demo: bool,  # noqa: FBT001
) -> tuple[int, dict[str, Any]]:
    headers = {k: v for k, v in account.headers.items() if k != "x-simulated-trading"}
    if demo:
        headers["x-simulated-trading"] = "1"
    # Signed with this machine's clock, as OKX sees it: a bad clock shows up as 50102.
    timestamp = iso_timestamp(time.time_ns() // 1_000_000)
    headers["OK-ACCESS-TIMESTAMP"] = timestamp
    headers["OK-ACCESS-SIGN"] = account.signer.sign_request(timestamp, "GET", CONFIG_PATH, b"")
    answer = await upstream.send("GET", CONFIG_PATH, headers, b"", base_url=base_url)
    return answer.status, _envelope(answer.body)


async def _clock_offset(upstream: Upstream, base_url: str) -> int | None:
    before = time.time_ns() / 1e6
    try:
        answer = await upstream.send("GET", TIME_PATH, {}, b"", base_url=base_url)
    except UpstreamError:
        return None
    after = time.time_ns() / 1e6
    data = _envelope(answer.body).get("data")
    try:
        server_ms = int(data[0]["ts"])  # type: ignore[index]
    except (TypeError, KeyError, IndexError, ValueError):
        return None
    return round(server_ms - (before + after) / 2)


def _envelope(body: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(body)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}
