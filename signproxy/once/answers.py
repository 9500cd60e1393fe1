"""The answers a resolution gives, in OKX's shapes. Pure: no I/O.

A placed order is answered as OKX answers a placed order (``ordId``, ``clOrdId``, ``sCode``
"0"); an order found not placed carries ``sCode`` SPX801, one still unknown SPX301. A single
order that was not placed or is still unknown is answered with the proxy's error instead (see
:mod:`.errors`); a batch is always answered item by item.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from multidict import CIMultiDict

from signproxy.errors import PROXY_ERROR_HEADER
from signproxy.okx import envelope
from signproxy.okx.envelope import OrderResult
from signproxy.once.errors import NOT_PLACED_CODE, REPLAYED_HEADER, RESOLVED_HEADER, UNKNOWN_CODE
from signproxy.proxy.record import Answer

if TYPE_CHECKING:
    from collections.abc import Sequence

    from signproxy.okx.orders import Endpoint
    from signproxy.once.dedup import Stored
    from signproxy.once.resolver import Finding
    from signproxy.proxy.record import Exchange

_MESSAGES = {
    "placed": "Order placed",
    "not-placed": "not placed (not found after its expTime passed); may be sent again",
    "unknown": "outcome unknown; look it up by clOrdId before sending it again",
}
_CODES = {"placed": "0", "not-placed": NOT_PLACED_CODE, "unknown": UNKNOWN_CODE}


def summary(findings: Sequence[Finding]) -> str:
    """One word for the whole request: placed, not-placed, unknown or partial."""
    states = {finding.state for finding in findings}
    return states.pop() if len(states) == 1 else "partial"


def item(finding: Finding, endpoint: Endpoint) -> dict[str, Any]:
    """One order's item in OKX's answer shape."""
    order = finding.order or {}
    if endpoint.algo:
        ident = {"algoClOrdId": finding.cl_ord_id or "", "algoId": order.get("algoId", "")}
    else:
        ident = {"clOrdId": finding.cl_ord_id or "", "ordId": order.get("ordId", "")}
    return {
        **ident,
        "tag": order.get("tag", ""),
        "ts": order.get("cTime", ""),
        "sCode": _CODES[finding.state],
        "sMsg": _MESSAGES[finding.state],
    }


def results(findings: Sequence[Finding], endpoint: Endpoint) -> tuple[OrderResult, ...]:
    """The findings as the record's per-order results."""
    out = []
    for finding in findings:
        one = item(finding, endpoint)
        ord_id = one.get("ordId", one.get("algoId")) or None
        out.append(OrderResult(ord_id, finding.cl_ord_id, one["sCode"], one["sMsg"]))
    return tuple(out)


def resolved_answer(findings: Sequence[Finding], endpoint: Endpoint) -> tuple[str, Answer]:
    """OKX's envelope for the findings (code "0" all placed, "1" none, "2" some), and its code.

    A batch with an order still unknown gets the code SPX301 (and the proxy's error header), so
    a bot that reads only the top-level code does not take it for a plain partial failure.
    """
    states = [finding.state for finding in findings]
    headers: CIMultiDict[str] = CIMultiDict({"Content-Type": "application/json"})
    headers[RESOLVED_HEADER] = summary(findings)
    if "unknown" in states:
        code, msg = UNKNOWN_CODE, "the outcome of some orders is still unknown"
        headers[PROXY_ERROR_HEADER] = UNKNOWN_CODE
    elif all(state == "placed" for state in states):
        code, msg = "0", ""
    elif "placed" in states:
        code, msg = "2", "Batch operation partially succeeded"
    else:
        code, msg = "1", "All operations failed"
    body = {
        "code": code,
        "msg": msg,
        "data": [item(finding, endpoint) for finding in findings],
        "inTime": "",
        "outTime": "",
    }
    status = 200 if code in ("0", "1", "2") else 502
    return code, Answer(status, headers, json.dumps(body).encode(), 0.0)


def replay(exchange: Exchange, stored: Stored) -> Answer:
    """A retry's answer: the first attempt's, marked ``X-Signproxy-Replayed: 1``.

    On a WebSocket it is an answer frame carrying the retry's own ``id``; the record gets what
    OKX answered then.
    """
    exchange.replayed = True
    body = stored.body
    parsed: Any = None
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        answer = envelope.from_object(parsed)
        if answer is not None:
            exchange.okx_code = answer.code
            exchange.results = answer.orders()
        parsed.pop("id", None)
        parsed.pop("op", None)
        if exchange.transport == "ws":
            endpoint = exchange.endpoint
            op = endpoint.ws_op if endpoint is not None else None
            parsed = {"id": exchange.ws_id or "", "op": op, **parsed}
        body = json.dumps(parsed, separators=(",", ":")).encode()
    headers: CIMultiDict[str] = CIMultiDict(stored.headers)
    headers[REPLAYED_HEADER] = "1"
    return Answer(stored.status, headers, body, 0.0)
