"""Where the emulator is as strict as OKX, so bots tested offline learn OKX's rules.

- **Parameter types.** OKX documents order parameters such as ``sz`` and ``px`` as strings; a
  JSON number there is refused (reported by users of SDKs that sent numbers: amir-the-h/okex#13,
  JKorf/OKX.Net#29). The emulator answers such an item ``51000 Parameter <name> error``, the
  code OKX uses for a parameter it cannot accept. ``reduceOnly`` is a boolean and may be either.
- **clOrdId.** Up to 32 letters and digits (OKX refuses ``-`` and ``_`` with 51000), and unique
  among the account's *pending* orders: a duplicate is ``51016 Duplicated clOrdId``.
- **Unknown endpoints.** A path OKX does not serve is answered HTTP 404, not an empty success
  (OKX does not document the body; this one keeps OKX's envelope shape).

What the emulator does not do is listed in docs/emulator.md.
"""

from __future__ import annotations

import re
from typing import Any

from signproxy.emulator.orders import ORDER_TEXT_FIELDS

JsonObject = dict[str, Any]

CL_ORD_ID = re.compile(r"[A-Za-z0-9]{1,32}")
# Parameters OKX documents as String on the order endpoints (place, cancel, set-leverage).
STRING_PARAMETERS = (*ORDER_TEXT_FIELDS, "ordId", "lever", "mgnMode")
NOT_FOUND: tuple[int, JsonObject] = (404, {"code": "404", "msg": "Not Found", "data": []})
# Real OKX endpoints the emulator has no data for: a verified call gets an empty success.
EMPTY_ENDPOINTS = frozenset(
    {
        ("GET", "/api/v5/account/positions"),
        ("GET", "/api/v5/account/positions-history"),
        ("GET", "/api/v5/account/bills"),
        ("GET", "/api/v5/account/max-size"),
        ("GET", "/api/v5/account/leverage-info"),
        ("GET", "/api/v5/account/trade-fee"),
        ("POST", "/api/v5/account/set-position-mode"),
        ("GET", "/api/v5/account/move-positions-history"),
        ("POST", "/api/v5/account/move-positions"),
        ("GET", "/api/v5/asset/balances"),
        ("GET", "/api/v5/asset/deposit-history"),
        ("GET", "/api/v5/asset/withdrawal-history"),
        ("GET", "/api/v5/asset/transfer-state"),
        ("POST", "/api/v5/asset/transfer"),
        ("POST", "/api/v5/asset/withdrawal"),
        ("POST", "/api/v5/asset/withdrawal-lightning"),
        ("POST", "/api/v5/asset/cancel-withdrawal"),
        ("POST", "/api/v5/asset/subaccount/transfer"),
        ("POST", "/api/v5/asset/convert/trade"),
        ("GET", "/api/v5/finance/savings/balance"),
        ("POST", "/api/v5/finance/savings/purchase-redempt"),
        ("POST", "/api/v5/fiat/create-withdrawal"),
        ("POST", "/api/v5/fiat/buy-sell/trade"),
        ("GET", "/api/v5/users/subaccount/list"),
        ("POST", "/api/v5/users/subaccount/apikey"),
        ("POST", "/api/v5/users/subaccount/modify-apikey"),
        ("POST", "/api/v5/users/subaccount/delete-apikey"),
        ("POST", "/api/v5/users/subaccount/create-subaccount"),
        ("POST", "/api/v5/users/subaccount/set-transfer-out"),
        ("GET", "/api/v5/broker/nd/info"),
        ("POST", "/api/v5/broker/nd/create-subaccount"),
        ("POST", "/api/v5/tradingBot/grid/withdraw-income"),
        ("POST", "/api/v5/tradingBot/grid/order-algo"),
        ("GET", "/api/v5/tradingBot/grid/orders-algo-pending"),
        ("GET", "/api/v5/trade/orders-history"),
        ("GET", "/api/v5/trade/fills"),
        ("GET", "/api/v5/trade/orders-algo-pending"),
        ("POST", "/api/v5/trade/amend-order"),
        ("POST", "/api/v5/trade/amend-batch-orders"),
        ("POST", "/api/v5/trade/cancel-all-after"),
        ("POST", "/api/v5/trade/close-position"),
        ("GET", "/api/v5/market/ticker"),
        ("GET", "/api/v5/market/tickers"),
        ("GET", "/api/v5/market/books"),
        ("GET", "/api/v5/market/candles"),
    }
)


def parameter_error(item: JsonObject) -> str | None:
    """The first parameter OKX would refuse for its type or format, as ``sMsg``; or None."""
    for name in STRING_PARAMETERS:
        if name in item and not isinstance(item[name], str):
            return f"Parameter {name} error"
    cl_ord_id = item.get("clOrdId")
    if cl_ord_id and not CL_ORD_ID.fullmatch(cl_ord_id):
        return "Parameter clOrdId error"
    return None
