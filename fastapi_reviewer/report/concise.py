"""`path:line:col: CODE [name] message`, one finding a line, like ruff's concise format."""

from __future__ import annotations

from pathlib import Path

from fastapi_reviewer.catalog import Rule
from fastapi_reviewer.findings import Report


def render(report: Report, rules: dict[str, Rule], root: Path) -> str:
    lines = [f"{f.path}:{f.line}:{f.column}: {f.code} [{f.name}] {f.message}" for f in report.findings]
    lines += [f"{e.path}:{e.line or 1}:1: error: {e.message}" for e in report.errors]
    return "\n".join(lines) + ("\n" if lines else "")
