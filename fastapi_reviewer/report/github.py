"""GitHub Actions workflow commands (``--output-format github``): one annotation per finding.

``::error file=app/api.py,line=14,endLine=14,col=12,endColumn=41,title=FR101 blocking-http-call::…``

Severity maps error -> ``error``, warning -> ``warning``, info -> ``notice``. Columns are given only
for a single-line range (GitHub ignores them otherwise). The message carries the hint and, for a
transitive finding, the call chain (``get_weather -> fetch_forecast -> requests.get``) on lines of
its own. Files that could not be analysed are reported as warnings.
"""

from __future__ import annotations

from pathlib import Path

from fastapi_reviewer.catalog import Rule
from fastapi_reviewer.findings import FileError, Finding, Report
from fastapi_reviewer.report._fmt_common import posix, severity_value, trace_chain

COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(text: str) -> str:
    """Escape a command's message (the part after ``::``)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value (``file=``, ``title=`` …)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, properties: list[tuple[str, str | int]], message: str) -> str:
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties)
    return f"::{name} {props}::{escape_data(message)}" if props else f"::{name}::{escape_data(message)}"


def _finding_line(finding: Finding) -> str:
    props: list[tuple[str, str | int]] = [("file", posix(finding.path)), ("line", max(1, finding.line))]
    end_line = max(finding.line, finding.end_line)
    props.append(("endLine", max(1, end_line)))
    if end_line == finding.line:
        props.append(("col", max(1, finding.column)))
        props.append(("endColumn", max(1, finding.column, finding.end_column)))
    props.append(("title", f"{finding.code} {finding.name}"))
    message = finding.message
    chain = trace_chain(finding)
    if chain:
        message += f"\nTrace: {chain}"
    if finding.hint:
        message += f"\nHint: {finding.hint}"
    return command(COMMANDS[severity_value(finding.severity)], props, message)


def _error_line(error: FileError) -> str:
    props: list[tuple[str, str | int]] = [("file", posix(error.path))]
    if error.line:
        props.append(("line", error.line))
    props.append(("title", "fastapi-review could not analyse this file"))
    return command("warning", props, error.message)


def render(report: Report, rules: dict[str, Rule], root: Path) -> str:
    """One workflow command per finding and per file error, one per line."""
    lines = [_finding_line(f) for f in report.findings] + [_error_line(e) for e in report.errors]
    return "".join(line + "\n" for line in lines)
