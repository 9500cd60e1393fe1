"""Canonicalization: the exact target and body bytes that are signed and sent."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from signproxy.errors import InvalidJson, MalformedTarget, NotFound
from signproxy.okx.canonical import body_bytes, parse_body, split_target


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'{"a": 1, "b" : [1, 2]}', b'{"a":1,"b":[1,2]}'),
        (b'{\n  "px": "0.1",\n\t"sz": 0.00000001\r\n}', b'{"px":"0.1","sz":0.00000001}'),
        (b'{"n": 123456789012345678901234567890}', b'{"n":123456789012345678901234567890}'),
        (b'{"n": 1E+2, "m": -0.0, "k": 1.50}', b'{"n":1E+2,"m":-0.0,"k":1.50}'),
        (b'{"z": 1, "a": 2}', b'{"z":1,"a":2}'),
        (b'{"s": "a  b \\" c\\\\ ", "t": "\\u00e9 x"}', b'{"s":"a  b \\" c\\\\ ","t":"\\u00e9 x"}'),
        ('{"s": "中 文"}'.encode(), '{"s":"中 文"}'.encode()),
        (
            b'[{"instId": "BTC-USDT"}, {"instId": "ETH-USDT"}]',
            b'[{"instId":"BTC-USDT"},{"instId":"ETH-USDT"}]',
        ),
        (b'  {"a":true , "b":false, "c":null}  ', b'{"a":true,"b":false,"c":null}'),
        (b"{}", b"{}"),
    ],
)
def test_canonical_body_keeps_everything_but_whitespace(raw: bytes, expected: bytes) -> None:
    """Whitespace outside strings goes; key order, escapes and number literals stay."""
    assert body_bytes(raw, "canonical") == expected


def test_raw_mode_keeps_bytes() -> None:
    """SIGNPROXY_BODY=raw sends the client's bytes untouched."""
    raw = b'{"a" :  1 }\n'
    assert body_bytes(raw, "raw") is raw


@pytest.mark.parametrize("mode", ["canonical", "raw"])
@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b'{"a": 1, "a": 2}', "duplicate key 'a'"),
        (b'[{"x": {"k": 1, "k": 1}}]', "duplicate key 'k'"),
        (b'{"a": NaN}', "NaN"),
        (b'{"a": Infinity}', "Infinity"),
        (b'{"a": 1', "not valid JSON"),
        (b"", "not valid JSON"),
        (b'"just a string"', "object or array"),
        (b"42", "object or array"),
        (b'\xef\xbb\xbf{"a": 1}', "byte order mark"),
        (b'{"a": "\xff"}', "not UTF-8"),
        (b'{"a": "line\nbreak"}', "not valid JSON"),
        (b'{"n": ' + b"9" * 5000 + b"}", "too long"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ],
)
def test_invalid_bodies_are_refused(raw: bytes, fragment: str, mode: str) -> None:
    """Bodies the proxy cannot sign unambiguously are refused in both modes, with a reason."""
    with pytest.raises(InvalidJson, match=fragment):
        body_bytes(raw, mode)  # type: ignore[arg-type]


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@given(
    value=st.dictionaries(st.text(), json_values) | st.lists(json_values),
    indent=st.sampled_from([None, 1, 4]),
)
def test_canonical_body_round_trips(value: object, indent: int | None) -> None:
    """Any JSON object or array canonicalizes to the same value, compact, whatever its layout."""
    raw = json.dumps(value, indent=indent, ensure_ascii=False).encode()
    out = body_bytes(raw, "canonical")
    assert json.loads(out) == json.loads(raw)
    assert out == json.dumps(json.loads(raw), separators=(",", ":"), ensure_ascii=False).encode()


@given(
    value=st.dictionaries(st.text(), json_values) | st.lists(json_values),
    mode=st.sampled_from(["canonical", "raw"]),
)
def test_parsed_body_is_the_value_of_the_bytes_sent(value: object, mode: str) -> None:
    """The value parse_body returns is what the bytes it returns hold, in either mode."""
    raw = json.dumps(value, indent=1, ensure_ascii=False).encode()
    out, parsed = parse_body(raw, mode)  # type: ignore[arg-type]
    assert out == body_bytes(raw, mode)  # type: ignore[arg-type]
    assert parsed == json.loads(out)


@pytest.mark.parametrize(
    ("raw", "target"),
    [
        ("/api/v5/account/balance", "/api/v5/account/balance"),
        ("/api/v5/account/balance?ccy=BTC", "/api/v5/account/balance?ccy=BTC"),
        ("/api/v5/account/balance?", "/api/v5/account/balance"),
        (
            "/api/v5/x?a=1,2&b=%2C&c=+&d=&d=&e=%E4%B8%AD&f=a:b&g=%2c",
            "/api/v5/x?a=1,2&b=%2C&c=+&d=&d=&e=%E4%B8%AD&f=a:b&g=%2c",
        ),
        (
            "/api/v5/tradingBot/grid/orders-algo-pending",
            "/api/v5/tradingBot/grid/orders-algo-pending",
        ),
    ],
)
def test_split_target_keeps_query_bytes(raw: str, target: str) -> None:
    """The query is kept exactly as sent; only a bare trailing '?' is dropped."""
    assert split_target(raw, "GET")[1] == target


@pytest.mark.parametrize(
    "raw",
    [
        "http://evil.example/api/v5/x",
        "//evil.example/api/v5/x",
        "evil.example:443",
        "*",
        "/api/v5/account/../asset/withdrawal",
        "/api/v5/./asset/withdrawal",
        "/api/v5//asset/withdrawal",
        "/api/v5/asset/withdrawal/",
        "/api/v5/asset%2Fwithdrawal",
        "/api/v5/asset/with%64rawal",
        "/api/v5/x#frag",
        "/api/v5/x?a=%zz",
        "/api/v5/x?a=b#c",
        "/api/v5/x?a=%",
        "/api/v5/x?a=<script>",
    ],
)
def test_malformed_targets_are_refused(raw: str) -> None:
    """No other spelling of a path, and no other host, can be signed."""
    with pytest.raises(MalformedTarget):
        split_target(raw, "GET")


@pytest.mark.parametrize("raw", ["/", "/api/v4/x", "/API/V5/x", "/api/v5", "/health"])
def test_paths_outside_api_v5_are_not_found(raw: str) -> None:
    """Only /api/v5/ paths are forwarded."""
    with pytest.raises(NotFound):
        split_target(raw, "GET")


def test_query_on_post_is_refused() -> None:
    """OKX's prehash for a POST query is undocumented, so the proxy refuses it."""
    with pytest.raises(MalformedTarget, match="only allowed on GET"):
        split_target("/api/v5/trade/order?x=1", "POST")
