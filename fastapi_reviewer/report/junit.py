"""JUnit XML (``--output-format junit``) for CI test-report views (GitLab, Jenkins, Azure, …).

``<testsuites>`` holds one ``<testsuite>`` per rule (the default) or per file. Every finding is a
failing ``<testcase>`` (``<failure type="FR101" message="…">`` with the details as text, plus
``file``/``line`` attributes that annotating actions read). Grouped by rule, a rule that was run and
found nothing gets one passing test case, so the report shows what was checked; grouped by file, a
clean run is one passing test case. Files that could not be analysed are ``<error>`` test cases in a
suite of their own. No timestamps or host names: the output depends on the report only.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from fastapi_reviewer.catalog import Rule
from fastapi_reviewer.findings import FileError, Finding, Report
from fastapi_reviewer.report._fmt_common import posix, severity_value, shows_trace, trace_chain, xml_safe

SUITE_PREFIX = "fastapi-review"


def _el(parent: ET.Element, tag: str, attrs: dict[str, str | int] | None = None, text: str | None = None) -> ET.Element:
    el = ET.SubElement(parent, tag, {k: xml_safe(str(v)) for k, v in (attrs or {}).items()})
    if text is not None:
        el.text = xml_safe(text)
    return el


def _details(finding: Finding) -> str:
    lines = [
        (
            f"{posix(finding.path)}:{finding.line}:{finding.column}: {finding.code} [{severity_value(finding.severity)}] "
            f"{finding.message}"
        )
    ]
    if finding.function:
        lines.append(f"in: {finding.function}")
    if shows_trace(finding):
        lines.append(f"trace: {trace_chain(finding)}")
        for step in finding.trace:
            lines.append(f"  {posix(step.path)}:{step.line} {step.function} -> {step.call}")
    if finding.hint:
        lines.append(f"hint: {finding.hint}")
    if finding.url:
        lines.append(f"docs: {finding.url}")
    return "\n".join(lines) + "\n"


def _case(suite: ET.Element, finding: Finding, classname: str) -> None:
    case = _el(
        suite,
        "testcase",
        {
            "name": f"{finding.code} {posix(finding.path)}:{finding.line}:{finding.column}",
            "classname": classname,
            "file": posix(finding.path),
            "line": finding.line,
            "time": "0",
        },
    )
    _el(case, "failure", {"type": finding.code, "message": finding.message}, _details(finding))


def _suite(parent: ET.Element, name: str, tests: int, failures: int, errors: int = 0) -> ET.Element:
    return _el(
        parent,
        "testsuite",
        {"name": name, "tests": tests, "failures": failures, "errors": errors, "skipped": 0, "time": "0"},
    )


def _passing(suite: ET.Element, name: str, classname: str) -> None:
    _el(suite, "testcase", {"name": name, "classname": classname, "time": "0"})


def _by_rule(root_el: ET.Element, findings: list[Finding], rules: dict[str, Rule]) -> None:
    groups: dict[str, list[Finding]] = {code: [] for code in rules}
    for f in findings:
        groups.setdefault(f.code, []).append(f)
    for code in sorted(groups):
        items = groups[code]
        rule = rules.get(code)
        name = rule.name if rule else items[0].name
        classname = f"{SUITE_PREFIX}.{code}.{name}"
        suite = _suite(root_el, f"{code} {name}", max(1, len(items)), len(items))
        if not items:
            _passing(suite, f"{code} {name}: no findings", classname)
        for f in items:
            _case(suite, f, classname)


def _by_file(root_el: ET.Element, findings: list[Finding]) -> None:
    groups: dict[str, list[Finding]] = {}
    for f in findings:
        groups.setdefault(posix(f.path), []).append(f)
    if not groups:
        suite = _suite(root_el, SUITE_PREFIX, 1, 0)
        _passing(suite, "no findings", SUITE_PREFIX)
    for path in sorted(groups):
        items = groups[path]
        suite = _suite(root_el, path, len(items), len(items))
        for f in items:
            _case(suite, f, f"{SUITE_PREFIX}.{path}")


def _errors(root_el: ET.Element, errors: Iterable[FileError]) -> None:
    errors = list(errors)
    if not errors:
        return
    suite = _suite(root_el, f"{SUITE_PREFIX} file errors", len(errors), 0, len(errors))
    for e in errors:
        attrs: dict[str, str | int] = {
            "name": f"analyse {posix(e.path)}",
            "classname": f"{SUITE_PREFIX}.file-errors",
            "file": posix(e.path),
            "time": "0",
        }
        if e.line:
            attrs["line"] = e.line
        case = _el(suite, "testcase", attrs)
        where = f"{posix(e.path)}:{e.line}" if e.line else posix(e.path)
        _el(case, "error", {"type": "file-error", "message": e.message}, f"{where}: {e.message}\n")


def render(report: Report, rules: dict[str, Rule], root: Path, group_by: Literal["rule", "file"] = "rule") -> str:
    """The report as JUnit XML; ``rules`` are the rules that ran (each gets a suite when grouped by rule)."""
    top = ET.Element("testsuites", {"name": SUITE_PREFIX})
    if group_by == "rule":
        _by_rule(top, report.findings, rules)
        if not len(top):
            suite = _suite(top, SUITE_PREFIX, 1, 0)
            _passing(suite, "no findings", SUITE_PREFIX)
    elif group_by == "file":
        _by_file(top, report.findings)
    else:
        raise ValueError(f"group_by must be 'rule' or 'file', not {group_by!r}")
    _errors(top, report.errors)
    suites = list(top)
    top.set("tests", str(sum(int(s.get("tests", "0")) for s in suites)))
    top.set("failures", str(sum(int(s.get("failures", "0")) for s in suites)))
    top.set("errors", str(sum(int(s.get("errors", "0")) for s in suites)))
    top.set("time", "0")
    ET.indent(top, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(top, encoding="unicode") + "\n"
