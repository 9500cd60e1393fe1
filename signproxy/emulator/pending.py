"""Pending orders as OKX lists them (paged), algo orders, and cancel-all-after's countdown.

- ``GET /api/v5/trade/orders-pending``: live orders, newest first, at most ``limit`` (100)
  per page; ``after=<ordId>`` pages to older orders, ``before=<ordId>`` to newer ones.
- ``POST /api/v5/trade/order-algo``, ``GET /api/v5/trade/orders-algo-pending`` (paged the same
  way by ``algoId``, filtered by ``ordType``), ``POST /api/v5/trade/cancel-algos``: enough of
  algo orders to place, list and cancel them.
- ``POST /api/v5/trade/cancel-all-after``: ``timeOut`` 0 stops the countdown, 10-120 (re)starts
  it; when it runs out every live order of the key is cancelled. One call per second per key
  (OKX's limit), else 50011. ``scale`` speeds the countdown up for tests (a ``timeOut`` of 10
  with scale 2 runs out after 5 s, and ``triggerTime`` says so).
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from signproxy.emulator.endpoints import Answer, Book, Call, JsonObject

MAX_PAGE = 100
CANCEL_ALL_AFTER = "/api/v5/trade/cancel-all-after"


def _ok(data: list[JsonObject]) -> Answer:
    return 200, {"code": "0", "msg": "", "data": data}


def page(items: list[JsonObject], query: dict[str, Any], id_field: str) -> Answer:
    """One page of ``items`` (newest first) as OKX pages with ``after``/``before``/``limit``."""
    try:
        limit = min(int(query.get("limit") or MAX_PAGE), MAX_PAGE)
    except ValueError:
        return 200, {"code": "51000", "msg": "Parameter limit error", "data": []}
    ordered = sorted(items, key=lambda item: int(item[id_field]), reverse=True)
    if query.get("after"):
        ordered = [i for i in ordered if int(i[id_field]) < int(query["after"])]
    if query.get("before"):
        ordered = [i for i in ordered if int(i[id_field]) > int(query["before"])]
        ordered = ordered[-limit:]
    return _ok(ordered[:limit])


def place_algo(book: Book, request: JsonObject, now_ms: int) -> Answer:
    """Place one algo order."""
    missing = [n for n in ("instId", "tdMode", "side", "ordType", "sz") if not request.get(n)]
    cl_id = str(request.get("algoClOrdId", ""))
    if missing:
        item = {"algoId": "", "algoClOrdId": cl_id, "sCode": "51000", "sMsg": missing[0]}
        return 200, {"code": "1", "msg": "", "data": [item]}
    algo_id = str(next(book._ids))  # noqa: SLF001 - one id counter for orders and algos
    book.algos[algo_id] = {
        **{name: str(value) for name, value in request.items()},
        "algoId": algo_id,
        "algoClOrdId": cl_id,
        "state": "live",
        "cTime": str(now_ms),
    }
    return _ok([{"algoId": algo_id, "algoClOrdId": cl_id, "clOrdId": "", "sCode": "0", "sMsg": ""}])


def algos_pending(book: Book, call: Call) -> Answer:
    """Live algo orders, filtered by ``ordType`` and ``instId`` when given, paged."""
    live = [
        algo
        for algo in book.algos.values()
        if algo["state"] == "live"
        and all(algo.get(k) == call.query[k] for k in ("ordType", "instId") if call.query.get(k))
    ]
    return page(live, call.query, "algoId")


def cancel_algos(book: Book, call: Call) -> Answer:
    """Cancel algo orders by ``algoId`` (at most 10 per request, as on OKX)."""
    items = call.many()
    if len(items) > 10:  # noqa: PLR2004 - OKX's limit
        return 200, {"code": "51000", "msg": "Parameter algoId error", "data": []}
    results = []
    for item in items:
        algo = book.algos.get(str(item.get("algoId")))
        found = algo is not None and algo["state"] == "live"
        if algo is not None and found:
            algo["state"] = "canceled"
        results.append(
            {
                "algoId": str(item.get("algoId", "")),
                "sCode": "0" if found else "51400",
                "sMsg": "" if found else "Cancellation failed as the order does not exist.",
            }
        )
    code = "0" if all(r["sCode"] == "0" for r in results) else "1"
    return 200, {"code": code, "msg": "", "data": results}


def cancel_all_after(book: Book, call: Call, scale: float) -> Answer:
    """Start, restart or stop the key's countdown."""
    now = time.monotonic()
    if now - book.countdown_called < 1.0:
        return 429, {"code": "50011", "msg": "Rate limit reached. Please try again later."}
    book.countdown_called = now
    raw = call.one().get("timeOut")
    try:
        seconds = int(str(raw))
    except ValueError:
        seconds = -1
    if seconds != 0 and not 10 <= seconds <= 120:  # noqa: PLR2004 - OKX's range
        return 200, {"code": "51000", "msg": "Parameter timeOut error", "data": []}
    if book.countdown is not None:
        book.countdown.cancel()
        book.countdown = None
    trigger = 0
    if seconds:
        delay = seconds / scale
        book.countdown = asyncio.get_running_loop().call_later(delay, _run_out, book, call)
        trigger = call.now_ms + int(delay * 1000)
    book.countdown_trigger_ms = trigger
    return _ok([{"triggerTime": str(trigger), "tag": "", "ts": str(call.now_ms)}])


def _run_out(book: Book, call: Call) -> None:
    book.countdown = None
    book.countdown_fired += 1
    now_ms = call.now_ms + int((time.monotonic() - book.countdown_called) * 1000)
    for order in book.orders.values():
        if order["state"] == "live":
            order["state"] = "canceled"
            order["cancelSource"] = "cancel_all_after"
            order["uTime"] = str(now_ms)
