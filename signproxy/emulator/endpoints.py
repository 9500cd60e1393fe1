"""Canned, OKX-shaped answers for the endpoints bots and SDKs call most.

Shapes follow OKX's v5 docs. Orders are kept in memory so a place / look-up / cancel round trip
behaves like the real thing; other real endpoints without data get an empty success envelope,
and a path OKX does not serve gets HTTP 404 (see :mod:`.strict`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from signproxy.emulator import market_data, pending
from signproxy.emulator.orders import order_record
from signproxy.emulator.strict import EMPTY_ENDPOINTS, NOT_FOUND, parameter_error

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Callable

    from signproxy.emulator.auth import EmulatedKey

JsonObject = dict[str, Any]
Answer = tuple[int, JsonObject]

_CANCEL_FAILED = (
    "Order cancellation failed as the order has been filled, canceled or does not exist."
)
_ORDER_FIELDS = ("instId", "tdMode", "side", "ordType", "sz")


@dataclass
class Book:
    """The emulator's orders by ordId, algo orders by algoId, and the cancel-all-after countdown."""

    orders: dict[str, JsonObject] = field(default_factory=dict)
    algos: dict[str, JsonObject] = field(default_factory=dict)
    countdown: asyncio.TimerHandle | None = None
    countdown_trigger_ms: int = 0
    countdown_called: float = -1.0  # time.monotonic() of the last cancel-all-after
    countdown_fired: int = 0
    _ids: itertools.count[int] = field(
        default_factory=lambda: itertools.count(612_000_000_000_000_000)
    )

    def place(self, request: JsonObject, now_ms: int) -> JsonObject:
        """Place one order; answer with OKX's per-order result item."""
        missing = [name for name in _ORDER_FIELDS if not request.get(name)]
        cl_ord_id = str(request.get("clOrdId", ""))
        wrong = parameter_error(request)
        if wrong is not None:
            return _item(cl_ord_id, "", "51000", wrong, now_ms)
        if missing:
            return _item(cl_ord_id, "", "51000", f"Parameter {missing[0]} error", now_ms)
        if cl_ord_id and any(
            o["clOrdId"] == cl_ord_id and o["state"] == "live" for o in self.orders.values()
        ):
            return _item(cl_ord_id, "", "51016", "Duplicated clOrdId", now_ms)
        ord_id = str(next(self._ids))
        self.orders[ord_id] = order_record(request, ord_id, now_ms)
        return _item(cl_ord_id, ord_id, "0", "Order placed", now_ms)

    def find(self, query: JsonObject) -> JsonObject | None:
        """Find an order by ordId or clOrdId, in any state (live, filled, canceled).

        A clOrdId may be reused once its order is no longer pending; as on OKX, the look-up
        then returns the newest order carrying it.
        """
        if query.get("ordId"):
            return self.orders.get(str(query["ordId"]))
        cl_ord_id = query.get("clOrdId")
        return next(
            (o for o in reversed(self.orders.values()) if cl_ord_id and o["clOrdId"] == cl_ord_id),
            None,
        )

    def fill(self, ord_id: str, now_ms: int) -> None:
        """Fill a live order completely at its price (for tests: the emulator has no matching)."""
        order = self.orders[ord_id]
        price = order["px"] or "1"
        order.update(state="filled", accFillSz=order["sz"], fillSz=order["sz"])
        order.update(avgPx=price, fillPx=price, fillTime=str(now_ms), uTime=str(now_ms))

    def cancel(self, request: JsonObject, now_ms: int) -> JsonObject:
        """Cancel one live order."""
        cl_ord_id = str(request.get("clOrdId", ""))
        wrong = parameter_error(request)
        if wrong is not None:
            return _item(cl_ord_id, str(request.get("ordId", "")), "51000", wrong, now_ms)
        order = self.find(request)
        if order is None or order["state"] != "live":
            return _item(
                cl_ord_id,
                str(request.get("ordId", "")),
                "51400",
                _CANCEL_FAILED,
                now_ms,
            )
        order["state"] = "canceled"
        order["uTime"] = str(now_ms)
        return _item(order["clOrdId"], order["ordId"], "0", "", now_ms)


def _item(cl_ord_id: str, ord_id: str, s_code: str, s_msg: str, now_ms: int) -> JsonObject:
    return {
        "clOrdId": cl_ord_id,
        "ordId": ord_id,
        "tag": "",
        "ts": str(now_ms),
        "sCode": s_code,
        "sMsg": s_msg,
    }


def ok(data: list[JsonObject]) -> Answer:
    """The success envelope."""
    return 200, {"code": "0", "msg": "", "data": data}


def _envelope(code: str, msg: str, data: list[JsonObject]) -> Answer:
    return 200, {"code": code, "msg": msg, "data": data}


def _orders_answer(items: list[JsonObject], now_ms: int) -> Answer:
    failed = [item for item in items if item["sCode"] != "0"]
    if not failed:
        code, msg = "0", ""
    elif len(failed) == len(items):
        code, msg = "1", "All operations failed"
    else:
        code, msg = "2", "Batch operation partially succeeded"
    in_time = str(now_ms * 1000)
    return 200, {"code": code, "msg": msg, "data": items, "inTime": in_time, "outTime": in_time}


@dataclass(frozen=True, slots=True)
class Call:
    """A verified request: method, path, query parameters and parsed JSON body."""

    method: str
    path: str
    query: JsonObject
    body: Any
    now_ms: int
    key: EmulatedKey | None = None  # None: an unsigned public call

    def one(self) -> JsonObject:
        """The body as one object (empty when it is not an object)."""
        return self.body if isinstance(self.body, dict) else {}

    def many(self) -> list[JsonObject]:
        """The body as a list of objects (batch endpoints)."""
        items = self.body if isinstance(self.body, list) else [self.body]
        return [item for item in items if isinstance(item, dict)]


def _get_order(book: Book, call: Call) -> Answer:
    order = book.find(call.query)
    if order is None:
        return 200, {"code": "51603", "msg": "Order does not exist", "data": []}
    return ok([order])


def _set_leverage(_book: Book, call: Call) -> Answer:
    body = call.one()
    wrong = parameter_error(body)
    if wrong is not None:
        return _envelope("51000", wrong, [])
    return ok([{k: str(body.get(k, "")) for k in ("instId", "lever", "mgnMode", "posSide")}])


_ROUTES: dict[tuple[str, str], Callable[[Book, Call], Answer]] = {
    ("GET", "/api/v5/public/time"): lambda _b, c: ok([{"ts": str(c.now_ms)}]),
    ("GET", "/api/v5/account/balance"): lambda _b, c: ok([_balance(c.now_ms)]),
    ("GET", "/api/v5/account/config"): lambda _b, c: ok([_account_config(c.key)]),
    ("POST", "/api/v5/trade/order"): lambda b, c: _orders_answer(
        [b.place(c.one(), c.now_ms)], c.now_ms
    ),
    ("POST", "/api/v5/trade/batch-orders"): lambda b, c: _orders_answer(
        [b.place(item, c.now_ms) for item in c.many()], c.now_ms
    ),
    ("POST", "/api/v5/trade/cancel-order"): lambda b, c: _orders_answer(
        [b.cancel(c.one(), c.now_ms)], c.now_ms
    ),
    ("POST", "/api/v5/trade/cancel-batch-orders"): lambda b, c: _orders_answer(
        [b.cancel(item, c.now_ms) for item in c.many()], c.now_ms
    ),
    ("GET", "/api/v5/trade/order"): _get_order,
    ("GET", "/api/v5/trade/orders-pending"): lambda b, c: pending.page(
        market_data.select(
            [o for o in b.orders.values() if o["state"] == "live"],
            c.query,
            ("instType", "instId", "ordType"),
        ),
        c.query,
        "ordId",
    ),
    ("POST", "/api/v5/trade/order-algo"): lambda b, c: pending.place_algo(b, c.one(), c.now_ms),
    ("GET", "/api/v5/trade/orders-algo-pending"): pending.algos_pending,
    ("POST", "/api/v5/trade/cancel-algos"): pending.cancel_algos,
    ("GET", "/api/v5/public/instruments"): lambda _b, c: _envelope(
        *market_data.instruments(c.query)
    ),
    ("GET", "/api/v5/asset/currencies"): lambda _b, c: ok(market_data.currencies(c.query)),
    ("POST", "/api/v5/account/set-leverage"): _set_leverage,
}


def answer(book: Book, call: Call) -> Answer:
    """Answer a verified request: canned data, an empty success, or 404 for no such endpoint."""
    route = _ROUTES.get((call.method, call.path))
    if route is not None:
        return route(book, call)
    return ok([]) if (call.method, call.path) in EMPTY_ENDPOINTS else NOT_FOUND


def _balance(now_ms: int) -> JsonObject:
    usdt = {
        "ccy": "USDT",
        "eq": "10000",
        "cashBal": "10000",
        "availBal": "10000",
        "availEq": "10000",
        "frozenBal": "0",
        "ordFrozen": "0",
        "eqUsd": "10000",
        "upl": "0",
        "uTime": str(now_ms),
    }
    return {
        "adjEq": "",
        "imr": "",
        "mmr": "",
        "notionalUsd": "",
        "totalEq": "10000",
        "uTime": str(now_ms),
        "details": [usdt],
    }


def _account_config(key: EmulatedKey | None) -> JsonObject:
    return {
        "uid": "44705892343619584",
        "mainUid": "44705892343619584",
        "acctLv": "2",
        "posMode": "net_mode",
        "autoLoan": False,
        "greeksType": "PA",
        "level": "Lv1",
        "levelTmp": "",
        "ctIsoMode": "automatic",
        "mgnIsoMode": "automatic",
        "perm": key.perm if key is not None else "read_only,trade",
        "label": "emulator",
        "ip": ",".join(key.ips) if key is not None else "",
        "roleType": "0",
        "spotRoleType": "0",
    }
