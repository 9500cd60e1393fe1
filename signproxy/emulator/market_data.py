"""Canned reference data and record shapes, copied from the field lists in OKX's v5 docs.

Small on purpose (a handful of instruments and currencies) so that SDKs that load every market
at start-up (ccxt's ``load_markets``) stay fast, yet complete enough for them to parse: every
field OKX documents is present, with OKX's types (strings for numbers, ``""`` for not set).
"""

from __future__ import annotations

from typing import Any

JsonObject = dict[str, Any]

_LIST_TIME = "1606468572000"
_EXPIRY = "1806048000000"  # 2027-03-26 08:00 UTC, a quarterly Friday like OKX's own

# Fields every instrument has; each instrument below overrides what differs.
_INSTRUMENT_DEFAULTS: JsonObject = {
    "alias": "",
    "auctionEndTime": "",
    "baseCcy": "",
    "category": "1",
    "contTdSwTime": "",
    "ctMult": "",
    "ctType": "",
    "ctVal": "",
    "ctValCcy": "",
    "expTime": "",
    "futureSettlement": False,
    "instFamily": "",
    "lever": "",
    "listTime": _LIST_TIME,
    "maxIcebergSz": "9999999999.0000000000000000",
    "maxLmtAmt": "20000000",
    "maxLmtSz": "9999999999",
    "maxMktAmt": "1000000",
    "maxMktSz": "1000000",
    "maxStopSz": "1000000",
    "maxTriggerSz": "9999999999.0000000000000000",
    "maxTwapSz": "9999999999.0000000000000000",
    "openType": "",
    "optType": "",
    "preMktSwTime": "",
    "quoteCcy": "",
    "ruleType": "normal",
    "settleCcy": "",
    "state": "live",
    "stk": "",
    "tradeQuoteCcyList": [],
    "uly": "",
    "upcChg": [],
}


def _instrument(inst_type: str, inst_id: str, code: int) -> JsonObject:
    return {**_INSTRUMENT_DEFAULTS, "instType": inst_type, "instId": inst_id, "instIdCode": code}


def _spot(inst_id: str, code: int, lot: str, min_sz: str, tick: str) -> JsonObject:
    base, quote = inst_id.split("-")
    return {
        **_instrument("SPOT", inst_id, code),
        "baseCcy": base,
        "quoteCcy": quote,
        "lever": "10",
        "lotSz": lot,
        "minSz": min_sz,
        "tickSz": tick,
        "tradeQuoteCcyList": [quote],
    }


def _derivative(inst_type: str, inst_id: str, code: int, uly: str, **fields: str) -> JsonObject:
    base, quote = uly.split("-")
    linear = quote in ("USDT", "USDC")
    return {
        **_instrument(inst_type, inst_id, code),
        "ctMult": "1",
        "ctType": "linear" if linear else "inverse",
        "ctVal": "0.01" if linear else "100",
        "ctValCcy": base if linear else quote,
        "instFamily": uly,
        "lever": "100",
        "lotSz": "0.1" if linear else "1",
        "minSz": "0.1" if linear else "1",
        "settleCcy": quote if linear else base,
        "tickSz": "0.1",
        "uly": uly,
        **fields,
    }


INSTRUMENTS: tuple[JsonObject, ...] = (
    _spot("BTC-USDT", 10001, "0.00000001", "0.00001", "0.1"),
    _spot("ETH-USDT", 10002, "0.000001", "0.0001", "0.01"),
    _derivative("SWAP", "BTC-USDT-SWAP", 10003, "BTC-USDT"),
    _derivative("FUTURES", "BTC-USD-270326", 10004, "BTC-USD", alias="quarter", expTime=_EXPIRY),
    _derivative(
        "OPTION",
        "BTC-USD-270326-100000-C",
        10005,
        "BTC-USD",
        ctType="",
        ctVal="1",
        ctMult="0.01",
        ctValCcy="BTC",
        lever="",
        lotSz="1",
        minSz="1",
        tickSz="0.0005",
        expTime=_EXPIRY,
        optType="C",
        stk="100000",
        settleCcy="BTC",
    ),
)
# OKX lists every spot pair that can be traded on margin again under instType MARGIN.
_MARGIN = tuple({**spot, "instType": "MARGIN"} for spot in INSTRUMENTS if spot["lever"] == "10")
_INSTRUMENT_TYPES = ("SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION")


def _currency(row: tuple[str, str, str, str, str, str]) -> JsonObject:
    ccy, name, chain, min_wd, fee, tick = row
    return {
        "burningFeeRate": "",
        "canDep": True,
        "canInternal": True,
        "canWd": True,
        "ccy": ccy,
        "chain": f"{ccy}-{chain}",
        "ctAddr": "",
        "depEstOpenTime": "",
        "depQuotaFixed": "",
        "depQuoteDailyLayer2": "",
        "fee": fee,
        "logoLink": "",
        "mainNet": chain != "ERC20",
        "maxFee": fee,
        "maxFeeForCtAddr": "",
        "maxWd": "1000000",
        "minDep": min_wd,
        "minDepArrivalConfirm": "12",
        "minFee": fee,
        "minFeeForCtAddr": "",
        "minInternal": "0",
        "minWd": min_wd,
        "minWdUnlockConfirm": "32",
        "name": name,
        "needTag": False,
        "usedDepQuotaFixed": "",
        "usedWdQuota": "0",
        "wdEstOpenTime": "",
        "wdQuota": "10000000",
        "wdTickSz": tick,
    }


# ccy, name, chain, minimum withdrawal, fee, withdrawal decimals
CURRENCIES: tuple[JsonObject, ...] = tuple(
    map(
        _currency,
        (
            ("BTC", "Bitcoin", "Bitcoin", "0.0005", "0.0002", "8"),
            ("ETH", "Ethereum", "ERC20", "0.005", "0.0015", "8"),
            ("USDT", "Tether", "TRC20", "2", "1", "6"),
            ("USDT", "Tether", "ERC20", "10", "3", "6"),
        ),
    )
)


def instruments(query: JsonObject) -> tuple[str, str, list[JsonObject]]:
    """``GET /api/v5/public/instruments``: ``(code, msg, data)`` as OKX answers it."""
    inst_type = query.get("instType", "")
    if not inst_type:
        return "50014", "Parameter instType can not be empty.", []
    if inst_type not in _INSTRUMENT_TYPES:
        return "51000", "Parameter instType error", []
    if inst_type == "OPTION" and not (query.get("uly") or query.get("instFamily")):
        return "50014", "Parameter uly can not be empty.", []
    pool = _MARGIN if inst_type == "MARGIN" else INSTRUMENTS
    return "0", "", select(pool, query, ("instType", "instId", "uly", "instFamily"))


def currencies(query: JsonObject) -> list[JsonObject]:
    """``GET /api/v5/asset/currencies``: one entry per currency and chain."""
    wanted = {ccy for ccy in str(query.get("ccy", "")).split(",") if ccy}
    return [c for c in CURRENCIES if not wanted or c["ccy"] in wanted]


def inst_type_of(inst_id: str) -> str:
    """The instType of a known instrument (SPOT for unknown ones, like OKX's default pairs)."""
    return next((i["instType"] for i in INSTRUMENTS if i["instId"] == inst_id), "SPOT")


def select(
    items: tuple[JsonObject, ...] | list[JsonObject], query: JsonObject, keys: tuple[str, ...]
) -> list[JsonObject]:
    """The items whose fields equal every one of ``keys`` that the query sets."""
    wanted = {key: query[key] for key in keys if query.get(key)}
    return [item for item in items if all(item.get(k) == v for k, v in wanted.items())]
