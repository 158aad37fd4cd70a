"""Source positions of the nodes the rules report, computed only for the modules reported on.

Positions are costly: libcst's PositionProvider re-generates the whole module (about twice the
parse), and Python's ``ast`` (its parse and a walk for the calls, defs and handlers) costs about a
fifth of the libcst parse, ~1.3 ms a file on every file of a cold scan.  Yet a scan reports on few
modules (the 2,000-module bench corpus: 373; a real project: a few per cent).  So extraction takes
no position: each call, def, parameter, decorator and except handler gets a ``LazySpan``, its kind
and its rank among the nodes of its kind in the order the collector visits them (source order).

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
from collections.abc import Sequence
from typing import Any, Protocol

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

    @property
    def line(self) -> int:
        return self._table.span(self._code).line

    @property
    def column(self) -> int:
        return self._table.span(self._code).column

    @property
    def end_line(self) -> int:
        return self._table.span(self._code).end_line

    @property
    def end_column(self) -> int:
        return self._table.span(self._code).end_column

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (Span, LazySpan)):
            mine = self.span()
            return (mine.line, mine.column, mine.end_line, mine.end_column) == (other.line, other.column, other.end_line, other.end_column)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # like Span

    def __repr__(self) -> str:
        return repr(self.span())


class _Resolver(Protocol):
    def span(self, code: int) -> Span: ...


class ModulePositions:
    """The positions of one module's nodes, resolved on the first read of any of them.

    ``source``: the text, when extraction made the facts in this process; else ``bind`` names the
    file, its cache key and the module name the key was made with (the facts came through the
    cache codec), and the file is read again."""

    __slots__ = ("_resolver", "_spans", "check", "source", "where")

    def __init__(self, source: str | None = None, check: int = 0) -> None:
        self.source = source
        self.where: tuple[str, str, str, bool] | None = None
        self.check = check
        self._resolver: _Resolver | None = None
        self._spans: dict[int, Span] = {}

    def bind(self, path: str, key: str, module: str, is_package: bool) -> None:
        self.where = (path, key, module, is_package)

    def span(self, code: int) -> Span:
        found = self._spans.get(code)
        if found is None:
            if self._resolver is None:
                self._resolver = self._resolve()
            found = self._spans[code] = self._resolver.span(code)
        return found

    def _resolve(self) -> _Resolver:
        source = self.source if self.source is not None else self._read()
        if source is None:
            return _Unknown()
        try:
            nodes = _AstNodes(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):  # newer syntax, odd bytes, nesting
            nodes = None
        if nodes is not None and nodes.check() == self.check:
            return nodes
        return _CstNodes(source, self.where[2] if self.where else "m", self.where[3] if self.where else False)

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


def loading_into(table: ModulePositions | None) -> _Loading:
    """``with loading_into(table):`` LazySpans unpickled in the block belong to ``table``."""
    return _Loading(table if table is not None else ModulePositions())


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


def lazy_span(code: int) -> LazySpan:
    """The unpickler's constructor of a LazySpan (cache.py)."""
    return LazySpan(_LOADING[-1], code)


# ----------------------------------------------------------------------------- resolution
def checksum(call_names: Sequence[str | None], def_names: Sequence[str], handlers: int) -> int:
    """What pairs a module's nodes with its ast nodes: the callee names, the def names, in order,
    and the number of handlers."""
    text = "\x00".join([n or "" for n in call_names]) + "\x01" + "\x00".join(def_names) + f"\x01{handlers}"
    return zlib.crc32(text.encode("utf-8", "surrogatepass"))


def _split(code: int) -> tuple[int, int, int]:
    return code & ((1 << _KIND_BITS) - 1), (code >> _KIND_BITS) & _INDEX_MASK, code >> RANK_SHIFT


class _Unknown:
    def span(self, code: int) -> Span:
        return UNKNOWN


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


class _AstNodes:
    """Positions from Python's ast: the calls, defs and handlers sorted by position."""

    def __init__(self, source: str) -> None:
        tree = ast.parse(source)
        self._lines = _LINE_BREAK.split(source)  # ast's line numbers: not str.splitlines (form feeds, \x1c, \u2028 ...)
        self._ascii = source.isascii()  # then every byte column is the character column
        calls: list[ast.Call] = []
        defs: list[ast.AST] = []
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
        self._calls = calls
        self._defs = defs
        self._handlers = handlers

    def check(self) -> int:
        return checksum([_ast_name(c.func) for c in self._calls], [getattr(d, "name", "") for d in self._defs], len(self._handlers))

    def span(self, code: int) -> Span:
        kind, index, rank = _split(code)
        if kind == CALL:
            return self._span(self._calls[rank]) if rank < len(self._calls) else UNKNOWN
        if rank >= len(self._defs) or kind == HANDLER:
            if kind == HANDLER and rank < len(self._handlers):
                found = self._handlers[rank]
                column = self._col(found.lineno, found.col_offset)
                return Span(found.lineno, column, found.lineno, column + 6)
            return UNKNOWN
        node = self._defs[rank]
        if kind == DECORATOR:
            decorators = getattr(node, "decorator_list", [])
            return self._span(decorators[index]) if index < len(decorators) else self._def_span(node)
        if kind == PARAM:
            params = _ast_params(node)
            if index < len(params):
                a = params[index]
                column = self._col(a.lineno, a.col_offset)
                return Span(a.lineno, column, a.lineno, column + len(a.arg))
        return self._def_span(node)

    def _col(self, line: int, byte_col: int) -> int:
        """ast columns count UTF-8 bytes; we report characters, 1-based."""
        if self._ascii:
            return byte_col + 1
        if 0 < line <= len(self._lines):
            text = self._lines[line - 1]
            if not text.isascii():
                return len(text.encode()[:byte_col].decode(errors="ignore")) + 1
        return byte_col + 1

    def _span(self, node: ast.AST) -> Span:
        end_line = node.end_lineno or node.lineno  # type: ignore[attr-defined]
        return Span(
            node.lineno,  # type: ignore[attr-defined]
            self._col(node.lineno, node.col_offset),  # type: ignore[attr-defined]
            end_line,
            self._col(end_line, node.end_col_offset or 0),  # type: ignore[attr-defined]
        )

    def _def_span(self, node: Any) -> Span:
        """The span of the def's name (not of its keyword: `def f` has an "f" in "def")."""
        name = node.name
        line = node.lineno
        text = self._lines[line - 1] if 0 < line <= len(self._lines) else ""
        char_start = self._col(line, node.col_offset) - 1
        match = _DEF_HEAD.match(text, char_start)
        idx = match.start(1) if match is not None and match.group(1) == name else char_start  # name on a later line: the keyword
        return Span(line, idx + 1, line, idx + 1 + len(name))


class _CstNodes:
    """The exact, slower positions: the module parsed again by libcst, the collector's own visit
    pairing ranks with nodes, libcst's PositionProvider placing them."""

    def __init__(self, source: str, module: str, is_package: bool) -> None:
        import libcst as cst
        from libcst.metadata import MetadataWrapper, PositionProvider

        from fastapi_reviewer.facts.collector import FactsCollector
        from fastapi_reviewer.facts.ranks import RankPositions
        from fastapi_reviewer.facts.walk import walk

        try:
            wrapper = MetadataWrapper(cst.parse_module(source), unsafe_skip_copy=True)
            self._pos: Any = wrapper.resolve(PositionProvider)
            ranks = RankPositions(ModulePositions(), record=True)
            collector = FactsCollector("", module, is_package, ranks)
            walk(wrapper.module, collector)
            collector.release()
        except Exception:  # noqa: BLE001 - the file parsed at scan time; if it no longer does, no positions
            self._pos = None
            ranks = RankPositions(ModulePositions())
        self._ranks = ranks

    def _span(self, node: Any) -> Span:
        r = self._pos[node]
        return Span(r.start.line, r.start.column + 1, r.end.line, r.end.column + 1)

    def span(self, code: int) -> Span:
        kind, index, rank = _split(code)
        ranks = self._ranks
        if self._pos is None:
            return UNKNOWN
        if kind == CALL:
            return self._span(ranks.calls[rank]) if rank < len(ranks.calls) else UNKNOWN
        if kind == HANDLER:
            if rank >= len(ranks.handler_nodes):
                return UNKNOWN
            s = self._span(ranks.handler_nodes[rank])
            return Span(s.line, s.column, s.line, s.column + 6)
        if rank >= len(ranks.defs):
            return UNKNOWN
        node = ranks.defs[rank]
        if kind == DECORATOR and index < len(node.decorators):
            return self._span(node.decorators[index].decorator)
        if kind == PARAM and hasattr(node, "params"):
            p = node.params
            params = [*p.posonly_params, *p.params]
            if hasattr(p.star_arg, "name"):  # a Param, not `*` alone
                params.append(p.star_arg)
            params.extend(p.kwonly_params)
            if p.star_kwarg is not None:
                params.append(p.star_kwarg)
            if index < len(params):
                return self._span(params[index].name)
        return self._span(node.name)
