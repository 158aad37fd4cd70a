"""Following calls from a coroutine into the project's own synchronous code.

A coroutine that calls ``services.fetch()`` runs ``fetch`` (and whatever it calls) on the event loop.
``CallGraph.reach`` walks those synchronous callees to any depth, once per function (memoised, cycles
cut), and reports what a classifier recognises along the way with the path that leads there.
Awaited calls and coroutine functions are not walked (their bodies are checked where they are
defined), and neither are references handed to offload helpers: only calls are edges.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi_reviewer.facts.model import EMPTY_MAP, CallFact
from fastapi_reviewer.findings import AllFields, TraceStep
from fastapi_reviewer.index import FunctionRef, ProjectIndex, Symbol


@dataclass(frozen=True, slots=True)
class Hit:
    kind: str  # what the classifier found, e.g. a rule code
    call: str  # the callable, as the trace should name it
    data: str = ""  # classifier detail (a hint)


Classifier = Callable[[FunctionRef, int, CallFact, Symbol], Hit | None]
_NOTHING: dict = EMPTY_MAP  # type: ignore[type-arg]
Edges = Callable[[CallFact], list[str]]  # the project functions a call leads into
Reach = dict[str, tuple[Hit, list[TraceStep]]]


class CallGraph:
    def __init__(self, index: ProjectIndex) -> None:
        self.index = index
        self._memo: dict[str, dict[str, Reach]] = {}  # key -> function -> what it reaches
        offload = set(index.types.offload)
        self._offload_decorators = offload

    def sync_targets(self, call: CallFact) -> list[str]:
        """Project functions a call runs synchronously, right here, on the caller's thread."""
        sym = self.index.resolve(call.target)
        if sym.kind == "function":
            return [sym.name] if self._runs_inline(sym.name) else []
        if sym.kind == "class":
            return self.targets_of_class(sym.name)
        return []

    def targets_of_class(self, name: str) -> list[str]:
        """What calling the project class runs: the first ``__init__`` along its MRO."""
        for cls in self.index.mro(name):
            init = f"{cls}.__init__"
            if init in self.index.functions:
                return [init] if self._runs_inline(init) else []
        return []

    def _runs_inline(self, full: str) -> bool:
        ref = self.index.functions.get(full)
        if ref is None or ref.function.is_async:
            return False
        for dec in ref.function.decorators:
            if self.index.resolve(dec.target).name in self._offload_decorators:
                return False
        return True

    def reach(self, full: str, key: str, classify: Classifier, edges: Edges | None = None) -> Reach:
        """What `classify` finds in `full` and its callees; `edges` replaces `sync_targets` (use its own `key`)."""
        return self._reach(full, key, classify, set(), edges or self.sync_targets)

    def _reach(self, full: str, key: str, classify: Classifier, stack: set[str], edges: Edges) -> Reach:
        memo = self._memo.get(key)
        if memo is None:
            memo = self._memo[key] = {}
        found = memo.get(full)
        if found is not None:
            return found
        ref = self.index.functions.get(full)
        if ref is None or full in stack:
            return {}
        stack.add(full)
        found: Reach = {}
        for i, call in enumerate(ref.function.calls):
            hit = classify(ref, i, call, self.index.resolve(call.target))
            if hit is not None:
                if hit.kind not in found:
                    found[hit.kind] = (hit, [_step(ref, call, hit.call)])
                continue
            for target in edges(call):
                for kind, (sub_hit, path) in self._reach(target, key, classify, stack, edges).items():
                    if kind not in found:
                        callee = self.index.functions[target].function.qualname
                        found[kind] = (sub_hit, [_step(ref, call, callee), *path])
        stack.discard(full)
        memo[full] = found or _NOTHING  # most functions reach nothing: one shared empty answer
        return memo[full]


def _step(ref: FunctionRef, call: CallFact, callee: str) -> TraceStep:
    # made only for the hops of a path found (not for every call walked); the values are ours
    return TraceStep.model_construct(_TRACE_FIELDS, path=ref.module.path, line=call.span.line, function=ref.function.qualname, call=callee)


# every field is given: one shared (never changed) set of names instead of one per step
_TRACE_FIELDS = AllFields(TraceStep.model_fields)
