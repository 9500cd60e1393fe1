"""Client frames classified, and the frames the proxy writes itself. Pure: no I/O, no clock.

OKX's WebSocket requests are JSON objects with an ``op`` (``login``, ``subscribe``, ``order``...)
and sometimes an ``id``. The proxy parses each client frame fully, never with a pattern match,
so an op spelled with a JSON escape is seen as OKX will see it. A frame with a repeated key is
refused: which of the two values OKX would act on is not confirmed, and no SDK sends one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

# The proxy's codes in OKX-shaped error events on an open connection.
REFUSED_BY_POLICY: Final = "SPX710"
AMBIGUOUS_FRAME: Final = "SPX711"
BAD_SHAPE: Final = "SPX712"
# Every top-level key a client sends OKX (okx-facts.md: {"id","op","expTime","args"}). Anything
# else (``OP``, ``o_p``...) is refused: what OKX would make of it cannot be judged (fail closed).
CLIENT_KEYS: Final = frozenset({"op", "id", "args", "expTime"})

KEEPALIVE_PING: Final = "ping"
_COMPACT = (",", ":")


@dataclass(frozen=True, slots=True)
class ClientFrame:
    """What a client frame asks for.

    Attributes:
        request: the parsed top-level object, or None when the frame is not a JSON object.
        ambiguous: the object repeats a key (at any depth); it is refused, never forwarded.
    """

    request: dict[str, Any] | None
    ambiguous: bool = False

    @property
    def has_op(self) -> bool:
        """The frame is a JSON object with an ``op`` member (of any type)."""
        return self.request is not None and "op" in self.request

    @property
    def op(self) -> object:
        """The ``op`` member as sent (None when absent)."""
        return None if self.request is None else self.request.get("op")

    @property
    def is_login(self) -> bool:
        """The frame is a login request, whatever credentials it carries."""
        return self.op == "login"


class _RepeatedKeyError(ValueError):
    pass


def _no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _RepeatedKeyError
    return result


_OPAQUE = ClientFrame(None)


def classify(data: str | bytes) -> ClientFrame:
    """Parse a client frame (text, or binary holding UTF-8 JSON) to see what it asks for.

    Anything that is not a JSON object is opaque and relayed unchanged: OKX answers it.
    """
    if data == KEEPALIVE_PING:
        return _OPAQUE
    if data.lstrip()[:1] not in ("{", b"{"):
        return _OPAQUE
    try:
        parsed = json.loads(data, object_pairs_hook=_no_repeats)
    except _RepeatedKeyError:
        return ClientFrame(None, ambiguous=True)
    except (ValueError, RecursionError):
        return _OPAQUE
    return ClientFrame(parsed) if isinstance(parsed, dict) else _OPAQUE


def shape_problem(request: dict[str, Any]) -> str | None:
    """Why a client's JSON object is not a request OKX documents, or None when it is."""
    if not request.keys() <= CLIENT_KEYS:
        return "a request may hold only the keys op, id, args and expTime"
    if "op" in request and not isinstance(request["op"], str):
        return "op must be a string"
    return None


def login_frame(api_key: str, passphrase: str, timestamp: str, sign: str) -> str:
    """The login request OKX expects; ``timestamp`` is Unix seconds as a string."""
    args = {"apiKey": api_key, "passphrase": passphrase, "timestamp": timestamp, "sign": sign}
    return json.dumps({"op": "login", "args": [args]}, separators=_COMPACT)


def op_error(request: dict[str, Any], code: str, msg: str) -> str:
    """An OKX-shaped error answer to a refused request, echoing its ``id`` and ``op``."""
    answer = {"id": request.get("id", ""), "op": request.get("op"), "code": code, "msg": msg}
    return json.dumps({**answer, "data": []}, separators=_COMPACT)


def event_error(code: str, msg: str) -> str:
    """An OKX-shaped error event for a frame that has no usable ``op``."""
    return json.dumps({"event": "error", "code": code, "msg": msg}, separators=_COMPACT)


def login_answer(text: str) -> str | None:
    """Return the ``code`` of a ``login`` or ``error`` event, or None for any other frame.

    Only frames that name an ``event`` near their start are parsed; the caller asks only
    while a login answer is awaited.
    """
    if not text.startswith("{") or '"event"' not in text[:64]:
        return None
    try:
        event = json.loads(text)
    except ValueError:
        return None
    if not isinstance(event, dict) or event.get("event") not in ("login", "error"):
        return None
    return str(event.get("code", ""))
