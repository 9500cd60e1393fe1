"""Turn what a client sent into the exact request target and body that are signed and sent.

The invariant the whole proxy rests on: the path+query and body that are signed are, byte for
byte, the ones on the wire. This module decides those bytes; nothing after it may change them.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal, NoReturn

from signproxy.errors import InvalidJson, MalformedTarget, NotFound

BodyMode = Literal["canonical", "raw"]

API_PREFIX = "/api/v5/"

# Every OKX v5 path is plain segments of letters, digits, '-' and '_'. Refusing everything else
# (percent-escapes, dot segments, empty segments, a trailing slash) means the path that is
# judged, signed and sent is the only spelling of it: no variant can route somewhere else.
_PATH = re.compile(r"/api/v5(?:/[A-Za-z0-9_-]+)+")
# RFC 3986 query characters, with every '%' followed by two hex digits.
_QUERY = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*")
# A JSON string token (escapes kept verbatim) or a run of anything but whitespace and quotes.
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[^\s"]+')
_JSON_WS = re.compile(r"[ \t\n\r]")


def split_target(raw_target: str, method: str) -> tuple[str, str]:
    """Check a raw request target and return ``(path, target)`` to sign and send.

    ``target`` is the path plus ``?query`` when the query is not empty. A bare trailing ``?``
    is dropped (some clients add one for an empty parameter list); the query is otherwise kept
    exactly as sent, because OKX signs the bytes it receives.

    Raises:
        NotFound: an origin-form path outside ``/api/v5/``.
        MalformedTarget: any other target the proxy will not sign.
    """
    if not raw_target.startswith("/") or raw_target.startswith("//"):
        # Absolute-form (http://host/...), network-path (//host/...), authority-form (CONNECT)
        # and '*' would let a client name another host, or are not requests OKX serves.
        raise MalformedTarget("request target must be a path starting with /api/v5/")
    path, question, query = raw_target.partition("?")
    if not _PATH.fullmatch(path):
        if not path.startswith(API_PREFIX):
            raise NotFound(f"only {API_PREFIX} paths are forwarded")
        raise MalformedTarget(
            "path must be /api/v5/ followed by segments of letters, digits, '-' and '_'"
            " (no percent-escapes, dot segments, empty segments or trailing slash)"
        )
    if not question or not query:
        return path, path
    if method != "GET":
        # OKX's docs define the prehash for GET queries only and no SDK sends a query on POST,
        # so how OKX would verify one is unknown: refuse rather than risk a 50113.
        raise MalformedTarget("a query string is only allowed on GET; put parameters in the body")
    if not _QUERY.fullmatch(query):
        raise MalformedTarget(
            "query has a character that must be percent-encoded, or a bad percent-escape"
        )
    return path, raw_target


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise InvalidJson(f"duplicate key {key[:64]!r} in a JSON object")
            seen.add(key)
    return obj


def _reject_constant(name: str) -> NoReturn:
    raise InvalidJson(f"{name} is not valid JSON")


# Built once: json.loads() with hooks builds a new decoder on every call.
_DECODER = json.JSONDecoder(object_pairs_hook=_object, parse_constant=_reject_constant)


def body_bytes(raw: bytes, mode: BodyMode) -> bytes:
    """Validate a JSON body and return the bytes to sign and send (see :func:`parse_body`)."""
    return parse_body(raw, mode)[0]


def parse_body(raw: bytes, mode: BodyMode) -> tuple[bytes, Any]:
    """Validate a JSON body; return the bytes to sign and send, and the value they hold.

    ``canonical`` removes insignificant whitespace and nothing else: key order, string escapes
    and every number literal stay exactly as the client wrote them (``0.00000001`` is not turned
    into ``1e-08``, big integers stay exact). ``raw`` returns the client's bytes untouched. The
    value is parsed once, here, for the stages that read an order's fields; it is never what is
    sent.

    Raises:
        InvalidJson: not UTF-8, not JSON, a duplicate key, NaN/Infinity, or a top level that is
            not an object or array.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidJson(f"body is not UTF-8 (byte {exc.start})") from None
    if text.startswith("\ufeff"):
        raise InvalidJson("body starts with a byte order mark")
    try:
        value = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise InvalidJson(f"body is not valid JSON: {exc.msg} at char {exc.pos}") from None
    except ValueError:
        # Python refuses integers of more than 4300 digits (int_max_str_digits).
        raise InvalidJson("body has a number too long to parse") from None
    except RecursionError:
        raise InvalidJson("body is nested too deeply") from None
    if not isinstance(value, (dict, list)):
        raise InvalidJson("body must be a JSON object or array")
    if mode == "raw" or not _JSON_WS.search(text):
        return raw, value
    # Safe on validated JSON: outside strings, only JSON whitespace separates tokens.
    return "".join(_TOKEN.findall(text)).encode(), value
