"""FR4xx: Celery tasks: retry policies, swallowed exceptions, waiting on results, `self.retry`.

Which functions are tasks (and with what options) comes from ``celery_model``. A task runs in a
worker, so everything it calls runs there too: the walks below follow every project callee, sync
or async (``asyncio.run(helper())`` included), not only the synchronous ones.
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi_reviewer.callgraph import CallGraph, Hit
from fastapi_reviewer.catalog import Rule
from fastapi_reviewer.celery_model import RETRY, CeleryModel, TaskInfo, build_celery_model
from fastapi_reviewer.checks.base import CheckContext, step
from fastapi_reviewer.checks.blocking import BlockingMatcher
from fastapi_reviewer.facts.model import CallFact, ExceptFact, FunctionFacts
from fastapi_reviewer.findings import Finding, TraceStep
from fastapi_reviewer.index import FunctionRef, ProjectIndex, Symbol
from fastapi_reviewer.testfiles import is_test_path

CATEGORY = "task"
# the blocking-call catalog groups that are I/O worth retrying: HTTP, files, DB, cache, network/email/SDKs
IO_RULES = ("FR101", "FR104", "FR105", "FR106", "FR107")
WAIT_RULE = "FR404"  # its [[calls]] list the result waits; FR403 uses the same list
BROAD = frozenset({"builtins.Exception", "builtins.BaseException"})
# what a handler may call and still only report the error: logging, printing, error trackers, formatting
REPORTING = frozenset(
    {
        "debug", "info", "warning", "warn", "error", "exception", "critical", "fatal", "log", "trace", "success",
        "opt", "bind", "print_exc", "format_exc", "print_exception", "format_exception", "capture_exception",
        "capture_message", "add_note", "isinstance", "str", "repr", "type", "len", "print", "format",
    }
)
JOIN_OPT_OUT = "celery.result.allow_join_result"


def _targets(index: ProjectIndex, graph: CallGraph):
    """Edges for code running in a worker: sync callees, coroutines (asyncio.run(f())), __init__."""

    def edges(call: CallFact) -> list[str]:
        sym = index.resolve(call.target)
        if sym.kind == "function":
            return [sym.name]
        return graph.sync_targets(call)

    return edges


def _wait_names(ctx: CheckContext) -> BlockingMatcher:
    rule = ctx.catalog.by_code()[WAIT_RULE]
    return BlockingMatcher([rule], {})


def _in_allow_join(index: ProjectIndex, call: CallFact) -> bool:
    return any(index.resolve(w.removesuffix("()")).name == JOIN_OPT_OUT for w in call.within)


def _handler_text(e: ExceptFact) -> str:
    if not e.types:
        return "bare `except:`"
    names = ", ".join(t.removeprefix("builtins.") for t in e.types)
    return f"`except {names}`" if len(e.types) == 1 else f"`except ({names})`"


def check(ctx: CheckContext) -> Iterator[Finding]:
    if not any(r.category == CATEGORY for r in ctx.enabled.values()):
        return
    index = ctx.index
    graph = CallGraph(index)
    model = build_celery_model(index)
    waits = _wait_names(ctx)
    worker_edges = _targets(index, graph)

    if ctx.wants("FR404"):
        yield from _waits_in_coroutines(ctx, graph, waits)
    if ctx.wants("FR405"):
        yield from _retry_without_raise(ctx, model)
    io_matcher = _io_matcher(ctx) if ctx.wants("FR401") else None
    # by file (the report sorts by position; reading a task's line would read its module's positions)
    for task in sorted(model.tasks.values(), key=lambda t: t.module.path):
        if not ctx.in_scope(task.module) or is_test_path(task.module.path):
            continue
        if io_matcher is not None:
            yield from _without_retry(ctx, graph, model, task, worker_edges, io_matcher)
        if ctx.wants("FR402"):
            yield from _swallows(ctx, task)
        if ctx.wants("FR403"):
            yield from _waits_in_task(ctx, graph, task, waits, worker_edges)


# ------------------------------------------------------------------ FR401
def _io_matcher(ctx: CheckContext) -> BlockingMatcher:
    by_code = ctx.catalog.by_code()
    rules: list[Rule] = [by_code[c] for c in IO_RULES if c in by_code]
    rules.append(by_code["FR401"])  # its own [[calls]]: async clients awaited in helpers, mail SDKs
    return BlockingMatcher(rules, {})


def _without_retry(
    ctx: CheckContext, graph: CallGraph, model: CeleryModel, task: TaskInfo, edges, matcher: BlockingMatcher
) -> Iterator[Finding]:
    if task.retry_policy is not None or model.driven_by_schedule(task.full):  # the next beat run retries
        return
    index = ctx.index

    def classify(ref: FunctionRef, i: int, call: CallFact, sym: Symbol) -> Hit | None:
        if model.is_retry_call(index, call, model.task(ref.full)):
            return Hit("retry", "retry")
        if sym.kind != "external":
            return None
        found = matcher.match(sym.name, call)
        if found is None:
            return None
        rule, group = found
        return Hit(f"io:{sym.name}", sym.name, group.label or rule.name)

    reached = graph.reach(task.full, "task-io", classify, edges)
    io = [found for kind, found in reached.items() if kind.startswith("io:")]
    if "retry" in reached or not io:
        return
    hit, path = min(io, key=lambda found: (len(found[1]), found[1][0].line))  # the most direct I/O
    what = hit.data or "I/O"
    yield ctx.finding(
        "FR401", task.module, task.span, task.name,
        call=_via(path, hit.call), io=what, trace=_task_trace(task, path),
    )


# ------------------------------------------------------------------ FR402
def _only_reports(fn: FunctionFacts, handler: ExceptFact) -> bool:
    """The handler logs (prints, sends to Sentry) and nothing else: no status update, no cleanup call."""
    if handler.stores_state:
        return False
    for i in handler.calls:
        call = fn.calls[i]
        if call.raw.rsplit(".", 1)[-1] not in REPORTING:
            return False
    return True


def _swallows(ctx: CheckContext, task: TaskInfo) -> Iterator[Finding]:
    fn = task.ref.function
    swallowing = [
        e for e in fn.excepts
        if (not e.types or any(t in BROAD for t in e.types))
        and not e.reraises and not e.retries and not e.in_loop and not e.in_cleanup and _only_reports(fn, e)
    ]
    if not swallowing:
        return
    first = swallowing[0]
    lines = ", ".join(str(e.line) for e in swallowing)
    yield ctx.finding(
        "FR402", task.module, task.span, task.name,
        handler=_handler_text(first), lines=lines, s="s" if len(swallowing) > 1 else "",
        trace=[step(task.ref, e.line, _handler_text(e).strip("`")) for e in swallowing],
    )


# ------------------------------------------------------------------ FR403
def _waits_in_task(ctx: CheckContext, graph: CallGraph, task: TaskInfo, waits: BlockingMatcher, edges) -> Iterator[Finding]:
    index = ctx.index

    def classify(ref: FunctionRef, i: int, call: CallFact, sym: Symbol) -> Hit | None:
        if sym.kind != "external" or waits.match(sym.name, call) is None:
            return None
        if call.kwargs.get("disable_sync_subtasks") == "False" or _in_allow_join(index, call):
            return None
        return Hit("wait", sym.name, call.raw)

    reached = graph.reach(task.full, "task-wait", classify, edges)
    if "wait" not in reached:
        return
    hit, path = reached["wait"]
    text = _call_text(hit.data, hit.call) if len(path) == 1 else _via(path, hit.call)
    yield ctx.finding(
        "FR403", task.module, task.span, task.name,
        call=text, line=str(path[0].line), trace=_task_trace(task, path),
    )


# ------------------------------------------------------------------ FR404
def _waits_in_coroutines(ctx: CheckContext, graph: CallGraph, waits: BlockingMatcher) -> Iterator[Finding]:
    index = ctx.index

    def classify(ref: FunctionRef, i: int, call: CallFact, sym: Symbol) -> Hit | None:
        if call.awaited or sym.kind != "external" or waits.match(sym.name, call) is None:
            return None
        return Hit("wait", sym.name)

    for full, ref in ctx.scoped_functions():
        fn = ref.function
        if not fn.is_async or is_test_path(ref.module.path):
            continue
        role = ctx.app.label(full)
        seen: set[int] = set()
        for i, call in enumerate(fn.calls):
            if call.awaited or (seen and call.span.line in seen):  # a line is read only once one is seen
                continue
            hit = classify(ref, i, call, index.resolve(call.target))
            if hit is not None:
                seen.add(call.span.line)
                yield ctx.finding(
                    "FR404", ref.module, call.span, fn.qualname, role=role, call=_call_text(call.raw, hit.call),
                    trace=[step(ref, call.span.line, hit.call)],
                )
                continue
            for target in graph.sync_targets(call):
                reached = graph.reach(target, "result-wait", classify)
                if "wait" not in reached or (seen and call.span.line in seen):
                    continue
                seen.add(call.span.line)
                sub_hit, path = reached["wait"]
                first = step(ref, call.span.line, index.functions[target].function.qualname)
                yield ctx.finding(
                    "FR404", ref.module, call.span, fn.qualname, role=role,
                    call=" -> ".join(f"`{s.call}()`" for s in [first, *path]), trace=[first, *path],
                )


# ------------------------------------------------------------------ FR405
def _retry_without_raise(ctx: CheckContext, model: CeleryModel) -> Iterator[Finding]:
    index = ctx.index
    for full, ref in ctx.scoped_functions():
        if is_test_path(ref.module.path):
            continue
        task = model.task(full)
        for call in ref.function.calls:
            if not call.raw.endswith(".retry") or call.raised or call.returned or call.kwargs.get("throw") == "False":
                continue
            if not model.is_retry_call(index, call, task):
                continue
            yield ctx.finding(
                "FR405", ref.module, call.span, ref.function.qualname, call=f"{call.raw}()",
                trace=[step(ref, call.span.line, RETRY)],
            )


# ---------------------------------------------------------------- helpers
def _call_text(raw: str, canonical: str) -> str:
    if raw in ("?", canonical):
        return f"`{canonical}()`"
    return f"`{raw}()` ({canonical})"


def _via(path: list[TraceStep], final: str) -> str:
    """`requests.get()` or `sync_prices()` -> `requests.get()` when the call is in a helper."""
    if len(path) <= 1:
        return f"`{final}()`"
    return " -> ".join(f"`{s.call}()`" for s in path)


def _task_trace(task: TaskInfo, path: list[TraceStep]) -> list[TraceStep]:
    return [TraceStep(path=task.module.path, line=task.span.line, function=task.name, call=task.name), *path]
