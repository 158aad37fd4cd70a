"""What every check receives, and the one way it turns a location into a Finding."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from fastapi_reviewer.catalog import Catalog, Rule
from fastapi_reviewer.facts.model import CallFact, ModuleFacts, Span
from fastapi_reviewer.fastapi_model import AppModel
from fastapi_reviewer.findings import AllFields, Finding, TraceStep
from fastapi_reviewer.index import FunctionRef, ProjectIndex
from fastapi_reviewer.testfiles import is_test_path


@dataclass
class CheckContext:
    index: ProjectIndex
    app: AppModel
    catalog: Catalog
    enabled: dict[str, Rule]  # code -> rule, the selected rules only
    extend_blocking_calls: dict[str, str] = field(default_factory=dict)
    pydantic_major: int | None = None
    root: Path | None = None  # the project root (pyproject.toml, requirements*.txt live here)
    # the module paths findings are reported for (a pre-commit run names a few files); None: all.
    # Checks still see the whole project (callees, roles, callers) but only start from roots in scope.
    scope: frozenset[str] | None = None

    def in_scope(self, module: ModuleFacts) -> bool:
        return self.scope is None or module.path in self.scope

    _scoped: list[tuple[str, FunctionRef]] | None = field(default=None, init=False, repr=False, compare=False)

    def scoped_functions(self) -> Iterable[tuple[str, FunctionRef]]:
        """(full name, ref) of the functions in scope, in index order (found once: every check
        family asks)."""
        if self.scope is None:
            return self.index.functions.items()
        if self._scoped is None:
            scope = self.scope
            self._scoped = [(full, ref) for full, ref in self.index.functions.items() if ref.module.path in scope]
        return self._scoped

    def named_files_lack(self, found: Callable[[CallFact], bool]) -> bool:
        """A run that names files, none of whose (non-test) functions makes a call ``found``
        accepts: a rule reported where such a call is needs no walk of the whole project then."""
        return self.scope is not None and not any(
            found(call) for _, ref in self.scoped_functions() if not is_test_path(ref.module.path) for call in ref.function.calls
        )

    def scoped_modules(self) -> Iterator[ModuleFacts]:
        scope = self.scope
        for module in self.index.modules.values():
            if scope is None or module.path in scope:
                yield module

    def wants(self, *codes: str) -> bool:
        enabled = self.enabled
        for code in codes:
            if code in enabled:
                return True
        return False

    def finding(
        self,
        code: str,
        module: ModuleFacts,
        span: Span,
        function: str | None,
        hint: str | None = None,
        trace: list[TraceStep] | None = None,
        **fields: str,
    ) -> Finding:
        rule = self.enabled[code]
        # our own values, already of the right types: no validation, and every field given, so
        # all findings share one set of field names (a set per finding is ~700 bytes)
        return Finding.model_construct(
            _FINDING_FIELDS,
            code=rule.code,
            name=rule.name,
            category=rule.category,
            severity=rule.severity,
            path=module.path,
            line=span.line,
            column=span.column,
            end_line=span.end_line,
            end_column=span.end_column,
            message=rule.message.format(function=function or "<module>", **fields),
            function=function,
            hint=hint or rule.hint,
            trace=trace or [],
            fingerprint="",  # the engine's, once the finding survives suppression
            url=rule.url,
        )


class CallPaths:
    """The shortest call paths a breadth-first walk over the project found, built only when a
    finding reports one: ``via[f]`` is (caller, index of the call in the caller's calls) for the
    call that reached ``f`` first, None for where the walk started.  The walk reads call targets
    only; a path reads the spans of the calls on it (facts/lazy.py: a few bodies decoded)."""

    def __init__(self, index: ProjectIndex) -> None:
        self.index = index
        self.via: dict[str, tuple[str, int] | None] = {}
        self._paths: dict[str, tuple[TraceStep, ...]] = {}

    def path(self, full: str) -> tuple[TraceStep, ...]:
        """Call steps from the start of the walk down to (not including) the function."""
        chain: list[str] = []
        while full not in self._paths and self.via[full] is not None:
            chain.append(full)
            full = self.via[full][0]  # type: ignore[index]
        path = self._paths.setdefault(full, ())
        for callee_full in reversed(chain):
            caller, i = self.via[callee_full]  # type: ignore[misc]
            ref = self.index.functions[caller]
            path = (*path, step(ref, ref.function.calls[i].span.line, self.index.functions[callee_full].function.qualname))
            self._paths[callee_full] = path
        return path


def step(ref: FunctionRef, line: int, call: str) -> TraceStep:
    return TraceStep.model_construct(_TRACE_FIELDS, path=ref.module.path, line=line, function=ref.function.qualname, call=call)


Check = Callable[[CheckContext], Iterable[Finding]]
_FINDING_FIELDS = AllFields(Finding.model_fields)
_TRACE_FIELDS = AllFields(TraceStep.model_fields)
