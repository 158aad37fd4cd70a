"""Per-file facts cached on disk, keyed by content, module name, tool version and facts code.

Entries are pickles, packed by the chunk of files a worker parsed (packs.py: one file per chunk,
an index from key to pack) and written atomically (temp file + rename), so parallel runs
(pre-commit) never see half a file; the index is merged under a lock.  Anything unreadable
(corrupt, truncated, foreign, another version, not facts, a pack gone) is a miss and rebuilt; a
cache folder that cannot be written only means no caching.

The key covers everything the facts of a file depend on: its bytes, its module name and whether it
is a package, the tool version, the facts schema (dataclass fields), a stamp of the facts code
(size and mtime of ``facts/*.py``, so an edited checkout never reads stale facts), the Python
version (``ast`` positions) and the libcst version (the tree).  No setting changes the facts of a
file: settings act on the rules, which always run on the facts.

Speed: unpickling the default way runs ``_dataclass_setstate`` (a Python loop over
``dataclasses.fields``) for every one of the ~250 objects per file; the facts classes are pickled
here as ``cls(*values)`` instead, which is about twice as fast to load, and compact (the codec
below).  Bulk loads run with the cyclic garbage collector paused (see ``parsing.py``).
"""

from __future__ import annotations

import copyreg
import dataclasses
import hashlib
import io
import os
import pickle
import re
import sys
import tempfile
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from fastapi_reviewer import __version__
from fastapi_reviewer.facts import model
from fastapi_reviewer.facts.lazy import (
    BODY_FIELDS,
    OUTSIDE_FIELDS,
    BodyStore,
    LazyFunctionFacts,
    call_args,
    call_keywords,
    call_targets,
    decode_bodies,
    lazy_function,
    unresolved_calls,
)
from fastapi_reviewer.facts.model import EMPTY_MAP, FunctionFacts, ModuleFacts, UseFact
from fastapi_reviewer.facts.packed import PackedTexts, PackedUses, use_fact
from fastapi_reviewer.facts.positions import LazySpan, ModulePositions, lazy_span, loading_into
from fastapi_reviewer.packs import (
    PACK_NAME,
    IndexEntry,
    decode_index,
    decode_pack,
    encode_index,
    encode_pack,
    pack_name,
    pack_of,
    valid_key,
)

# FunctionFacts fields that load packed (facts/packed.py): read by a few rules for a few functions
PACKED: dict[str, type[PackedUses] | type[PackedTexts]] = {"uses": PackedUses, "local_types": PackedTexts, "literals": PackedTexts}

MAGIC = b"FRF4"  # fastapi-review facts, format 4 (compact, lazy function bodies per module); anything else is foreign


def _schema() -> str:
    """Changes whenever a facts dataclass gains, loses or renames a field: old entries then miss."""
    parts = []
    for name in sorted(vars(model)):
        obj = getattr(model, name)
        if dataclasses.is_dataclass(obj) and isinstance(obj, type):
            parts.append(name + ":" + ",".join(f.name for f in dataclasses.fields(obj)))
    return hashlib.blake2b(";".join(parts).encode(), digest_size=8).hexdigest()


def _code_stamp() -> str:
    """Size and mtime of the code that makes facts: an edited source tree gets new keys."""
    folder = Path(model.__file__).parent
    h = hashlib.blake2b(digest_size=8)
    try:
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            if entry.name.endswith(".py"):
                st = entry.stat()
                h.update(f"{entry.name}:{st.st_size}:{st.st_mtime_ns};".encode())
    except OSError:
        pass
    return h.hexdigest()


def _libcst_version() -> str:
    try:
        from importlib.metadata import version

        return version("libcst")
    except Exception:  # noqa: BLE001 - not installed as a distribution: the code stamp still holds
        return "?"


FACTS_SCHEMA = _schema()
_KEY_PREFIX: bytes | None = None


def key_prefix() -> bytes:
    global _KEY_PREFIX
    if _KEY_PREFIX is None:
        py = "%d.%d" % sys.version_info[:2]
        _KEY_PREFIX = f"{__version__}\x1f{FACTS_SCHEMA}\x1f{_code_stamp()}\x1f{py}\x1f{_libcst_version()}\x1f".encode()
    return _KEY_PREFIX


_ERA: str | None = None


def key_era() -> str:
    """A short hash of the key prefix: which tool, facts code, Python and libcst made a key (the
    cache index keeps it with each row: a file's earlier entries are dropped only by the same)."""
    global _ERA
    if _ERA is None:
        _ERA = hashlib.blake2b(key_prefix(), digest_size=4).hexdigest()
    return _ERA


def cache_key(data: bytes, module: str, is_package: bool) -> str:
    h = hashlib.blake2b(key_prefix(), digest_size=20)
    h.update(f"{module}\x1f{int(is_package)}\x1f".encode())
    h.update(data)
    return h.hexdigest()


# ----------------------------------------------------------------------------- the codec
# Facts come out of the cache *compact*: what the project phase holds for every module of a big
# project (bench/RESULTS.md: about 40 % less memory and 40 % faster to load than the plain pickle):
# - equal strings made separately by the collector (a dotted name built for every call that uses
#   it) are pickled once per entry and load through ``sys.intern``: one object per distinct string
#   in the whole project (a third of the string memory), and dict lookups compare by identity;
# - lists load as tuples (smaller, and the facts are read-only once made), equal tuples of
#   strings once per entry, the empty list as the one empty tuple;
# - an empty dict loads as the shared read-only ``EMPTY_MAP`` (a third of the facts' dicts);
# - a UseFact is a small value (kind, call, keyword, position) with a few hundred distinct values
#   in a whole project: one shared object per value (``packed.use_fact``);
# - data-flow uses, local types and literals of a function load packed (facts/packed.py) and are
#   unpacked when a rule reads them;
# - the insides of a module's functions (calls, handlers, loops, ...) load as one blob, decoded on
#   the first read (facts/lazy.py): a pre-commit run never builds most of them.
# The facts of a run all go through this codec (parsing.py), so the rules only ever see this shape.
class _Interned:
    """A string to load through ``sys.intern``: one object per distinct string across all modules."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


_STRINGS: dict[str, _Interned] = {}
_TUPLES: dict[tuple[object, ...], tuple[object, ...]] = {}
_COPIES: dict[int, object] = {}


def _canon(value: object) -> object:
    kind = type(value)
    if kind is str:
        found = _STRINGS.get(value)  # type: ignore[call-overload]
        if found is None:
            found = _STRINGS[value] = _Interned(value)  # type: ignore[index,arg-type]
        return found
    if kind is list or kind is tuple:
        if not value:
            return ()
        done = _COPIES.get(id(value))
        if done is None:
            done = tuple([_canon(v) for v in value])  # type: ignore[attr-defined]
            try:
                done = _TUPLES.setdefault(done, done)
            except TypeError:  # holds facts objects: not hashable, kept as is
                pass
            _COPIES[id(value)] = done
        return done
    if kind is dict:
        if not value:
            return EMPTY_MAP
        done = _COPIES.get(id(value))
        if done is None:
            done = {_canon(k): _canon(v) for k, v in value.items()}  # type: ignore[attr-defined]
            _COPIES[id(value)] = done
        return done
    return value


def _canon_new(value: tuple[object, ...]) -> tuple[object, ...]:
    """``_canon`` for a tuple made just now (call targets, keyword names): not memoised by id, as
    its id may be reused by another object once it is freed, during the same dump."""
    if not value:
        return ()
    done = tuple([_canon_new(v) if type(v) is tuple else _canon(v) for v in value])  # type: ignore[arg-type]
    return _TUPLES.setdefault(done, done)


def _empty_map() -> dict[object, object]:
    return EMPTY_MAP


_PLAIN = frozenset({"bool", "int", "int | None", "bool | None", "Span", "Span | None"})  # kept as they are


def _pack(value: object, kind: type[PackedUses] | type[PackedTexts]) -> object:
    if not value:
        return EMPTY_MAP
    return value if type(value) is kind else kind.pack(value)  # type: ignore[arg-type]


def _reducer(cls: type) -> object:
    """``o -> (cls, (values...))`` for one facts class, written out field by field: pickling runs it
    for every object of every file, and a loop over the fields with ``_canon`` on ints and bools
    cost about a third of the dump."""
    parts = []
    for f in dataclasses.fields(cls):
        if f.type in _PLAIN:
            parts.append(f"o.{f.name}")
        else:
            parts.append(f"_canon(o.{f.name})")
    namespace = {"cls": cls, "_canon": _canon}
    exec(f"def reduce(o):\n    return cls, ({', '.join(parts)},)\n", namespace)  # noqa: S102 - our own field names
    return namespace["reduce"]


def _function_reducer() -> object:
    """FunctionFacts -> ``lazy_function(*outside, call targets, call keywords, unresolved callees,
    call arguments, the module's body store, position in it)``; and the function writing a
    function's inside."""
    types = {f.name: f.type for f in dataclasses.fields(FunctionFacts)}
    outside = [f"o.{name}" if types[name] in _PLAIN else f"_canon(o.{name})" for name in OUTSIDE_FIELDS]
    inside = [f"_pack(o.{name}, {PACKED[name].__name__})" if name in PACKED else f"_canon(o.{name})" for name in BODY_FIELDS]
    namespace = {
        "lazy_function": lazy_function, "_canon": _canon, "_canon_new": _canon_new, "_pack": _pack, "_stored": _stored,
        "call_targets": call_targets, "call_keywords": call_keywords, "unresolved_calls": unresolved_calls, "call_args": call_args,
        "PackedUses": PackedUses, "PackedTexts": PackedTexts,
    }  # fmt: skip
    code = (
        "def reduce(o):\n"
        f"    return lazy_function, ({', '.join(outside)}, _canon_new(call_targets(o)), _canon_new(call_keywords(o)), _canon_new(unresolved_calls(o)), _canon_new(call_args(o)), *_stored(o))\n"
        "def inside(o):\n"
        f"    return ({', '.join(inside)},)\n"
    )
    exec(code, namespace)  # noqa: S102 - our own field names
    global _inside
    _inside = namespace["inside"]
    return namespace["reduce"]


_inside: Callable[[FunctionFacts], tuple[object, ...]]
# while a module is pickled: its body store and each of its functions' position there
_STORE: list[BodyStore] = []
_POSITIONS: dict[int, int] = {}


def _stored(fn: FunctionFacts) -> tuple[BodyStore, int]:
    position = _POSITIONS.get(id(fn))
    if position is not None and _STORE:
        return _STORE[0], position
    return BodyStore(_pickled((_inside(fn),))), 0  # a function pickled on its own


def _pickled(value: object) -> bytes:
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _DISPATCH
    pickler.dump(value)
    return buffer.getvalue()


def _reducers() -> dict[type, object]:
    table: dict[type, object] = {type(EMPTY_MAP): lambda _: (_empty_map, ()), _Interned: lambda s: (sys.intern, (s.text,))}
    table[UseFact] = lambda u: (use_fact, (u.kind, u.call, u.keyword, u.position))
    table[LazySpan] = lambda s: (lazy_span, (s._code,))  # its rank; its table is the module loading
    table[PackedUses] = PackedUses.__reduce__
    table[PackedTexts] = PackedTexts.__reduce__
    table[FunctionFacts] = table[LazyFunctionFacts] = _function_reducer()
    table[BodyStore] = BodyStore.__reduce__
    for obj in vars(model).values():
        if not (dataclasses.is_dataclass(obj) and isinstance(obj, type)) or obj in table:
            continue
        fields = dataclasses.fields(obj)
        if not fields or not all(f.init for f in fields):
            continue  # cls(*values) would not rebuild it: the default pickling
        table[obj] = _reducer(obj)
    return table


_DISPATCH = {**copyreg.dispatch_table, **_reducers()}


def dumps(facts: ModuleFacts) -> bytes:
    buffer = io.BytesIO()
    buffer.write(MAGIC)
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _DISPATCH
    try:
        # the insides of all the module's functions: one blob, decoded together (facts/lazy.py)
        _STORE.append(BodyStore(_pickled(tuple([_inside(fn) for fn in facts.functions]))))
        _POSITIONS.update((id(fn), i) for i, fn in enumerate(facts.functions))
        pickler.dump(facts)
    finally:
        _STRINGS.clear()
        _TUPLES.clear()
        _COPIES.clear()
        _STORE.clear()
        _POSITIONS.clear()
    return buffer.getvalue()


def loads(blob: bytes | memoryview, lazy: bool = False, where: tuple[str, str, str, bool] | None = None) -> ModuleFacts | None:
    """The facts in an entry, or None for anything else (never raises).  ``lazy``: the insides of
    the functions stay packed until read (facts/lazy.py), for a run that reads few of them; else
    they are built now (a whole-project run reads them all: building them at once keeps the blobs
    from piling up in memory).  ``where``: the file the facts are of, its key, module name and
    package flag, where their positions are read from when a rule asks (facts/positions.py)."""
    if blob[:4] != MAGIC:
        return None
    table = ModulePositions()
    if where is not None:
        table.bind(*where)
    try:
        with loading_into(table):
            value = pickle.loads(memoryview(blob)[4:])
    except Exception:  # noqa: BLE001 - truncated, corrupt, from other code: a miss
        return None
    if not isinstance(value, ModuleFacts):
        return None
    table.check = value.position_check
    if not lazy:
        decode_bodies(value)
    return value


_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
INDEX = "index"
KEEP_DAYS = 30  # an entry no run has used for this long leaves the index (a file deleted or edited)
STALE_SECONDS = 3600  # a pack no index row names, or a temp file, this old is swept (a younger one
#                       may belong to a run still going, whose index is not written yet)


def _today() -> int:
    return int(time.time() // 86400)


class FactsCache:
    """The facts entries of a cache folder, packed per chunk (packs.py): ``has`` and ``read_many``
    look keys up in the index; ``write_pack`` (any process: the workers) writes a chunk's entries
    as one pack; ``add`` (the main process) notes the new rows and ``save`` merges them into the
    index once per run, under a lock, and sweeps packs no row names any more."""

    def __init__(self, directory: Path) -> None:
        self.root = directory
        self.directory = directory / "packs"
        self._folder = str(self.directory)
        self._index: dict[str, IndexEntry] | None = None
        self._added: dict[str, IndexEntry] = {}  # new rows of this run
        self._used: dict[str, IndexEntry] = {}  # rows read this run whose day was an older one
        self._marked = False

    @classmethod
    def at(cls, directory: str) -> FactsCache:
        return cls(Path(directory))

    def _rows(self) -> dict[str, IndexEntry]:
        if self._index is None:
            self._index = self._read_index()
        return self._index

    def _read_index(self) -> dict[str, IndexEntry]:
        try:
            with open(os.path.join(self._folder, INDEX), "rb") as fh:
                return decode_index(fh.read())
        except OSError:
            return {}

    def has(self, key: str) -> bool:
        return key in self._rows()

    def read_many(self, keys: list[str]) -> Iterator[tuple[int, memoryview | None]]:
        """(position in ``keys``, the entry's bytes or None) for every key, pack by pack: each pack
        is read once and dropped before the next (memory: one pack's bytes at a time)."""
        rows = self._rows()
        today = _today()
        by_pack: dict[str, list[int]] = {}
        for i, key in enumerate(keys):
            row = rows.get(key)
            name = pack_of(row)
            if name is None:
                yield i, None
            else:
                by_pack.setdefault(name, []).append(i)
        for name, positions in by_pack.items():
            try:
                with open(os.path.join(self._folder, name), "rb") as fh:
                    entries = decode_pack(fh.read())
            except OSError:
                entries = {}
            for i in positions:
                key = keys[i]
                blob = entries.get(key)
                if blob is not None and rows[key][1] != today:
                    self._used[key] = (name, today, *rows[key][2:])
                yield i, blob

    def get(self, key: str) -> ModuleFacts | None:
        for _, blob in self.read_many([key]):
            return loads(blob) if blob is not None else None
        return None

    def put(self, key: str, facts: ModuleFacts) -> None:
        """One entry, written and indexed at once (the scan writes packs of a chunk: write_pack)."""
        name = self.write_pack([(key, dumps(facts))])
        if name is not None:
            self.add(name, [(key, facts.path)])
            self.save()

    def write_pack(self, entries: list[tuple[str, bytes]]) -> str | None:
        """Write ``entries`` (key, bytes) as one pack; its name, or None when nothing was written
        (any OSError: read-only, full disk, means not cached)."""
        entries = [(key, blob) for key, blob in entries if valid_key(key)]
        if not entries:
            return None
        name = pack_name([key for key, _ in entries])
        return name if self._write_bytes(self._folder, name, encode_pack(entries)) else None

    def add(self, name: str, entries: list[tuple[str, str]]) -> None:
        """Rows for the index: the (key, file path) ``entries`` are in pack ``name`` (written by this
        or another process)."""
        name, today, era = sys.intern(name), _today(), key_era()
        for key, path in entries:
            self._added[key] = (name, today, path, era)

    def save(self, paths: Collection[str] = (), keys: Collection[str] = ()) -> None:
        """Merge this run's rows into the index as it is on disk now (another run may have written
        it meanwhile: under a lock, where the system has one), and drop the rows unused for
        ``KEEP_DAYS`` and those of an earlier content of a file of this run (a row of one of
        ``paths``, made by this tool and code -- the key's era --, whose key is none of ``keys``);
        then sweep the packs no row names.  Nothing new: nothing done."""
        if not self._added and not self._used:
            return
        today, era = _today(), key_era()
        added = self._added
        try:
            os.makedirs(self._folder, exist_ok=True)
            with _locked(os.path.join(self._folder, ".lock")):
                fresh = not os.path.exists(os.path.join(self._folder, INDEX))
                rows = self._read_index()
                rows.update(self._used)
                rows.update(added)
                live = {
                    key: row for key, row in rows.items()
                    if pack_of(row) is not None and today - row[1] <= KEEP_DAYS
                    and (row[2] not in paths or row[3] != era or key in keys or key in added)
                }  # fmt: skip
                if self._write_bytes(self._folder, INDEX, encode_index(live)):
                    self._index = live
                    self._sweep({row[0] for row in live.values()})
            if fresh:  # the first index here: entries of the earlier one-file-per-entry layout go
                _remove_old_layout(self.root / "facts")
        except OSError:
            pass  # a read-only cache: the packs of this run stay unindexed, the next run parses again
        self._added = {}
        self._used.clear()

    def _sweep(self, named: set[str]) -> None:
        now = time.time()
        try:
            listing = list(os.scandir(self._folder))
        except OSError:
            return
        for entry in listing:
            name = entry.name
            if name in named or not (PACK_NAME.fullmatch(name) or _OUR_TEMP.fullmatch(name)):
                continue  # named by a row, or not a file of ours
            try:
                if now - entry.stat().st_mtime > STALE_SECONDS:
                    os.unlink(entry.path)
            except OSError:
                pass

    def _write_bytes(self, folder: str, name: str, blob: bytes) -> bool:
        """temp file + rename in ``folder``; any OSError means: not written (False).  Plain ``os``
        calls on string paths, a temporary name from the process id (no random names), and the
        folder made only when the first write into it finds none."""
        tmp = f"{folder}{os.sep}.tmp-{os.getpid()}-{name}"
        try:
            try:
                fd = os.open(tmp, _NEW_FILE, 0o600)
            except FileNotFoundError:
                os.makedirs(folder, exist_ok=True)
                self._ensure_gitignore()
                fd = os.open(tmp, _NEW_FILE, 0o600)
            try:
                view = memoryview(blob)
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                os.close(fd)
            os.replace(tmp, f"{folder}{os.sep}{name}")
            return True
        except OSError:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            return False

    def write_atomic(self, target: Path, blob: bytes | Callable[[BinaryIO], object]) -> None:
        """temp file + rename in the target's folder: readers see the old or the new file, whole.
        ``blob``: the bytes, or a function writing them to the file (a big pickle is streamed, not
        built in memory first)."""
        if isinstance(blob, bytes):
            self._write_bytes(str(target.parent), target.name, blob)
            return
        tmp = None
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._ensure_gitignore()
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as fh:
                blob(fh)
            os.replace(tmp, target)
            tmp = None
        except OSError:
            return  # a read-only checkout still scans, just without caching
        finally:
            if tmp is not None:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass

    def _ensure_gitignore(self) -> None:
        if self._marked:
            return
        self._marked = True
        marker = self.root / ".gitignore"
        if not marker.exists():
            marker.write_text("# created by fastapi-review\n*\n")


def clean(directory: Path) -> int:
    """Remove the cache folder; returns the number of files removed."""
    import shutil

    if not directory.exists():
        return 0
    count = sum(1 for p in directory.rglob("*") if p.is_file())
    shutil.rmtree(directory, ignore_errors=True)
    return count


_OLD_ENTRY = re.compile(r"[0-9a-f]{40}\.pickle|\.tmp-.*")
_OUR_TEMP = re.compile(r"\.tmp-\d+-(?:[0-9a-f]{16}\.pack|index)")  # _write_bytes's, in the packs folder


def _remove_old_layout(folder: Path) -> None:
    """The entries of the one-file-per-entry layout (``facts/<key[:2]>/<key>.pickle``), and the
    folders they leave empty; nothing else (a cache folder may have been pointed anywhere)."""
    try:
        subfolders = [d for d in os.scandir(folder) if len(d.name) == 2 and d.is_dir(follow_symlinks=False)]
    except OSError:
        return
    for sub in subfolders:
        try:
            for entry in os.scandir(sub.path):
                if _OLD_ENTRY.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
                    os.unlink(entry.path)
            os.rmdir(sub.path)
        except OSError:
            pass  # not empty (not ours) or not removable: left alone
    try:
        os.rmdir(folder)
    except OSError:
        pass


@contextmanager
def _locked(path: str) -> Iterator[None]:
    """An exclusive lock on ``path`` for the block (``flock``; no lock where there is none: then two
    runs saving at the same moment can lose each other's new rows, which only costs a parse)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
