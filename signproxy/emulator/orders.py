"""The shape of an order as OKX's order look-ups show it (``GET /api/v5/trade/order``)."""

from __future__ import annotations

from signproxy.emulator.market_data import JsonObject, inst_type_of


def order_record(request: JsonObject, ord_id: str, now_ms: int) -> JsonObject:
    """A new live order as ``GET /api/v5/trade/order`` and ``orders-pending`` show it."""
    text = {name: str(request.get(name) or "") for name in ORDER_TEXT_FIELDS}
    inst_type = inst_type_of(text["instId"])
    quote = [*text["instId"].split("-"), ""][1]
    return {
        **_ORDER_DEFAULTS,
        **text,
        "instType": inst_type,
        "category": "normal",
        "feeCcy": quote,
        "posSide": text["posSide"] or "net",
        "tgtCcy": text["tgtCcy"] if inst_type == "SPOT" else "",
        "tradeQuoteCcy": quote if inst_type == "SPOT" else "",
        "stpMode": text["stpMode"] or "cancel_maker",
        "reduceOnly": str(request.get("reduceOnly") or False).lower(),
        "ordId": ord_id,
        "state": "live",
        "cTime": str(now_ms),
        "uTime": str(now_ms),
    }


# The text fields of an order record, copied from the placing request.
ORDER_TEXT_FIELDS = (
    "instId",
    "tdMode",
    "side",
    "ordType",
    "sz",
    "px",
    "posSide",
    "clOrdId",
    "tag",
    "ccy",
    "tgtCcy",
    "stpMode",
)
_ORDER_DEFAULTS: JsonObject = {
    "accFillSz": "0",
    "algoClOrdId": "",
    "algoId": "",
    "attachAlgoClOrdId": "",
    "attachAlgoOrds": [],
    "avgPx": "",
    "cancelSource": "",
    "cancelSourceReason": "",
    "fee": "0",
    "fillPx": "",
    "fillSz": "0",
    "fillTime": "",
    "isTpLimit": "false",
    "lever": "",
    "linkedAlgoOrd": {"algoId": ""},
    "pnl": "0",
    "pxType": "",
    "pxUsd": "",
    "pxVol": "",
    "quickMgnType": "",
    "rebate": "0",
    "rebateCcy": "",
    "slOrdPx": "",
    "slTriggerPx": "",
    "slTriggerPxType": "",
    "source": "",
    "stpId": "",
    "tpOrdPx": "",
    "tpTriggerPx": "",
    "tpTriggerPxType": "",
    "tradeId": "",
}
