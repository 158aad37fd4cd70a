"""Source positions of the nodes the rules report, computed only for the modules reported on.

Positions are costly: libcst's PositionProvider re-generates the whole module (about twice the
parse), and Python's ``ast`` (its parse and a walk for the calls, defs and handlers) costs about a
fifth of the libcst parse, ~1.3 ms a file on every file of a cold scan.  Yet a scan reports on few
modules (the 2,000-module bench corpus: 373; a real project: a few per cent).  So extraction takes
no position: each call, def, decorator and except handler gets a ``LazySpan``, its kind and its
rank among the nodes of its kind in the order the collector visits them (source order), pickled as
one int (facts/ranks.py); a parameter's is derived from its def's (``param_span``).

The first read of a line or column resolves the module's positions (``ModulePositions``): the file
is read again and checked against the facts' cache key (a file edited since it was scanned gets
line 1), parsed with ``ast``, and the nodes of each kind sorted by position are paired with the
ranks: libcst visits nodes in source order, and so does a position sort of the ast nodes of one
kind, so the n-th libcst ``Call`` is the n-th ``ast.Call``.  The pairing is checked: extraction
keeps a checksum of the names it visited (each callee's name, each def's name, the number of
handlers) that the ast nodes must give too.  When they do not, or when ``ast`` cannot parse the
file (syntax newer than this Python), the module is parsed again with libcst and the collector's
own visit with PositionProvider gives the positions: the exact, slow way.
"""

from __future__ import annotations

import ast
import re
import zlib
from array import array
from collections.abc import Sequence
from typing import Any

from fastapi_reviewer.facts.model import Span

# a span's code: kind in the low bits, then the index of a parameter or decorator in its def, then
# the rank of the node (or of its def) among the nodes of its kind
CALL, DEF, PARAM, DECORATOR, HANDLER = range(5)
_KIND_BITS = 3
_INDEX_BITS = 16
RANK_SHIFT = _KIND_BITS + _INDEX_BITS
_INDEX_MASK = (1 << _INDEX_BITS) - 1
UNKNOWN = Span(1, 1, 1, 1)  # where a module's positions cannot be had (its file changed or went away)


def code(kind: int, rank: int, index: int = 0) -> int:
    return (rank << RANK_SHIFT) | (min(index, _INDEX_MASK) << _KIND_BITS) | kind


class LazySpan:
    """A ``Span`` known by its node's rank until a line or column of it is read."""

    __slots__ = ("_code", "_table")

    def __init__(self, table: ModulePositions, code: int) -> None:
        self._table = table
        self._code = code

    def span(self) -> Span:
        return self._table.span(self._code)

    line = property(lambda self: self.span().line)
    column = property(lambda self: self.span().column)
    end_line = property(lambda self: self.span().end_line)
    end_column = property(lambda self: self.span().end_column)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (Span, LazySpan)):
            mine = self.span()
            return (mine.line, mine.column, mine.end_line, mine.end_column) == (other.line, other.column, other.end_line, other.end_column)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # like Span

    def __repr__(self) -> str:
        return repr(self.span())


class ModulePositions:
    """The positions of one module's nodes, resolved on the first read of any of them.

    ``source``: the text, when extraction made the facts in this process; else ``bind`` names the
    file, its cache key and the module name the key was made with (the facts came through the
    cache codec), and the file is read again.  Once resolved, only the spans are kept (not the
    trees they were read from)."""

    __slots__ = ("_resolved", "check", "source", "where")

    def __init__(self, source: str | None = None) -> None:
        self.source = source
        self.where: tuple[str, str, str, bool] | None = None
        self.check = 0  # the facts' position_check, set once they are made or loaded
        self._resolved: _Positions | None = None

    def bind(self, path: str, key: str, module: str, is_package: bool) -> None:
        self.where = (path, key, module, is_package)

    def span(self, code: int) -> Span:
        resolved = self._resolved
        if resolved is None:
            resolved = self._resolved = self._resolve()
            self.source = None
        return resolved.span(code)

    def _resolve(self) -> _Positions:
        source = self.source if self.source is not None else self._read()
        if source is None:
            return _Positions()
        try:
            found, check = _from_ast(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):  # newer syntax, odd bytes, nesting
            found, check = None, None
        if found is not None and check == self.check:
            return found
        return _from_cst(source, self.where[2] if self.where else "m", self.where[3] if self.where else False)

    def _read(self) -> str | None:
        if self.where is None:
            return None
        from fastapi_reviewer.cache import cache_key
        from fastapi_reviewer.facts.extract import ParseFailure, decode

        path, key, module, is_package = self.where
        try:
            with open(path, "rb") as fh:
                data = fh.read()
            if cache_key(data, module, is_package) != key:
                return None  # edited since it was scanned: the facts' positions are not in it
            return decode(data)
        except (OSError, ParseFailure):
            return None


# ModulePositions of the module being unpickled (cache.py): what its LazySpans load into
_LOADING: list[ModulePositions] = [ModulePositions()]


def loading_into(table: ModulePositions) -> _Loading:
    """``with loading_into(table):`` LazySpans unpickled in the block belong to ``table``."""
    return _Loading(table)


class _Loading:
    __slots__ = ("table",)

    def __init__(self, table: ModulePositions) -> None:
        self.table = table

    def __enter__(self) -> ModulePositions:
        _LOADING.append(self.table)
        return self.table

    def __exit__(self, *exc: object) -> None:
        _LOADING.pop()


def loading_table() -> ModulePositions:
    return _LOADING[-1]


# one int object per distinct code across the project's modules (codes are past the small ints
# Python shares: 28 bytes each for every span of every module otherwise)
_CODES: dict[int, int] = {}


def lazy_span(code: int) -> LazySpan:
    """The unpickler's constructor of a LazySpan (cache.py)."""
    return LazySpan(_LOADING[-1], _CODES.setdefault(code, code))


# ----------------------------------------------------------------------------- resolution
def checksum(call_names: Sequence[str | None], def_names: Sequence[str], handlers: int) -> int:
    """What pairs a module's nodes with its ast nodes: the callee names, the def names, in order,
    and the number of handlers."""
    text = "\x00".join([n or "" for n in call_names]) + "\x01" + "\x00".join(def_names) + f"\x01{handlers}"
    return zlib.crc32(text.encode("utf-8", "surrogatepass"))


def _split(code: int) -> tuple[int, int, int]:
    return code & ((1 << _KIND_BITS) - 1), (code >> _KIND_BITS) & _INDEX_MASK, code >> RANK_SHIFT


Quad = tuple[int, int, int, int]  # line, column, end line, end column


def _flat(spans: list[Quad]) -> array[int]:
    return array("i", [v for span in spans for v in span])


def _starts(groups: list[list[Quad]]) -> array[int]:
    starts = array("i", [0])
    for group in groups:
        starts.append(starts[-1] + len(group))
    return starts


class _Positions:
    """A module's resolved positions, four ints each in flat arrays (a Span is made when one is
    read: a 6,000-module project resolves a thousand modules): by rank, each kind apart; the
    parameters and decorators by def (``*_starts[r]``: where def r's begin)."""

    __slots__ = ("calls", "decorator_starts", "decorators", "defs", "handlers", "param_starts", "params")

    def __init__(
        self,
        calls: list[Quad] = (),  # type: ignore[assignment]
        defs: list[Quad] = (),  # type: ignore[assignment]
        params: list[list[Quad]] = (),  # type: ignore[assignment]
        decorators: list[list[Quad]] = (),  # type: ignore[assignment]
        handlers: list[Quad] = (),  # type: ignore[assignment]
    ) -> None:
        self.calls = _flat(calls)
        self.defs = _flat(defs)
        self.handlers = _flat(handlers)
        self.params = _flat([p for group in params for p in group])
        self.param_starts = _starts(params)
        self.decorators = _flat([d for group in decorators for d in group])
        self.decorator_starts = _starts(decorators)

    def span(self, code: int) -> Span:
        kind, index, rank = _split(code)
        if kind == CALL:
            return _at(self.calls, rank)
        if kind == HANDLER:
            return _at(self.handlers, rank)
        if 4 * rank >= len(self.defs):
            return UNKNOWN
        if kind == DECORATOR or kind == PARAM:
            values, starts = (self.decorators, self.decorator_starts) if kind == DECORATOR else (self.params, self.param_starts)
            if starts[rank] + index < starts[rank + 1]:
                return _at(values, starts[rank] + index)
        return _at(self.defs, rank)


def _at(values: array[int], i: int) -> Span:
    j = 4 * i
    if j + 4 > len(values):
        return UNKNOWN
    return Span(values[j], values[j + 1], values[j + 2], values[j + 3])


def param_span(def_span: Span, index: int) -> Span:
    """Where the def's index-th parameter is (in ``FunctionFacts.params`` order: positional-only,
    normal, *args, keyword-only, **kwargs), from its def's span: as lazy as that."""
    if type(def_span) is LazySpan:
        return LazySpan(def_span._table, code(PARAM, def_span._code >> RANK_SHIFT, index))  # type: ignore[return-value]
    return def_span


_DEF_TYPES = frozenset({ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef})
# nodes that hold no call, def or handler: never pushed
_LEAVES = frozenset(
    {ast.Name, ast.Constant, ast.Load, ast.Store, ast.Del, ast.alias, ast.Pass, ast.Break, ast.Continue, ast.Global, ast.Nonlocal}
    | {k for k in vars(ast).values() if isinstance(k, type) and issubclass(k, (ast.operator, ast.unaryop, ast.cmpop, ast.boolop))}
)
_FIELDS: dict[type, tuple[str, ...]] = {}
# ASDL field types that are never a node worth entering (names, strings, contexts, operators)
_SCALAR_FIELDS = frozenset({"identifier", "string", "constant", "int", "expr_context", "operator", "unaryop", "cmpop", "boolop"})


def _node_fields(kind: type) -> tuple[str, ...]:
    """The fields of an ast node type that may hold nodes, read from the ASDL signature CPython
    puts in its docstring (``Attribute(expr value, identifier attr, expr_context ctx)`` -> value);
    every field when the signature is missing or does not name the same fields."""
    signature = re.fullmatch(r"\w+\((.*)\)", kind.__doc__ or "")
    if signature is None:
        return kind._fields  # type: ignore[attr-defined, no-any-return]
    typed = dict(reversed(part.split(" ", 1)) for part in signature.group(1).split(", "))
    if set(typed) != set(kind._fields):  # type: ignore[attr-defined]
        return kind._fields  # type: ignore[attr-defined, no-any-return]
    return tuple(n for n in kind._fields if typed[n].rstrip("*?") not in _SCALAR_FIELDS)  # type: ignore[attr-defined]


def _key(node: ast.AST) -> tuple[int, int, int, int]:
    return (node.lineno, node.col_offset, -(node.end_lineno or 0), -(node.end_col_offset or 0))  # type: ignore[attr-defined]


def _ast_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_DEF_HEAD = re.compile(r"(?:async\s+)?(?:def|class)\s+(\w+)")


def _ast_params(node: ast.AST) -> list[ast.arg]:
    """A def's parameters in the collector's order: positional-only, normal, *args, keyword-only,
    **kwargs."""
    args: ast.arguments | None = getattr(node, "args", None)
    if args is None:
        return []
    every = [*args.posonlyargs, *args.args]
    if args.vararg:
        every.append(args.vararg)
    every.extend(args.kwonlyargs)
    if args.kwarg:
        every.append(args.kwarg)
    return every


def _from_ast(source: str) -> tuple[_Positions, int]:
    """Positions from Python's ast: its calls, defs and handlers sorted by position; and the
    checksum of their names, which must be the one extraction kept."""
    tree = ast.parse(source)
    calls: list[ast.Call] = []
    defs: list[Any] = []
    handlers: list[ast.ExceptHandler] = []
    # ast.walk, without its generator per node: leaves (names, constants, contexts,
    # operators) are never pushed, and each node type's fields are looked up once
    call_t, handler_t, def_ts = ast.Call, ast.ExceptHandler, _DEF_TYPES
    leaves, fields_of = _LEAVES, _FIELDS
    ast_t = ast.AST
    todo: list[ast.AST] = [tree]
    pop, push = todo.pop, todo.append
    while todo:
        node = pop()
        kind = type(node)
        if kind is call_t:
            calls.append(node)  # type: ignore[arg-type]
        elif kind in def_ts:
            defs.append(node)
        elif kind is handler_t:
            handlers.append(node)  # type: ignore[arg-type]
        names = fields_of.get(kind)
        if names is None:
            names = fields_of[kind] = _node_fields(kind)
        for name in names:
            value = getattr(node, name, None)
            if type(value) is list:
                for v in value:
                    if type(v) not in leaves and isinstance(v, ast_t):
                        push(v)
            elif value is not None and type(value) not in leaves and isinstance(value, ast_t):
                push(value)
    calls.sort(key=_key)
    defs.sort(key=_key)
    handlers.sort(key=_key)
    check = checksum([_ast_name(c.func) for c in calls], [d.name for d in defs], len(handlers))
    to = _Columns(source)
    found = _Positions(
        calls=[to.span(c) for c in calls],
        defs=[to.def_span(d) for d in defs],
        params=[[to.name_span(a.lineno, a.col_offset, a.arg) for a in _ast_params(d)] for d in defs],
        decorators=[[to.span(x) for x in d.decorator_list] for d in defs],
        handlers=[to.name_span(h.lineno, h.col_offset, "except") for h in handlers],
    )
    return found, check


class _Columns:
    """ast's positions as ours: characters (ast counts UTF-8 bytes), 1-based."""

    def __init__(self, source: str) -> None:
        self._lines = _LINE_BREAK.split(source)  # ast's line numbers: not str.splitlines (form feeds, \x1c, \u2028 ...)
        self._ascii = source.isascii()  # then every byte column is the character column

    def col(self, line: int, byte_col: int) -> int:
        if self._ascii:
            return byte_col + 1
        if 0 < line <= len(self._lines):
            text = self._lines[line - 1]
            if not text.isascii():
                return len(text.encode()[:byte_col].decode(errors="ignore")) + 1
        return byte_col + 1

    def span(self, node: Any) -> Quad:
        end_line = node.end_lineno or node.lineno
        return (node.lineno, self.col(node.lineno, node.col_offset), end_line, self.col(end_line, node.end_col_offset or 0))

    def name_span(self, line: int, byte_col: int, name: str) -> Quad:
        column = self.col(line, byte_col)
        return (line, column, line, column + len(name))

    def def_span(self, node: Any) -> Quad:
        """The span of the def's name (not of its keyword: `def f` has an "f" in "def")."""
        name = node.name
        line = node.lineno
        text = self._lines[line - 1] if 0 < line <= len(self._lines) else ""
        char_start = self.col(line, node.col_offset) - 1
        match = _DEF_HEAD.match(text, char_start)
        idx = match.start(1) if match is not None and match.group(1) == name else char_start  # name on a later line: the keyword
        return (line, idx + 1, line, idx + 1 + len(name))


def _from_cst(source: str, module: str, is_package: bool) -> _Positions:
    """The exact, slower positions: the module parsed again by libcst, the collector's own visit
    pairing ranks with nodes, libcst's PositionProvider placing them."""
    import libcst as cst
    from libcst.metadata import MetadataWrapper, PositionProvider

    from fastapi_reviewer.facts.collector import FactsCollector
    from fastapi_reviewer.facts.ranks import RankPositions
    from fastapi_reviewer.facts.walk import walk

    try:
        wrapper = MetadataWrapper(cst.parse_module(source), unsafe_skip_copy=True)
        where = wrapper.resolve(PositionProvider)
        ranks = RankPositions(ModulePositions(), record=True)
        collector = FactsCollector("", module, is_package, ranks)
        walk(wrapper.module, collector)
        collector.release()
    except Exception:  # noqa: BLE001 - the file parsed at scan time; if it no longer does, no positions
        return _Positions()

    def span(node: Any) -> Quad:
        r = where[node]
        return (r.start.line, r.start.column + 1, r.end.line, r.end.column + 1)

    def params(node: Any) -> list[Any]:
        if type(node) is not cst.FunctionDef:
            return []
        p = node.params
        every = [*p.posonly_params, *p.params]
        if type(p.star_arg) is cst.Param:  # not `*` alone
            every.append(p.star_arg)
        every.extend(p.kwonly_params)
        if type(p.star_kwarg) is cst.Param:
            every.append(p.star_kwarg)
        return every

    handlers = [span(n) for n in ranks.handler_nodes]
    return _Positions(
        calls=[span(n) for n in ranks.calls],
        defs=[span(n.name) for n in ranks.defs],
        params=[[span(p.name) for p in params(n)] for n in ranks.defs],
        decorators=[[span(d.decorator) for d in n.decorators] for n in ranks.defs],
        handlers=[(line, column, line, column + 6) for line, column, _, _ in handlers],
    )
