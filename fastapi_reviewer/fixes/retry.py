"""FR405: `self.retry(...)` as a statement -> `raise self.retry(...)` (safe).

`Task.retry()` raises `celery.exceptions.Retry` itself (the rule leaves `throw=False` alone), so
raising its result changes nothing at run time; it makes the control flow visible to readers and
type checkers, as Celery's documentation writes it.
"""

from __future__ import annotations

import libcst as cst

from fastapi_reviewer.findings import Finding
from fastapi_reviewer.fixes.base import Edit, FileContext, Fix


class RaiseRetryFix(Fix):
    code = "FR405"
    safe = True
    summary = "`self.retry(...)` -> `raise self.retry(...)`"

    def edit(self, ctx: FileContext, finding: Finding) -> Edit | None:
        call = ctx.node_at(finding, cst.Call)
        if not isinstance(call, cst.Call):
            return None
        statement = ctx.parent(call)
        if not isinstance(statement, cst.Expr) or statement.value is not call:
            return None

        def replace(node: cst.CSTNode) -> cst.CSTNode:
            assert isinstance(node, cst.Expr)
            return cst.Raise(exc=node.value, semicolon=node.semicolon)

        return Edit(statement, replace, self.summary)
