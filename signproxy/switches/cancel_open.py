"""``halt --cancel-open``: cancel every pending order and algo order of every account.

Per account: list pending orders page by page (``GET /api/v5/trade/orders-pending``, 100 per
page, ``after`` the last ``ordId``), cancel them 20 per request (``POST
/api/v5/trade/cancel-batch-orders``), then the same for algo orders
(``GET /api/v5/trade/orders-algo-pending`` per ``ordType``, ``POST /api/v5/trade/cancel-algos``,
10 per request), and list again until nothing is left (at most :data:`ROUNDS` times: bots may
still be cancelling or OKX may be slow to drop what was cancelled).

Within OKX's limits (okx-facts.md, "Rate limits"): pending-order listings 60 per 2 s, batch
cancels 300 orders per 2 s per instrument, cancel-algos 20 requests per 2 s. Requests are paced
one every :data:`LIST_GAP_S` / :data:`CANCEL_GAP_S` seconds, which keeps below all three with
every cancel on one instrument. Halting comes first, so no new order gets in meanwhile.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from signproxy.errors import UpstreamError

if TYPE_CHECKING:
    from signproxy.settings.accounts import Account
    from signproxy.switches.caller import OkxCaller

PENDING = "/api/v5/trade/orders-pending"
ALGO_PENDING = "/api/v5/trade/orders-algo-pending"
CANCEL_BATCH = "/api/v5/trade/cancel-batch-orders"
CANCEL_ALGOS = "/api/v5/trade/cancel-algos"
PAGE = 100
ORDER_BATCH = 20
ALGO_BATCH = 10
ROUNDS = 3
LIST_GAP_S = 0.05  # 40 per 2 s, under 60
CANCEL_GAP_S = 0.15  # 13 batches of 20 = 266 orders per 2 s, under 300; 13 cancel-algos < 20
# OKX lists algo orders by type only; these are the types of orders-algo-pending.
ALGO_TYPES = ("conditional", "oco", "trigger", "move_order_stop", "iceberg", "twap", "chase")
_MAX_FAILURES_SHOWN = 20


@dataclass(slots=True)
class Cancelled:
    """What cancelling one account's orders did."""

    orders: int = 0
    algos: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)
    failures: int = 0
    errors: list[str] = field(default_factory=list)

    def report(self) -> dict[str, Any]:
        """The account's line of the halt's answer."""
        return {
            "orders_cancelled": self.orders,
            "algos_cancelled": self.algos,
            "not_cancelled": self.failures,
            "failures": self.failed,
            "errors": self.errors,
        }


class CancelOpen:
    """Lists and cancels one account's pending orders and algo orders, paced."""

    def __init__(self, caller: OkxCaller, account: Account) -> None:
        """Cancel ``account``'s orders through ``caller``."""
        self._caller = caller
        self._account = account
        self.result = Cancelled()

    async def run(self) -> Cancelled:
        """Cancel until nothing is pending (or :data:`ROUNDS` passes); errors are reported."""
        try:
            for _ in range(ROUNDS):
                orders = await self._list(PENDING, "ordId", {})
                algos = [
                    algo
                    for kind in ALGO_TYPES
                    for algo in await self._list(ALGO_PENDING, "algoId", {"ordType": kind})
                ]
                if not orders and not algos:
                    break
                await self._cancel(CANCEL_BATCH, "ordId", orders, ORDER_BATCH, algo=False)
                await self._cancel(CANCEL_ALGOS, "algoId", algos, ALGO_BATCH, algo=True)
        except UpstreamError as exc:
            self.result.errors.append(f"{exc.code}: {exc.message}")
        return self.result

    async def _list(self, path: str, id_field: str, query: dict[str, str]) -> list[dict[str, str]]:
        found: list[dict[str, str]] = []
        after = ""
        while True:
            params = {**query, "limit": str(PAGE), **({"after": after} if after else {})}
            target = path + "?" + "&".join(f"{k}={v}" for k, v in params.items())
            await asyncio.sleep(LIST_GAP_S)
            status, answer = await self._caller.call(self._account, "GET", target)
            if answer is None or not answer.ok:
                self.result.errors.append(
                    f"GET {path}: HTTP {status}, code {answer.code if answer else '?'}"
                )
                return found
            page = [
                {"instId": str(item.get("instId", "")), id_field: str(item.get(id_field, ""))}
                for item in answer.data
                if isinstance(item, dict) and item.get(id_field)
            ]
            found.extend(page)
            if len(answer.data) < PAGE or not page:
                return found
            after = page[-1][id_field]

    async def _cancel(
        self, path: str, id_field: str, items: list[dict[str, str]], size: int, *, algo: bool
    ) -> None:
        for start in range(0, len(items), size):
            batch = items[start : start + size]
            await asyncio.sleep(CANCEL_GAP_S)
            status, answer = await self._caller.call(self._account, "POST", path, batch)
            if answer is None:
                self.result.errors.append(f"POST {path}: HTTP {status}, no OKX answer")
                continue
            done = {
                str(item.get(id_field))
                for item in answer.data
                if isinstance(item, dict) and str(item.get("sCode", "0")) == "0"
            }
            if algo and answer.ok and not done:
                done = {item[id_field] for item in batch}  # cancel-algos may answer no ids
            for item in batch:
                if item[id_field] in done:
                    if algo:
                        self.result.algos += 1
                    else:
                        self.result.orders += 1
                    continue
                self.result.failures += 1
                if len(self.result.failed) < _MAX_FAILURES_SHOWN:
                    self.result.failed.append({**item, "code": answer.code or "?"})
