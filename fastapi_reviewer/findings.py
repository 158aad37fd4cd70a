"""The result types every stage exchanges: findings, their traces, file errors, the report."""

from __future__ import annotations

import enum
import hashlib

from pydantic import BaseModel, Field


class Severity(str, enum.Enum):
    error = "error"
    warning = "warning"
    info = "info"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1}[self.value]


class AllFields(set):  # type: ignore[type-arg]
    """The field-name set of a model built with every field given (``model_construct``): one object
    shared by all findings or trace steps instead of a set each (~700 bytes per finding).  It keeps
    every name: adding is a no-op (pydantic adds on assignment and in model_copy), removing is refused."""

    def add(self, name: str) -> None:
        assert name in self

    def update(self, *names: object) -> None:
        pass

    def __copy__(self) -> AllFields:
        return self

    def _refuse(self, *args: object) -> None:
        raise TypeError("the shared field set keeps every name")

    discard = remove = clear = pop = difference_update = intersection_update = symmetric_difference_update = _refuse  # type: ignore[assignment]
    __isub__ = __iand__ = __ixor__ = __ior__ = _refuse  # type: ignore[assignment]


class TraceStep(BaseModel):
    """One hop of a call chain, from the coroutine down to the offending call."""

    path: str
    line: int
    function: str
    call: str


class Finding(BaseModel):
    code: str
    name: str
    category: str
    severity: Severity
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    message: str
    function: str | None = None
    hint: str | None = None
    trace: list[TraceStep] = Field(default_factory=list)
    fingerprint: str = ""
    url: str = ""

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.column, self.code)


class FileError(BaseModel):
    path: str
    line: int | None = None
    message: str


class ToolInfo(BaseModel):
    name: str = "fastapi-review"
    version: str


class Summary(BaseModel):
    files: int
    findings: int
    by_severity: dict[str, int]


def fingerprint(code: str, path: str, function: str | None, snippet: str) -> str:
    """A line-independent identity: rule, file, enclosing function and the normalised code."""
    norm = " ".join(snippet.split())
    raw = "\x1f".join([code, path, function or "<module>", norm])
    return hashlib.sha256(raw.encode()).hexdigest()[:20]


class Report(BaseModel):
    """The whole result of a scan: the json output contract (version 1, see docs/output.md)."""

    version: int = 1
    tool: ToolInfo
    findings: list[Finding]
    errors: list[FileError] = Field(default_factory=list)
    summary: Summary
    advice: dict | None = None  # filled by the LLM step (--llm); absent otherwise

    @classmethod
    def build(cls, version: str, files: int, findings: list[Finding], errors: list[FileError]) -> Report:
        by_severity: dict[str, int] = {}
        for f in findings:
            by_severity[f.severity.value] = by_severity.get(f.severity.value, 0) + 1
        return cls(
            tool=ToolInfo(version=version),
            findings=sorted(findings, key=Finding.sort_key),
            errors=sorted(errors, key=lambda e: (e.path, e.line or 0)),
            summary=Summary(files=files, findings=len(findings), by_severity=by_severity),
        )
