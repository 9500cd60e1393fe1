"""OKX's answer envelope, parsed in one place: ``{"code": "0", "msg": "", "data": [...]}``.

Order endpoints add per-order ``sCode``/``sMsg`` with ``ordId``/``clOrdId`` in ``data``; a
WebSocket op answer has the same shape plus ``id`` and ``op``. Pure: no I/O.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

_CODE = re.compile(rb'"code"\s*:\s*"([^"]{0,16})"')
_CODE_SCAN_BYTES = 1024
# Order answers are small; a bigger body (an instrument list) is not parsed for order results.
ORDER_SCAN_BYTES = 64 * 1024


def scan_code(body: bytes) -> str | None:
    """Find the top-level ``code`` near the start of a body without parsing it.

    OKX puts ``code`` first or second in its envelope, so scanning the head is enough and keeps
    big answers (instrument lists) from being parsed just to log one field.
    """
    match = _CODE.search(body, 0, _CODE_SCAN_BYTES)
    return match.group(1).decode("ascii", "replace") if match else None


@dataclass(frozen=True, slots=True)
class OrderResult:
    """One order's outcome as OKX reported it (any field OKX left out is None)."""

    ord_id: str | None
    cl_ord_id: str | None
    s_code: str | None
    s_msg: str | None = None


@dataclass(frozen=True, slots=True)
class Envelope:
    """A parsed answer: OKX's ``code`` and ``msg`` as strings, ``data`` as a list."""

    code: str | None
    msg: str
    data: tuple[Any, ...]

    @property
    def ok(self) -> bool:
        """OKX's code is ``0``."""
        return self.code == "0"

    def orders(self) -> tuple[OrderResult, ...]:
        """The per-order results in ``data`` (items with ``ordId``, ``clOrdId`` or algo ids)."""
        results = []
        for item in self.data:
            if not isinstance(item, dict):
                continue
            ord_id = _opt(item.get("ordId", item.get("algoId")))
            cl_ord_id = _opt(item.get("clOrdId", item.get("algoClOrdId")))
            if ord_id is None and cl_ord_id is None:
                continue
            results.append(
                OrderResult(ord_id, cl_ord_id, _opt(item.get("sCode")), _opt(item.get("sMsg")))
            )
        return tuple(results)


def _opt(value: object) -> str | None:
    return None if value is None else str(value)


def parse(body: bytes | str, *, limit: int = ORDER_SCAN_BYTES) -> Envelope | None:
    """Parse an OKX answer; None when it is not an envelope (or longer than ``limit``)."""
    if len(body) > limit:
        return None
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    return from_object(parsed)


def from_object(parsed: object) -> Envelope | None:
    """An envelope from an already parsed JSON value; None when it is not one."""
    if not isinstance(parsed, dict):
        return None
    data = parsed.get("data")
    code = parsed.get("code")
    return Envelope(
        code=None if code is None else str(code),
        msg=str(parsed.get("msg", "")),
        data=tuple(data) if isinstance(data, list) else (),
    )
