"""What every fix works with: one parsed file, the node at a finding's span, the edit it proposes.

A fix never edits text. It finds the libcst node a finding points at (by position, through libcst's
PositionProvider, whose 0-based character columns are the findings' 1-based columns minus one), and
returns an `Edit`: the original node to replace and a function from the *updated* node (nested
edits already applied) to its replacement, plus the imports the replacement needs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import libcst as cst
from libcst._metadata_dependent import LazyValue
from libcst.metadata import (
    CodeRange,
    MetadataWrapper,
    ParentNodeProvider,
    PositionProvider,
    QualifiedNameProvider,
    ScopeProvider,
)

from fastapi_reviewer.findings import Finding

Replace = Callable[[cst.CSTNode], cst.CSTNode]


@dataclass(frozen=True)
class Import:
    """`import module` (name None) or `from module import name`, optionally `as alias`."""

    module: str
    name: str | None = None
    alias: str | None = None


@dataclass
class Edit:
    target: cst.CSTNode  # a node of FileContext.module (the original)
    replace: Replace
    title: str  # what was done, for the summary: "`time.sleep()` -> `await asyncio.sleep()`"
    imports: list[Import] = field(default_factory=list)
    unused: list[Import] = field(default_factory=list)  # imports to remove if nothing uses them afterwards


class FileContext:
    """One file, parsed once, with the metadata the fixes need."""

    def __init__(self, path: str, source: str | bytes) -> None:
        self.path = path
        self.wrapper = MetadataWrapper(cst.parse_module(source))
        self.module = self.wrapper.module
        self.source = self.module.code
        self.positions = self.wrapper.resolve(PositionProvider)
        self.parents = self.wrapper.resolve(ParentNodeProvider)
        self._qualified = self.wrapper.resolve(QualifiedNameProvider)
        self.scopes = self.wrapper.resolve(ScopeProvider)

    # ------------------------------------------------------------------ positions
    def span(self, node: cst.CSTNode) -> CodeRange:
        return self.positions[node]

    def nodes_at(self, finding: Finding, kind: type[cst.CSTNode] | tuple[type[cst.CSTNode], ...]) -> list[cst.CSTNode]:
        """Nodes of `kind` starting where the finding starts, those ending where it ends first."""
        line, column = finding.line, finding.column - 1
        found = []
        for node, where in self.positions.items():
            if isinstance(node, kind) and where.start.line == line and where.start.column == column:
                found.append(node)
        end = (finding.end_line, finding.end_column - 1)

        def rank(node: cst.CSTNode) -> tuple[int, int]:
            where = self.positions[node]
            exact = (where.end.line, where.end.column) == end
            return (0 if exact else 1, where.end.line * 100_000 + where.end.column)

        return sorted(found, key=rank)

    def node_at(self, finding: Finding, kind: type[cst.CSTNode] | tuple[type[cst.CSTNode], ...]) -> cst.CSTNode | None:
        found = self.nodes_at(finding, kind)
        return found[0] if found else None

    def enclosing(self, finding: Finding, kind: type[cst.CSTNode]) -> list[cst.CSTNode]:
        """Nodes of `kind` whose range contains the finding's start, innermost first."""
        point = (finding.line, finding.column - 1)
        found = []
        for node, where in self.positions.items():
            if isinstance(node, kind) and (where.start.line, where.start.column) <= point < (where.end.line, where.end.column):
                found.append(node)
        return sorted(found, key=lambda n: (self.positions[n].start.line, self.positions[n].start.column), reverse=True)

    # ------------------------------------------------------------------ names
    def qualified_names(self, node: cst.CSTNode) -> set[str]:
        value = self._qualified.get(node, set())
        if isinstance(value, LazyValue):
            value = value()
        return {q.name for q in value}

    def binding(self, node: cst.CSTNode, name: str) -> set[str]:
        """What `name` means where `node` is: qualified names of its bindings (empty: unbound)."""
        scope = self.scopes.get(node)
        if scope is None:
            return set()
        if name not in scope:
            return set()
        return {q.name for q in scope.get_qualified_names_for(name)}

    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self.parents.get(node)

    def ancestors(self, node: cst.CSTNode) -> Iterator[cst.CSTNode]:
        current = self.parents.get(node)
        while current is not None:
            yield current
            current = self.parents.get(current)

    # ------------------------------------------------------------------ await
    def can_await(self, node: cst.CSTNode) -> bool:
        """`await` may replace `node`: it is in the body of an `async def`, not in a lambda, a
        comprehension or a nested def/class between the two."""
        child = node
        for parent in self.ancestors(node):
            if isinstance(parent, (cst.Lambda, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp, cst.ClassDef)):
                return False
            if isinstance(parent, cst.FunctionDef):
                return parent.asynchronous is not None and child is parent.body
            child = parent
        return False

    def needs_parentheses(self, node: cst.CSTNode) -> bool:
        """An `await` replacing `node` must be parenthesised: it is the value of a trailer
        (`x.attr`, `x[i]`, `x(...)`), where `await` would bind the trailer instead."""
        parent = self.parent(node)
        if isinstance(parent, (cst.Attribute, cst.Subscript)):
            return parent.value is node
        if isinstance(parent, cst.Call):
            return parent.func is node
        return False


def await_call(call: cst.Call, parenthesise: bool) -> cst.Await:
    """`await <call>`, keeping the call's own parentheses around the await."""
    lpar, rpar = list(call.lpar), list(call.rpar)
    if parenthesise and not lpar:
        lpar, rpar = [cst.LeftParen()], [cst.RightParen()]
    return cst.Await(expression=call.with_changes(lpar=[], rpar=[]), lpar=lpar, rpar=rpar)


def dotted(text: str) -> cst.BaseExpression:
    """`a.b.c` as a Name / Attribute chain."""
    parts = text.split(".")
    expr: cst.BaseExpression = cst.Name(parts[0])
    for part in parts[1:]:
        expr = cst.Attribute(value=expr, attr=cst.Name(part))
    return expr


def module_alias(ctx: FileContext, node: cst.CSTNode, module: str) -> str | None:
    """The name to write for `module` at `node`: `module` itself (already imported or free to import),
    or None when that name is bound to something else there."""
    bound = ctx.binding(node, module)
    if not bound or bound == {module}:
        return module
    return None


class Fix:
    """A fix for one rule. Subclasses set `code`, `safe`, `summary` and implement `edit`."""

    code: str = ""
    safe: bool = True
    summary: str = ""

    def applies(self, finding: Finding) -> bool:
        """A cheap pre-check, without parsing (e.g. only direct findings)."""
        return finding.code == self.code

    def edit(self, ctx: FileContext, finding: Finding) -> Edit | None:  # pragma: no cover - interface
        raise NotImplementedError


class Refactor:
    """An opt-in rewrite not tied to a finding (`--refactor NAME`): it finds its own sites."""

    name: str = ""
    summary: str = ""

    def edits(self, ctx: FileContext) -> list[Edit]:  # pragma: no cover - interface
        raise NotImplementedError
