"""FR101: a synchronous `requests` / `httpx` call in a coroutine -> run it in a worker thread (unsafe).

    r = requests.get(url, timeout=5)  ->  r = await asyncio.to_thread(requests.get, url, timeout=5)

When the module already imports `run_in_threadpool` (from `fastapi.concurrency` or
`starlette.concurrency`) that is used instead, so the call shares FastAPI's threadpool limiter.

Unsafe: the request now runs in another thread (thread-local state, a `requests.Session` shared
between threads, lazily read bodies such as `stream=True` responses still read on the loop), and the
real fix, an `httpx.AsyncClient` created in the lifespan, is a design change no tool should make for
you. Streaming calls (`httpx.stream`, `Client.stream`) and calls used as a `with` item are left alone.
"""

from __future__ import annotations

import libcst as cst

from fastapi_reviewer.findings import Finding
from fastapi_reviewer.fixes.base import Edit, FileContext, Fix, Import, await_call, dotted, module_alias

THREADPOOL = ("fastapi.concurrency.run_in_threadpool", "starlette.concurrency.run_in_threadpool")


class OffloadHttpFix(Fix):
    code = "FR101"
    safe = False
    summary = "sync HTTP call -> `await asyncio.to_thread(...)` / `await run_in_threadpool(...)`"

    def applies(self, finding: Finding) -> bool:
        if finding.code != self.code or len(finding.trace) != 1:
            return False
        target = finding.trace[0].call
        return target.startswith(("requests.", "httpx.")) and not target.endswith(".stream")

    def edit(self, ctx: FileContext, finding: Finding) -> Edit | None:
        call = ctx.node_at(finding, cst.Call)
        if not isinstance(call, cst.Call) or not ctx.can_await(call):
            return None
        if isinstance(ctx.parent(call), cst.WithItem):
            return None
        wrapper, imports = self._wrapper(ctx, call)
        if wrapper is None:
            return None
        parens = ctx.needs_parentheses(call)

        def replace(node: cst.CSTNode) -> cst.CSTNode:
            assert isinstance(node, cst.Call)
            first = cst.Arg(value=node.func, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")) if node.args else cst.MaybeSentinel.DEFAULT)
            return await_call(node.with_changes(func=dotted(wrapper), args=[first, *node.args]), parens)

        return Edit(call, replace, f"`{_text(ctx, call.func)}()` -> `await {wrapper}({_text(ctx, call.func)}, ...)`", imports)

    def _wrapper(self, ctx: FileContext, call: cst.Call) -> tuple[str | None, list[Import]]:
        # an existing run_in_threadpool import, under whatever name, wins
        for node in ctx.positions:
            if isinstance(node, cst.ImportAlias):
                local = node.evaluated_alias or node.evaluated_name
                if "." not in local and ctx.binding(call, local) & set(THREADPOOL):
                    return local, []
        asyncio = module_alias(ctx, call, "asyncio")
        if asyncio is None:
            return None, []
        return f"{asyncio}.to_thread", [Import("asyncio")]


def _text(ctx: FileContext, node: cst.CSTNode) -> str:
    return ctx.module.code_for_node(node)
