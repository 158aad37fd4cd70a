"""The facts cache's file formats (packs.py): packs decode whole or not at all, index rows that are
not ours lead nowhere."""

from __future__ import annotations

import marshal

import pytest

from fastapi_reviewer.packs import (
    INDEX_MAGIC,
    PACK_MAGIC,
    decode_index,
    decode_pack,
    encode_index,
    encode_pack,
    pack_name,
    pack_of,
    valid_key,
)

ENTRIES = [("a" * 40, b"first entry"), ("b" * 40, b""), ("c" * 40, b"\x00" * 1000)]


def test_a_pack_round_trips_its_entries_in_order():
    data = encode_pack(ENTRIES)
    assert data.startswith(PACK_MAGIC)
    decoded = decode_pack(data)
    assert [(key, bytes(blob)) for key, blob in decoded.items()] == ENTRIES
    assert decode_pack(encode_pack([])) == {}


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda d: d[:-1], id="last-byte-missing"),
        pytest.param(lambda d: d + b"\x00", id="a-byte-more"),
        pytest.param(lambda d: d[:10], id="cut-in-the-rows"),
        pytest.param(lambda d: b"FRP2" + d[4:], id="another-format"),
        pytest.param(lambda d: d[:4] + (10**6).to_bytes(4, "little") + d[8:], id="count-too-big"),
        pytest.param(lambda d: b"", id="empty"),
        pytest.param(lambda d: b"FRP", id="shorter-than-the-head"),
    ],
)
def test_a_pack_that_is_not_whole_decodes_to_nothing(damage):
    assert decode_pack(damage(encode_pack(ENTRIES))) == {}


def test_pack_names_come_from_the_keys():
    keys = [key for key, _ in ENTRIES]
    assert pack_name(keys) == pack_name(list(keys)) != pack_name(keys[:2])
    assert pack_of((pack_name(keys), 1, "/p/app/m.py", "0a1b2c3d")) == pack_name(keys)


def test_only_cache_keys_are_packed():
    assert valid_key("0" * 40) and not valid_key("0" * 39) and not valid_key("é" * 40)


def test_index_round_trip_and_damage():
    rows = {"a" * 40: ("0123456789abcdef.pack", 20000, "/p/app/m.py", "0a1b2c3d")}
    assert decode_index(encode_index(rows)) == rows
    assert decode_index(b"") == {} and decode_index(b"FRI0" + marshal.dumps(rows)) == {}
    assert decode_index(INDEX_MAGIC + marshal.dumps(rows)[:-3]) == {}
    assert decode_index(INDEX_MAGIC + marshal.dumps([1, 2])) == {}


@pytest.mark.parametrize(
    "row",
    [
        ("../x.pack", 1, "m", "e"), ("0123456789abcdef.pack", "1", "m", "e"), ("0123456789abcdef.pack", 1, None, "e"),
        ("0123456789abcdef.pack", 1, "m"), ("0123456789abcdef.pack", 1, "m", None), "0123456789abcdef.pack", None,
        ("0123456789ABCDEF.pack", 1, "m", "e"), ("/etc/0123456789abcdef.pack", 1, "m", "e"),
    ],
)
def test_rows_that_are_not_ours_name_no_pack(row):
    assert pack_of(row) is None
