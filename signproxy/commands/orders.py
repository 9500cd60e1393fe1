"""``signproxy orders``: list the order journal, also while the proxy runs (WAL lets it read).

One line per order: when it was received, account, client, action, the order, its client order
id and what became of it. ``--json`` prints one JSON object per order instead.
"""

from __future__ import annotations

import json
import re
import sqlite3
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from signproxy.errors import ConfigError
from signproxy.journal import db
from signproxy.settings.order_safety import read_order_safety
from signproxy.settings.variables import VariableReader

if TYPE_CHECKING:
    import argparse
    from collections.abc import Mapping

EXIT_NO_JOURNAL = 1
_AGO = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86_400}


def add_parser(commands: Any) -> None:  # noqa: ANN401 - argparse's private subparsers type
    """Register ``orders`` and its filters."""
    parser = commands.add_parser(
        "orders", help="list the order journal (works while the proxy runs)"
    )
    parser.add_argument("--env-file", type=Path, help="settings file (default: ./.env if present)")
    parser.add_argument("--journal", type=Path, help="the journal (default: SIGNPROXY_JOURNAL)")
    parser.add_argument(
        "--unknown", action="store_true", help="only orders whose outcome is unknown"
    )
    parser.add_argument("--since", help="received since: 15m, 2h, 1d ago, or an ISO time")
    parser.add_argument("--clordid", help="only this client order id")
    parser.add_argument("--account", help="only this account")
    parser.add_argument("--limit", type=int, default=1000, help="at most this many (newest)")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")


def run(env: Mapping[str, str], args: argparse.Namespace) -> int:
    """List the journal's orders; 0 when read (even if none matched), 1 without a journal.

    Raises:
        ConfigError: the journal is off, or a filter is malformed.
    """
    path = args.journal or read_order_safety(VariableReader(env)).journal
    if path is None:
        raise ConfigError("SIGNPROXY_JOURNAL", "the journal is off; pass --journal PATH")
    since_ms = _since_ms(args.since) if args.since else None
    try:
        conn = db.connect(path, create=False)
    except FileNotFoundError:
        print(f"signproxy: no journal at {path}", file=sys.stderr)  # noqa: T201
        return EXIT_NO_JOURNAL
    try:
        found = db.select(
            conn,
            unknown=args.unknown,
            since_ms=since_ms,
            cl_ord_id=args.clordid,
            account=args.account,
            limit=max(1, args.limit),
        )
    except sqlite3.Error as exc:
        print(f"signproxy: cannot read the journal at {path}: {exc}", file=sys.stderr)  # noqa: T201
        return EXIT_NO_JOURNAL
    finally:
        conn.close()
    for row in found:
        print(json.dumps(_public(row)) if args.json else describe(row))  # noqa: T201
    return 0


def _since_ms(value: str) -> int:
    match = _AGO.fullmatch(value.strip().lower())
    if match is not None:
        ago_s = float(match.group(1)) * _UNIT_S[match.group(2)]
        return int((time.time() - ago_s) * 1000)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError("--since", "must be like 15m, 2h, 1d or an ISO time") from None
    return int(moment.timestamp() * 1000)


def _when(ms: int | None) -> str:
    if ms is None:
        return "-"
    moment = datetime.fromtimestamp(ms / 1000).astimezone()
    return moment.isoformat(timespec="milliseconds")


def _public(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in row.items() if k != "key"}
    out["received"] = _when(row["received_ms"])
    return out


def describe(row: dict[str, Any]) -> str:
    """One order as one line of text."""
    order = " ".join(
        str(part)
        for part in (
            row["inst_id"] or "-",
            row["side"] or "-",
            row["ord_type"] or "-",
            f"sz={row['sz'] or '-'}",
            f"px={row['px'] or '-'}",
        )
    )
    outcome = row["outcome"] or row["state"]
    detail = [
        f"ordId={row['ord_id']}" if row["ord_id"] else "",
        f"sCode={row['s_code']}" if row["s_code"] else "",
        f"resolution={row['resolution']}" if row["resolution"] else "",
    ]
    return (
        f"{_when(row['received_ms'])}  {row['account'] or '-'}  {row['client'] or '-'}"
        f"  {row['transport']} {row['action']}  {order}  clOrdId={row['cl_ord_id'] or '-'}"
        f"  -> {outcome} {' '.join(d for d in detail if d)}".rstrip()
    )
