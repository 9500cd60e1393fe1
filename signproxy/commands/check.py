"""``signproxy check``: the doctor. Run it when OKX refuses a key.

For each account it prints the environment, REST host and a hint of the key (its last four
characters; the secret and passphrase only as "set"), then the verdict of
:func:`signproxy.commands.doctor.diagnose`: accepted or refused (with OKX's code, what it means
and the fix), the right region host and demo flag when the key lives elsewhere, the clock
offset, and warnings about the key's permissions and IP binding. Exit status 0 when every
account is usable, 1 otherwise; ``--json`` prints the same as one JSON document.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from signproxy.commands.doctor import Diagnosis, diagnose
from signproxy.settings.config import Settings
from signproxy.upstream.client import Upstream

if TYPE_CHECKING:
    from collections.abc import Mapping

    from signproxy.commands.probe_hosts import HostMap
    from signproxy.settings.accounts import Account

EXIT_CHECK_FAILED = 1


def run_check(env: Mapping[str, str], *, as_json: bool, hosts: HostMap) -> int:
    """Diagnose every account and print the result; the exit status.

    Raises:
        ConfigError: the configuration itself is invalid (the CLI exits 2).
    """
    settings = Settings.from_env(env)
    found = asyncio.run(check_accounts(settings, hosts))
    if as_json:
        document = {
            "ok": all(item.ok for item in found),
            "config_warnings": list(settings.warnings),
            "accounts": [as_dict(item) for item in found],
        }
        print(json.dumps(document, indent=2))  # noqa: T201
    else:
        for warning in settings.warnings:
            print(f"warning: {warning}")  # noqa: T201
        for item in found:
            print("\n".join(as_lines(item)))  # noqa: T201
        accepted = sum(item.ok for item in found)
        print(f"{accepted} of {len(found)} account(s) accepted")  # noqa: T201
        if accepted < len(found):
            print("see docs/troubleshooting.md for each code and its fix")  # noqa: T201
    return 0 if all(item.ok for item in found) else EXIT_CHECK_FAILED


async def check_accounts(settings: Settings, hosts: HostMap) -> list[Diagnosis]:
    """Diagnose the accounts one after another over one session (no environment proxies)."""
    upstream = Upstream(
        settings.upstream,
        connect_timeout=settings.connect_timeout,
        request_timeout=settings.request_timeout,
        max_response_bytes=settings.max_response_bytes,
    )
    await upstream.start()
    try:
        return [await diagnose(upstream, account, hosts) for account in settings.accounts]
    finally:
        await upstream.close()


def describe(account: Account) -> str:
    """One line of what ``account`` is configured with; no secret, the key's last 4 only."""
    creds = account.credentials
    return (
        f"account {account.name}: {'demo' if account.demo else 'live'}, {account.upstream},"
        f" key {creds.api_key.last4()}, secret set, passphrase set (from {account.variables})"
    )


def as_lines(found: Diagnosis) -> list[str]:
    """The text report of one account: its description, then the verdict, then details."""
    lines = [describe(found.account)]
    if found.ok:
        permissions = ",".join(found.permissions or ()) or "?"
        lines.append(f"  OK: accepted (uid {found.uid or '?'}, permissions {permissions})")
    else:
        first, *rest = found.problems or ["not accepted"]
        lines.append(f"  FAILED: {first}")
        lines.extend(f"  fix: {problem}" for problem in rest)
    if found.clock_offset_ms is not None:
        lines.append(f"  clock: {found.clock_offset_ms:+d} ms from OKX's")
    if found.ip_binding is not None:
        lines.append(f"  IP binding: {', '.join(found.ip_binding) or 'none'}")
    lines.extend(f"  warning: {warning}" for warning in found.warnings)
    return lines


def as_dict(found: Diagnosis) -> dict[str, Any]:
    """The JSON report of one account (no secret: the key's last 4 characters only)."""
    account = found.account
    return {
        "account": account.name,
        "environment": "demo" if account.demo else "live",
        "upstream": account.upstream,
        "key": account.credentials.api_key.last4(),
        "variables": account.variables,
        "ok": found.ok,
        "accepted": found.accepted,
        "http_status": found.status,
        "okx_code": found.code,
        "okx_msg": found.message,
        "uid": found.uid,
        "permissions": list(found.permissions) if found.permissions is not None else None,
        "ip_binding": list(found.ip_binding) if found.ip_binding is not None else None,
        "clock_offset_ms": found.clock_offset_ms,
        "problems": found.problems,
        "warnings": found.warnings,
    }
