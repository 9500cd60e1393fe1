"""``signproxy orders``: the journal listed and filtered by a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from signproxy.journal import db


def run_orders(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``signproxy orders ARGS`` in ``tmp_path`` (no ./.env there)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OKX_", "SIGNPROXY_"))}
    return subprocess.run(
        [sys.executable, "-m", "signproxy", "orders", *args],
        cwd=tmp_path,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def make_journal(path: Path) -> None:
    """Two requests: an old answered order on ``main``, a recent unknown one on ``hedge``."""
    conn = db.connect(path)
    now = int(time.time() * 1000)
    rows = (
        (1, now - 3 * 3600_000, "main", "answered", "ok", "old1", "5001", "0"),
        (2, now - 60_000, "hedge", "sent", "pending", "new1", None, None),
    )
    for key, received, account, state, outcome, cl_ord_id, ord_id, s_code in rows:
        conn.execute(
            "INSERT INTO requests (key, received_ms, account, client, transport, endpoint, action,"
            " state) VALUES (?, ?, ?, 'bot', 'rest', '/api/v5/trade/order', 'place', ?)",
            (key, received, account, state),
        )
        conn.execute(
            "INSERT INTO orders (key, idx, inst_id, side, ord_type, sz, cl_ord_id, ord_id, s_code,"
            " outcome) VALUES (?, 0, 'BTC-USDT', 'buy', 'market', '1', ?, ?, ?, ?)",
            (key, cl_ord_id, ord_id, s_code, outcome),
        )
    conn.close()


def test_lists_every_order_as_text(tmp_path: Path) -> None:
    """Without filters: one line per order, oldest first, with its id and outcome."""
    path = tmp_path / "j.sqlite"
    make_journal(path)
    done = run_orders(tmp_path, SIGNPROXY_JOURNAL=str(path))
    assert done.returncode == 0, done.stderr
    first, second = done.stdout.splitlines()
    assert "main  bot  rest place  BTC-USDT buy market sz=1 px=-  clOrdId=old1  -> ok" in first
    assert "ordId=5001 sCode=0" in first
    assert second.endswith("clOrdId=new1  -> pending")


def test_filters(tmp_path: Path) -> None:
    """--unknown, --since, --clordid and --account select rows; --json prints objects."""
    path = tmp_path / "j.sqlite"
    make_journal(path)

    def ids(*args: str) -> list[str]:
        done = run_orders(tmp_path, "--json", "--journal", str(path), *args)
        assert done.returncode == 0, done.stderr
        return [json.loads(line)["cl_ord_id"] for line in done.stdout.splitlines()]

    assert ids("--unknown") == ["new1"]
    assert ids("--since", "1h") == ["new1"]
    assert ids("--clordid", "old1") == ["old1"]
    assert ids("--account", "main") == ["old1"]
    assert ids("--account", "nobody") == []


def test_missing_or_switched_off_journal(tmp_path: Path) -> None:
    """No journal file: exit 1 naming the path; the journal switched off: a config error (2)."""
    missing = run_orders(tmp_path, SIGNPROXY_JOURNAL=str(tmp_path / "none.sqlite"))
    assert missing.returncode == 1
    assert "no journal at" in missing.stderr
    assert not (tmp_path / "none.sqlite").exists()
    off = run_orders(tmp_path, SIGNPROXY_JOURNAL="off")
    assert off.returncode == 2
    assert "SIGNPROXY_JOURNAL" in off.stderr
