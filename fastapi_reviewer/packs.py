"""The files of the facts cache: entries packed by the chunk of files that made them, and an index.

A cold run makes one cache entry per file.  Written as a file each, the entries cost more kernel
time than anything else the workers do besides parsing (file creation on this kind of disk: 0.35 to
1.5 ms an entry, bench/RESULTS.md); packed by the chunk of ~8 files a worker parses at once, the same
bytes cost one file and one rename per chunk (about 30x less system time).

- a **pack** (``<name>.pack``): ``PACK_MAGIC``, the number of entries, a row per entry (its 40-char
  key and byte length), then the entries one after the other.  Its name is a hash of its keys: two
  runs packing the same files write the same file.  Packs are written once (temp file + rename) and
  never changed; anything that does not decode whole is read as no pack at all.
- the **index** (``index``): ``INDEX_MAGIC`` + a marshalled dict ``key -> (pack name, day, file,
  era)``: the day an entry was last used (days since the epoch), so that entries of files long gone
  expire; the file's absolute path and the era of the key (a hash of the key prefix: tool version,
  facts code, Python, libcst), so that the entry of a file's earlier content goes when the new one
  is indexed -- by the same tool (another version sharing the folder keeps its own rows until they
  expire), and by path, not module name (projects sharing a cache folder share module names).

The policy (what is read, when the index is rewritten, what is swept) is ``cache.FactsCache``'s.
"""

from __future__ import annotations

import hashlib
import marshal
import re
import struct

PACK_MAGIC = b"FRP1"
INDEX_MAGIC = b"FRI1"
KEY_CHARS = 40  # cache.cache_key: a 20-byte blake2b digest in hex
_HEAD = struct.Struct("<4sI")
_ROW = struct.Struct(f"<{KEY_CHARS}sI")
PACK_NAME = re.compile(r"[0-9a-f]{16}\.pack")

IndexEntry = tuple[str, int, str, str]  # pack name, day last used, the file's absolute path, key era


def pack_name(keys: list[str]) -> str:
    h = hashlib.blake2b(digest_size=8)
    for key in keys:
        h.update(key.encode("ascii", "replace"))
    return h.hexdigest() + ".pack"


def valid_key(key: str) -> bool:
    return len(key) == KEY_CHARS and key.isascii()


def encode_pack(entries: list[tuple[str, bytes]]) -> bytes:
    """The pack of ``entries`` (keys checked with ``valid_key`` by the caller)."""
    parts: list[bytes] = [_HEAD.pack(PACK_MAGIC, len(entries))]
    parts.extend(_ROW.pack(key.encode("ascii"), len(blob)) for key, blob in entries)
    parts.extend(blob for _, blob in entries)
    return b"".join(parts)


def decode_pack(data: bytes) -> dict[str, memoryview]:
    """key -> the entry's bytes (views into ``data``); empty for anything that is not a whole pack."""
    if len(data) < _HEAD.size:
        return {}
    magic, count = _HEAD.unpack_from(data)
    start = _HEAD.size + count * _ROW.size
    if magic != PACK_MAGIC or start > len(data):
        return {}
    view = memoryview(data)
    found: dict[str, memoryview] = {}
    offset = start
    for raw, length in _ROW.iter_unpack(view[_HEAD.size : start]):
        found[raw.decode("ascii", "replace")] = view[offset : offset + length]
        offset += length
    if offset != len(data):  # truncated, or bytes appended: not what was written
        return {}
    return found


def encode_index(entries: dict[str, IndexEntry]) -> bytes:
    return INDEX_MAGIC + marshal.dumps(entries)


def decode_index(data: bytes) -> dict[str, IndexEntry]:
    """The index's dict, or empty for anything else; its rows are checked where they are used
    (``pack_of``), not all of them here."""
    if data[:4] != INDEX_MAGIC:
        return {}
    try:
        value = marshal.loads(memoryview(data)[4:])
    except (EOFError, ValueError, TypeError):
        return {}
    return value if type(value) is dict else {}


def pack_of(entry: object) -> str | None:
    """The pack an index row names, or None for a row that is not ours (no path can come out)."""
    if (
        type(entry) is tuple and len(entry) == 4 and type(entry[0]) is str and type(entry[1]) is int
        and type(entry[2]) is str and type(entry[3]) is str and PACK_NAME.fullmatch(entry[0])
    ):  # fmt: skip
        return entry[0]
    return None
