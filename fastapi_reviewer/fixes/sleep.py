"""FR102: `time.sleep(x)` in a coroutine -> `await asyncio.sleep(x)` (safe).

Handles `time.sleep`, `import time as t; t.sleep`, `from time import sleep` and its aliases; adds
`import asyncio` when missing. Only a direct call with one positional argument, in the body of the
`async def` itself (not in a lambda, comprehension or nested def), is rewritten. The behaviour the
caller sees is the same (the coroutine resumes after the delay, the value is None); the event loop
is free meanwhile, which is the point.
"""

from __future__ import annotations

import libcst as cst

from fastapi_reviewer.findings import Finding
from fastapi_reviewer.fixes.base import Edit, FileContext, Fix, Import, await_call, dotted, module_alias


class SleepFix(Fix):
    code = "FR102"
    safe = True
    summary = "`time.sleep(x)` -> `await asyncio.sleep(x)`"

    def applies(self, finding: Finding) -> bool:
        return finding.code == self.code and len(finding.trace) == 1 and finding.trace[0].call == "time.sleep"

    def edit(self, ctx: FileContext, finding: Finding) -> Edit | None:
        call = ctx.node_at(finding, cst.Call)
        if not isinstance(call, cst.Call) or "time.sleep" not in ctx.qualified_names(call.func):
            return None
        if len(call.args) != 1 or call.args[0].keyword is not None or call.args[0].star:
            return None
        if not ctx.can_await(call):
            return None
        asyncio = module_alias(ctx, call, "asyncio")
        if asyncio is None:
            return None
        parens = ctx.needs_parentheses(call)

        def replace(node: cst.CSTNode) -> cst.CSTNode:
            assert isinstance(node, cst.Call)
            arg = node.args[0].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            return await_call(node.with_changes(func=dotted(f"{asyncio}.sleep"), args=[arg]), parens)

        return Edit(call, replace, self.summary, [Import("asyncio")], _binding_import(call.func))


def _binding_import(func: cst.BaseExpression) -> list[Import]:
    """The import that made `func` mean time.sleep, to drop if the fix leaves it unused."""
    if isinstance(func, cst.Name):  # from time import sleep [as nap]
        return [Import("time", "sleep", None if func.value == "sleep" else func.value)]
    if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):  # import time [as t]
        name = func.value.value
        return [Import("time", None, None if name == "time" else name)]
    return []
