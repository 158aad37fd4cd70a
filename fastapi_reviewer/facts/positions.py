"""Source positions for the libcst nodes we report, without libcst's PositionProvider.

libcst's PositionProvider re-generates the whole module to count characters, which costs about twice
the parse.  Python's own ``ast`` gives every call, def and handler a position for a tenth of the
parse.  libcst visits nodes in source order, and so does a position sort of the ``ast`` nodes of one
kind, so the n-th libcst ``Call`` is the n-th ``ast.Call``.  Every pairing is checked by name; on any
disagreement (or when ``ast`` cannot parse the file) the collector falls back to PositionProvider.
"""

from __future__ import annotations

import ast
import re

import libcst as cst

from fastapi_reviewer.facts.model import Span


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


class PositionMismatch(Exception):
    """The ast and libcst views of the file disagree; use the slow, exact provider."""


def _key(node: ast.AST) -> tuple[int, int, int, int]:
    return (node.lineno, node.col_offset, -(node.end_lineno or 0), -(node.end_col_offset or 0))


def _cst_name(node: cst.CSTNode) -> str | None:
    if type(node) is cst.Name:
        return node.value
    if type(node) is cst.Attribute:
        return node.attr.value
    return None


def _ast_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_DEF_HEAD = re.compile(r"(?:async\s+)?(?:def|class)\s+(\w+)")


class AstPositions:
    """Hands out positions in visiting order, checked against the node's name."""

    def __init__(self, source: str) -> None:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError) as exc:  # newer syntax than this Python, odd bytes
            raise PositionMismatch(str(exc)) from exc
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
        self.last_decorators: list[Span] = []  # the decorators of the definition handed out last
        self._handlers = handlers
        self._ci = self._di = self._hi = 0

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

    def call(self, node: cst.Call) -> Span:
        if self._ci >= len(self._calls):
            raise PositionMismatch("more calls than ast found")
        found = self._calls[self._ci]
        self._ci += 1
        if _cst_name(node.func) != _ast_name(found.func):
            raise PositionMismatch("call order differs")
        return self._span(found)

    def definition(self, node: cst.FunctionDef | cst.ClassDef) -> tuple[Span, dict[str, tuple[int, int]]]:
        """The span of the def's name and, for functions, each parameter's position."""
        if self._di >= len(self._defs):
            raise PositionMismatch("more defs than ast found")
        found = self._defs[self._di]
        self._di += 1
        name = node.name.value
        if getattr(found, "name", None) != name:
            raise PositionMismatch("def order differs")
        self.last_decorators = [self._span(d) for d in getattr(found, "decorator_list", [])]
        line = found.lineno  # type: ignore[attr-defined]
        text = self._lines[line - 1] if 0 < line <= len(self._lines) else ""
        byte_start = found.col_offset  # type: ignore[attr-defined]
        char_start = self._col(line, byte_start) - 1
        match = _DEF_HEAD.match(text, char_start)  # past the keywords: `def f` has an "f" in "def"
        if match is not None and match.group(1) == name:
            idx = match.start(1)
        else:  # name on a later line (odd formatting): point at the keyword
            idx = char_start
        params: dict[str, tuple[int, int]] = {}
        args = getattr(found, "args", None)
        if args is not None:
            every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
            if args.vararg:
                every.append(args.vararg)
            if args.kwarg:
                every.append(args.kwarg)
            for a in every:
                params[a.arg] = (a.lineno, self._col(a.lineno, a.col_offset))
        return Span(line, idx + 1, line, idx + 1 + len(name)), params

    def handler(self, node: cst.ExceptHandler) -> Span:
        if self._hi >= len(self._handlers):
            raise PositionMismatch("more handlers than ast found")
        found = self._handlers[self._hi]
        self._hi += 1
        return Span(found.lineno, self._col(found.lineno, found.col_offset), found.lineno, self._col(found.lineno, found.col_offset) + 6)


class CstPositions:
    """The exact, slower fallback: libcst's own PositionProvider."""

    def __init__(self, wrapper: cst.metadata.MetadataWrapper) -> None:
        from libcst.metadata import PositionProvider

        self._pos = wrapper.resolve(PositionProvider)
        self.last_decorators: list[Span] = []

    def _span(self, node: cst.CSTNode) -> Span:
        r = self._pos[node]
        return Span(r.start.line, r.start.column + 1, r.end.line, r.end.column + 1)

    def call(self, node: cst.Call) -> Span:
        return self._span(node)

    def definition(self, node: cst.FunctionDef | cst.ClassDef) -> tuple[Span, dict[str, tuple[int, int]]]:
        params: dict[str, tuple[int, int]] = {}
        self.last_decorators = [self._span(d.decorator) for d in node.decorators]
        if type(node) is cst.FunctionDef:
            p = node.params
            for param in [*p.posonly_params, *p.params, *p.kwonly_params]:
                s = self._span(param.name)
                params[param.name.value] = (s.line, s.column)
            for param in (p.star_arg, p.star_kwarg):
                if type(param) is cst.Param:
                    s = self._span(param.name)
                    params[param.name.value] = (s.line, s.column)
        return self._span(node.name), params

    def handler(self, node: cst.ExceptHandler) -> Span:
        s = self._span(node)
        return Span(s.line, s.column, s.line, s.column + 6)
