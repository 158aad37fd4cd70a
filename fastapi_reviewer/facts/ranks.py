"""What the collector asks positions of during extraction: ranks, not positions (positions.py)."""

from __future__ import annotations

import libcst as cst

from fastapi_reviewer.facts.positions import (
    CALL,
    DECORATOR,
    DEF,
    HANDLER,
    RANK_SHIFT,
    LazySpan,
    ModulePositions,
    checksum,
    code,
)


def _cst_name(node: cst.CSTNode) -> str | None:
    if type(node) is cst.Name:
        return node.value  # type: ignore[attr-defined, no-any-return]
    if type(node) is cst.Attribute:
        return node.attr.value  # type: ignore[attr-defined, no-any-return]
    return None


class RankPositions:
    """What the collector asks positions of: hands out LazySpans by rank, in visiting order, and
    keeps the names for ``checksum``.  ``record``: keep the nodes too (the exact fallback)."""

    def __init__(self, table: ModulePositions, record: bool = False) -> None:
        self._table = table
        self._record = record
        self.call_names: list[str | None] = []
        self.def_names: list[str] = []
        self.handlers = 0
        self.calls: list[cst.Call] = []
        self.defs: list[cst.FunctionDef | cst.ClassDef] = []
        self.handler_nodes: list[cst.ExceptHandler] = []
        self.last_decorators: list[LazySpan] = []  # the decorators of the definition handed out last

    def call(self, node: cst.Call) -> LazySpan:
        rank = len(self.call_names)
        self.call_names.append(_cst_name(node.func))
        if self._record:
            self.calls.append(node)
        return LazySpan(self._table, (rank << RANK_SHIFT) | CALL)

    def definition(self, node: cst.FunctionDef | cst.ClassDef) -> LazySpan:
        """The span of the def's name (its parameters': ``positions.param_span``)."""
        rank = len(self.def_names)
        self.def_names.append(node.name.value)
        if self._record:
            self.defs.append(node)
        table = self._table
        self.last_decorators = [LazySpan(table, code(DECORATOR, rank, i)) for i in range(len(node.decorators))]
        return LazySpan(table, (rank << RANK_SHIFT) | DEF)

    def handler(self, node: cst.ExceptHandler) -> LazySpan:
        rank = self.handlers
        self.handlers += 1
        if self._record:
            self.handler_nodes.append(node)
        return LazySpan(self._table, (rank << RANK_SHIFT) | HANDLER)

    def checksum(self) -> int:
        return checksum(self.call_names, self.def_names, self.handlers)


