"""FR1xx: blocking calls executed on the event loop, directly or through project helpers."""

from __future__ import annotations

import re
from collections.abc import Iterator

from fastapi_reviewer.callgraph import CallGraph, Hit
from fastapi_reviewer.catalog import CallGroup, Rule
from fastapi_reviewer.checks.base import CheckContext
from fastapi_reviewer.facts.model import CallFact
from fastapi_reviewer.findings import Finding, TraceStep
from fastapi_reviewer.index import FunctionRef, Symbol

CATEGORY = "async-blocking"
CUSTOM = "FR112"


class BlockingMatcher:
    """Catalog names -> (rule, call group). Names may use `*` for one dotted part; `!` excludes."""

    def __init__(self, rules: list[Rule], custom: dict[str, str]) -> None:
        self.exact: dict[str, tuple[Rule, CallGroup]] = {}
        self.patterns: list[tuple[re.Pattern[str], Rule, CallGroup]] = []
        self.excluded: set[str] = set()
        self._named: dict[str, tuple[Rule, CallGroup] | None] = {}  # name -> entry, patterns tried once per name
        for rule in rules:
            groups = list(rule.calls)
            if rule.code == CUSTOM:
                groups = [CallGroup(names=[name], hint=hint, label="custom") for name, hint in custom.items()]
            for group in groups:
                for name in group.names:
                    if name.startswith("!"):
                        self.excluded.add(name[1:])
                    elif "*" in name:
                        regex = re.compile("^" + re.escape(name).replace(r"\*", r"[^.]+") + "$")
                        self.patterns.append((regex, rule, group))
                    else:
                        self.exact[name] = (rule, group)

    def match(self, name: str, call: CallFact) -> tuple[Rule, CallGroup] | None:
        if name in self._named:
            found = self._named[name]
        else:
            found = self._named[name] = self._lookup(name)
        if found is None:
            return None
        group = found[1]
        if any(call.kwargs.get(k) == v for k, v in group.skip_kwargs.items()):
            return None
        return found

    def _lookup(self, name: str) -> tuple[Rule, CallGroup] | None:
        if name in self.excluded:
            return None
        found = self.exact.get(name)
        if found is None:
            for regex, rule, group in self.patterns:
                if regex.match(name):
                    return rule, group
        return found


def _call_text(raw: str, canonical: str) -> str:
    """`rq.get()` (requests.get): the call as written, and what it is when that differs."""
    canonical = canonical.removeprefix("builtins.")
    if raw in ("?", canonical):
        return f"`{canonical}()`"
    return f"`{raw}()` ({canonical})"


def check(ctx: CheckContext) -> Iterator[Finding]:
    rules = [r for r in ctx.enabled.values() if r.category == CATEGORY]
    if not rules:
        return
    matcher = BlockingMatcher(rules, ctx.extend_blocking_calls)
    graph = CallGraph(ctx.index)
    flagged_by_fn: dict[str, set[int]] = {}

    def classify(ref: FunctionRef, i: int, call: CallFact, sym: Symbol) -> Hit | None:
        if call.awaited or sym.kind not in ("external", "function"):
            return None
        if sym.kind == "function" and sym.name not in ctx.extend_blocking_calls:
            return None  # project code is walked, not matched, unless the team declared it blocking
        found = matcher.match(sym.name, call)
        if found is None:
            return None
        rule, group = found
        flagged = flagged_by_fn.setdefault(ref.full, set())
        if group.dedupe_receiver and call.receiver_origin in flagged:
            return None
        flagged.add(i)
        return Hit(rule.code, sym.name, group.hint)

    for full, ref in ctx.scoped_functions():
        fn = ref.function
        if not fn.is_async:
            continue
        role = ctx.app.label(full)
        seen: set[tuple[str, int]] = set()
        for i, call in enumerate(fn.calls):
            if call.awaited:
                continue
            hit = classify(ref, i, call, ctx.index.resolve(call.target))
            if hit is not None:
                if (hit.kind, call.span.line) in seen:
                    continue
                seen.add((hit.kind, call.span.line))
                yield ctx.finding(
                    hit.kind, ref.module, call.span, fn.qualname, hint=hit.data,
                    call=_call_text(call.raw, hit.call), role=role,
                    trace=[TraceStep(path=ref.module.path, line=call.span.line, function=fn.qualname, call=hit.call)],
                )
                continue
            for target in graph.sync_targets(call):
                reached = graph.reach(target, "blocking", classify)
                for kind, (sub_hit, path) in sorted(reached.items()):
                    if (kind, call.span.line) in seen:
                        continue
                    seen.add((kind, call.span.line))
                    callee = ctx.index.functions[target].function.qualname
                    first = TraceStep(path=ref.module.path, line=call.span.line, function=fn.qualname, call=callee)
                    chain = " -> ".join(f"`{s.call}()`" for s in [first, *path])
                    yield ctx.finding(
                        kind, ref.module, call.span, fn.qualname, hint=sub_hit.data,
                        call=chain, role=role, trace=[first, *path],
                    )
