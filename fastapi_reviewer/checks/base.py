"""What every check receives, and the one way it turns a location into a Finding."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from fastapi_reviewer.catalog import Catalog, Rule
from fastapi_reviewer.facts.model import ModuleFacts, Span
from fastapi_reviewer.fastapi_model import AppModel
from fastapi_reviewer.findings import Finding, TraceStep
from fastapi_reviewer.index import FunctionRef, ProjectIndex


@dataclass
class CheckContext:
    index: ProjectIndex
    app: AppModel
    catalog: Catalog
    enabled: dict[str, Rule]  # code -> rule, the selected rules only
    extend_blocking_calls: dict[str, str] = field(default_factory=dict)
    pydantic_major: int | None = None
    root: Path | None = None  # the project root (pyproject.toml, requirements*.txt live here)

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
        return Finding(
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
            url=rule.url,
        )


def step(ref: FunctionRef, line: int, call: str) -> TraceStep:
    return TraceStep(path=ref.module.path, line=line, function=ref.function.qualname, call=call)


Check = Callable[[CheckContext], Iterable[Finding]]
