"""A journalled attempt's answer when none was kept: rebuilt from its orders' rows. Pure.

Used for claims restored at startup (the proxy may have died before the answer was kept) and
when a kept answer cannot be read: every order placed gives OKX's answer shape; anything else
is an unknown outcome, which a retry settles by looking the orders up (never by sending again).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from signproxy.errors import PROXY_ERROR_HEADER
from signproxy.once.dedup import Stored
from signproxy.once.errors import UNKNOWN_CODE

if TYPE_CHECKING:
    from signproxy.once.dedup import State


def stored_from_rows(rows: list[dict[str, Any]]) -> tuple[State, Stored]:
    """The attempt's state and answer from its orders' rows, oldest order first.

    Each row has ``cl_ord_id``, ``ord_id``, ``outcome`` and its request's ``exp_time``.
    """
    exp = rows[0]["exp_time"] if rows else None
    exp_ms = int(exp) if isinstance(exp, str) and exp.isdigit() else None
    headers = {"Content-Type": "application/json"}
    if rows and all(row["outcome"] == "ok" for row in rows):
        data = [
            {"clOrdId": row["cl_ord_id"], "ordId": row["ord_id"] or "", "sCode": "0", "sMsg": ""}
            for row in rows
        ]
        body = {"code": "0", "msg": "", "data": data}
        return "done", Stored(200, json.dumps(body).encode(), headers, exp_ms)
    body = {
        "code": UNKNOWN_CODE,
        "msg": "the outcome of the first attempt is unknown (the proxy restarted)",
        "data": [],
    }
    headers[PROXY_ERROR_HEADER] = UNKNOWN_CODE
    return "unknown", Stored(502, json.dumps(body).encode(), headers, exp_ms)
