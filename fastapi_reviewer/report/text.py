"""The human report: findings grouped by file, the code line with the span marked, hint, trace.

Built from rich ``Text`` objects, never from markup strings, so `[...]` in code or messages is
printed as written.
"""

from __future__ import annotations

from collections import Counter
from itertools import groupby
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from fastapi_reviewer.catalog import Rule
from fastapi_reviewer.findings import Finding, Report

SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def _source(root: Path, path: str, cache: dict[str, list[str]]) -> list[str]:
    if path not in cache:
        try:
            cache[path] = (root / path).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            cache[path] = []
    return cache[path]


def _finding(console: Console, f: Finding, lines: list[str], show_source: bool) -> None:
    head = Text("  ")
    head.append(f"{f.line}:{f.column}".ljust(8), style="dim")
    head.append(f.severity.value.ljust(8), style=SEVERITY_STYLE[f.severity.value])
    head.append(f.code, style="bold")
    head.append(f" [{f.name}] ", style="dim")
    head.append(f.message)
    console.print(head)
    if show_source and 0 < f.line <= len(lines):
        code = lines[f.line - 1].expandtabs(4)
        gutter = str(f.line).rjust(6)
        console.print(Text(f"{gutter} | ", style="dim") + Text(code))
        start = max(f.column - 1, 0)
        end = f.end_column - 1 if f.end_line == f.line and f.end_column > f.column else len(code.rstrip())
        width = max(1, end - start)
        console.print(Text(" " * len(gutter) + " | ", style="dim") + Text(" " * start + "^" * width, style=SEVERITY_STYLE[f.severity.value]))
    if f.trace and len(f.trace) > 1:
        trace = Text("         trace: ", style="dim")
        for i, s in enumerate(f.trace):
            if i:
                trace.append(" -> ", style="dim")
            trace.append(f"{s.call}", style="bold")
            trace.append(f" ({s.path}:{s.line})", style="dim")
        console.print(trace)
    if f.hint:
        console.print(Text("         hint: ", style="dim") + Text(f.hint, style="green"))


def render(console: Console, report: Report, rules: dict[str, Rule], root: Path, show_source: bool = True, statistics: bool = False, quiet: bool = False) -> None:
    cache: dict[str, list[str]] = {}
    if not quiet:
        for path, group in groupby(report.findings, key=lambda f: f.path):
            console.print(Text(path, style="bold underline"))
            lines = _source(root, path, cache)
            for f in group:
                _finding(console, f, lines, show_source)
            console.print()
    if report.errors:
        console.print(Text(f"{len(report.errors)} file(s) could not be read:", style="bold red"))
        for e in report.errors:
            console.print(Text(f"  {e.path}" + (f":{e.line}" if e.line else "") + ": ", style="bold") + Text(e.message))
        console.print()
    if report.findings and (statistics or not quiet):
        statistics_table(console, report)
    summary = Text()
    n = report.summary.findings
    if n == 0:
        summary.append("No findings", style="bold green")
    else:
        summary.append(f"Found {n} finding{'s' if n != 1 else ''}", style="bold")
        parts = [f"{report.summary.by_severity[s]} {s}" for s in ("error", "warning", "info") if report.summary.by_severity.get(s)]
        summary.append(" (" + ", ".join(parts) + ")")
    summary.append(f" in {report.summary.files} file{'s' if report.summary.files != 1 else ''} checked.")
    console.print(summary)


def statistics_table(console: Console, report: Report) -> None:
    counts = Counter((f.code, f.name, f.severity.value) for f in report.findings)
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("count", justify="right")
    table.add_column("code")
    table.add_column("rule")
    table.add_column("severity")
    for (code, name, severity), count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        table.add_row(str(count), code, name, Text(severity, style=SEVERITY_STYLE[severity]))
    console.print(table)
    console.print()


def statistics_plain(report: Report) -> str:
    counts = Counter((f.code, f.name) for f in report.findings)
    rows = [f"{count:>5}  {code}  {name}" for (code, name), count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    return "\n".join(rows) + ("\n" if rows else "")
