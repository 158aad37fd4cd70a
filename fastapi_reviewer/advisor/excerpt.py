"""Numbered, redacted code excerpts around findings: what the model sees of the project's source."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from fastapi_reviewer.advisor.redact import redact_lines
from fastapi_reviewer.findings import Finding

CONTEXT_LINES = 8
MAX_EXCERPT_LINES = 60


@dataclass(frozen=True)
class Excerpt:
    path: str
    start: int  # first line shown, 1-based
    end: int  # last line shown
    text: str  # "  12 | code" lines, redacted
    scope: str  # "function get_weather" or "lines 6-22"

    def contains(self, start: int, end: int) -> bool:
        return self.start <= start <= end <= self.end


def resolve_source(root: Path, path: str) -> Path | None:
    """The file a finding's path names: relative to root (the scan's base), else as given."""
    candidate = Path(path)
    for option in ([candidate] if candidate.is_absolute() else [root / candidate, candidate]):
        if option.is_file():
            return option
    return None


class SourceCache:
    """Reads and parses each source file once per run."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lines: dict[str, list[str] | None] = {}
        self._trees: dict[str, ast.Module | None] = {}

    def lines(self, path: str) -> list[str] | None:
        if path not in self._lines:
            source = resolve_source(self.root, path)
            text: str | None = None
            if source is not None:
                try:
                    text = source.read_bytes().decode("utf-8", errors="replace")
                except OSError:
                    text = None
            self._lines[path] = text.splitlines() if text is not None else None
        return self._lines[path]

    def tree(self, path: str) -> ast.Module | None:
        if path not in self._trees:
            lines = self.lines(path)
            tree: ast.Module | None = None
            if lines is not None:
                try:
                    tree = ast.parse("\n".join(lines) + "\n")
                except (SyntaxError, ValueError):
                    tree = None
            self._trees[path] = tree
        return self._trees[path]


def _function_span(tree: ast.Module, line: int, name: str) -> tuple[int, int] | None:
    """Lines of the innermost def that encloses ``line``, preferring one named like ``name``."""
    wanted = name.rsplit(".", 1)[-1]
    best: tuple[int, int] | None = None
    best_named: tuple[int, int] | None = None
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        start = min([node.lineno] + [d.lineno for d in node.decorator_list])
        end = node.end_lineno or node.lineno
        if not start <= line <= end:
            continue
        span = (start, end)
        if best is None or span[1] - span[0] < best[1] - best[0]:
            best = span
        if node.name == wanted and (best_named is None or span[1] - span[0] < best_named[1] - best_named[0]):
            best_named = span
    return best_named or best


def _window(lo: int, hi: int, focus_start: int, focus_end: int, cap: int) -> tuple[int, int]:
    """At most ``cap`` lines of [lo, hi], centred on the focus lines."""
    if hi - lo + 1 <= cap:
        return lo, hi
    focus_end = min(focus_end, focus_start + cap - 1)
    spare = cap - (focus_end - focus_start + 1)
    start = max(lo, focus_start - spare // 2)
    end = min(hi, start + cap - 1)
    start = max(lo, end - cap + 1)
    return start, end


def build_excerpt(finding: Finding, sources: SourceCache, max_lines: int = MAX_EXCERPT_LINES) -> Excerpt | None:
    """The enclosing function of a finding (or ±8 lines), numbered with real line numbers, secrets redacted."""
    lines = sources.lines(finding.path)
    if not lines:
        return None
    total = len(lines)
    line = min(max(finding.line, 1), total)
    end_line = min(max(finding.end_line, line), total)
    span: tuple[int, int] | None = None
    if finding.function:
        tree = sources.tree(finding.path)
        if tree is not None:
            span = _function_span(tree, line, finding.function)
    if span is not None:
        lo, hi = span
        scope = f"function {finding.function}"
    else:
        lo, hi = max(1, line - CONTEXT_LINES), min(total, end_line + CONTEXT_LINES)
        scope = f"lines {lo}-{hi}"
    start, end = _window(lo, min(hi, total), line, end_line, max_lines)
    if (start, end) != (lo, hi) and span is not None:
        scope += f" (lines {start}-{end} of {lo}-{hi})"
    shown = redact_lines(lines[start - 1 : end])
    width = len(str(end))
    text = "\n".join(f"{n:>{width}} | {src}".rstrip() for n, src in zip(range(start, end + 1), shown))
    return Excerpt(path=finding.path, start=start, end=end, text=text, scope=scope)
