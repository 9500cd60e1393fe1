"""Client order ids: OKX's format, unique, and inserted without touching any other byte."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from signproxy.okx.clordid import VALID_ID, IdMaker, NotAnOrderBody, insert_ids, object_starts


def test_ids_are_okx_format_and_unique() -> None:
    """Ids are at most 32 letters and digits, start with the prefix, and never repeat."""
    make = IdMaker("abcdefghijkl")  # the longest prefix allowed
    ids = [make() for _ in range(20_000)]
    assert len(set(ids)) == len(ids)
    assert all(VALID_ID.fullmatch(i) and i.startswith("abcdefghijkl") for i in ids)
    assert max(len(i) for i in ids) == 32


def test_two_makers_do_not_collide() -> None:
    """Two processes (two makers) draw different random parts."""
    first, second = IdMaker("p"), IdMaker("p")
    assert {first() for _ in range(100)}.isdisjoint({second() for _ in range(100)})


def test_insertion_into_a_single_order_keeps_every_other_byte() -> None:
    """The id goes right after the opening brace; numbers stay as the client wrote them."""
    body = b'{"instId":"BTC-USDT","sz":0.00000001,"px":1e-8}'
    assert insert_ids(body, {0: "id1"}, "clOrdId") == (
        b'{"clOrdId":"id1","instId":"BTC-USDT","sz":0.00000001,"px":1e-8}'
    )
    assert insert_ids(b"{}", {0: "x"}, "clOrdId") == b'{"clOrdId":"x"}'


def test_batch_insertion_follows_array_positions() -> None:
    """Items are found by position, past strings holding braces, commas and escaped quotes."""
    body = b'[{"a":"},{\\"x"},1,{"b":[{"c":1}]},{}]'
    assert object_starts(body) == {0: 1, 2: 18, 3: 34}
    out = insert_ids(body, {2: "i2", 3: "i3"}, "clOrdId")
    assert json.loads(out) == [
        {"a": '},{"x'},
        1,
        {"clOrdId": "i2", "b": [{"c": 1}]},
        {"clOrdId": "i3"},
    ]


def test_whitespace_is_kept_and_empty_objects_stay_valid() -> None:
    """Whitespace between tokens is kept; an empty object with spaces gets no stray comma."""
    out = insert_ids(b'[ { "a": 1 } , { } ]', {0: "x", 1: "y"}, "clOrdId")
    assert out == b'[ {"clOrdId":"x", "a": 1 } , {"clOrdId":"y" } ]'
    with pytest.raises(NotAnOrderBody):
        insert_ids(b'"text"', {0: "x"}, "clOrdId")


@given(
    st.lists(
        st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5)),
        min_size=1,
        max_size=5,
    )
)
def test_insertion_equals_adding_the_key_first(items: list[dict[str, object]]) -> None:
    """For any batch, inserting ids is the same as adding the key first to every object."""
    items = [{k: v for k, v in item.items() if k != "clOrdId"} for item in items]
    body = json.dumps(items, separators=(",", ":")).encode()
    ids = {index: f"id{index}" for index in range(len(items))}
    expected = [{"clOrdId": ids[i], **item} for i, item in enumerate(items)]
    assert insert_ids(body, ids, "clOrdId") == json.dumps(expected, separators=(",", ":")).encode()
