"""SARIF 2.1.0, the way GitHub code scanning ingests it (``--output-format sarif``).

One run. ``tool.driver.rules`` lists every rule handed in (the enabled rules), so code scanning can
show the docs of rules that found nothing too; each result points at its rule by ``ruleId`` and
``ruleIndex``. Locations are repository-relative URIs against ``%SRCROOT%``; columns count Unicode
code points and ``endColumn`` is exclusive, as the findings' columns are. A transitive finding
carries its call chain twice: as ``relatedLocations`` (shown under the alert) and as a ``codeFlow``
(shown as the "path" in code scanning).
"""

from __future__ import annotations

import json
import re
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import quote

from fastapi_reviewer.catalog import Rule
from fastapi_reviewer.findings import FileError, Finding, Report
from fastapi_reviewer.report._fmt_common import (
    is_absolute,
    posix,
    severity_value,
    shows_trace,
    trace_chain,
    unique_fingerprints,
)

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/fastapi-review/fastapi-review"
SRCROOT = "%SRCROOT%"

LEVELS = {"error": "error", "warning": "warning", "info": "note"}
# GitHub code scanning's own severity scale for non-security alerts
PROBLEM_SEVERITY = {"error": "error", "warning": "warning", "info": "recommendation"}

_EMBEDDED_LINK = re.compile(r"\[[^\]]*\]\(")


def _message(text: str) -> dict[str, str]:
    """A SARIF message; brackets are escaped only where they would read as an embedded link."""
    if _EMBEDDED_LINK.search(text):
        text = text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
    return {"text": text}


def artifact_location(path: str) -> dict[str, str]:
    """``{"uri", "uriBaseId"}`` for a repository-relative path; a file URI for an absolute one."""
    if is_absolute(path):
        pure = PureWindowsPath(path) if PureWindowsPath(path).drive else PurePosixPath(path)
        return {"uri": pure.as_uri()}
    rel = posix(path)
    while rel.startswith("./"):
        rel = rel[2:]
    return {"uri": quote(rel, safe="/-._~!$&'()*+,;=@"), "uriBaseId": SRCROOT}


def _region(
    line: int, column: int | None = None, end_line: int | None = None, end_column: int | None = None
) -> dict[str, int]:
    start_line = max(1, line)
    region = {"startLine": start_line}
    if column is not None:
        region["startColumn"] = max(1, column)
    if end_line is not None:
        region["endLine"] = max(start_line, end_line)
    if end_column is not None and column is not None:
        end_col = max(1, end_column)
        if region.get("endLine", start_line) == start_line:
            end_col = max(end_col, region["startColumn"])
        region["endColumn"] = end_col
    return region


def _physical(path: str, region: dict[str, int]) -> dict[str, Any]:
    return {"artifactLocation": artifact_location(path), "region": region}


def _rule_descriptor(rule: Rule) -> dict[str, Any]:
    level = severity_value(rule.severity)
    help_text = f"{rule.docs.what.strip()}\n\n{rule.docs.why.strip()}"
    if rule.hint:
        help_text += f"\n\nFix: {rule.hint.strip()}"
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.docs.what.strip()},
        "help": {"text": help_text, "markdown": rule.markdown()},
        "helpUri": rule.url,
        "defaultConfiguration": {"level": LEVELS[level]},
        "properties": {"tags": [rule.category], "problem.severity": PROBLEM_SEVERITY[level]},
    }


def _descriptor_from_finding(finding: Finding) -> dict[str, Any]:
    """For a finding whose rule was not handed in: what the finding itself says about its rule."""
    level = severity_value(finding.severity)
    descriptor: dict[str, Any] = {
        "id": finding.code,
        "name": finding.name,
        "shortDescription": {"text": finding.name},
        "defaultConfiguration": {"level": LEVELS[level]},
        "properties": {"tags": [finding.category], "problem.severity": PROBLEM_SEVERITY[level]},
    }
    if finding.url:
        descriptor["helpUri"] = finding.url
    return descriptor


def _trace_parts(finding: Finding) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    related: list[dict[str, Any]] = []
    flow: list[dict[str, Any]] = []
    for i, step in enumerate(finding.trace):
        text = f"{step.function} calls {step.call}"
        physical = _physical(step.path, _region(step.line))
        related.append({"id": i + 1, "physicalLocation": physical, "message": _message(text)})
        flow.append({"location": {"physicalLocation": physical, "message": _message(text)}, "executionOrder": i + 1})
    code_flows = [{"message": _message(trace_chain(finding)), "threadFlows": [{"locations": flow}]}]
    return related, code_flows


def _result(finding: Finding, rule_index: int, fp: str, occurrence: int) -> dict[str, Any]:
    level = LEVELS[severity_value(finding.severity)]
    text = finding.message
    if finding.hint:
        text = f"{text}\nHint: {finding.hint}"
    location: dict[str, Any] = {
        "physicalLocation": _physical(
            finding.path, _region(finding.line, finding.column, finding.end_line, finding.end_column)
        )
    }
    if finding.function:
        location["logicalLocations"] = [{"name": finding.function, "kind": "function"}]
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": level,
        "message": _message(text),
        "locations": [location],
        "partialFingerprints": {"primaryLocationLineHash": f"{fp}:{occurrence}"},
    }
    if shows_trace(finding):
        related, code_flows = _trace_parts(finding)
        result["relatedLocations"] = related
        result["codeFlows"] = code_flows
    props: dict[str, Any] = {"category": finding.category}
    if finding.hint:
        props["hint"] = finding.hint
    result["properties"] = props
    return result


def _notification(error: FileError) -> dict[str, Any]:
    region = _region(error.line) if error.line else None
    physical: dict[str, Any] = {"artifactLocation": artifact_location(error.path)}
    if region:
        physical["region"] = region
    return {"level": "error", "message": _message(error.message), "locations": [{"physicalLocation": physical}]}


def build(report: Report, rules: dict[str, Rule], root: Path | None = None) -> dict[str, Any]:
    """The SARIF log as a dict (what :func:`render` serialises)."""
    descriptors: list[dict[str, Any]] = [_rule_descriptor(rules[code]) for code in sorted(rules)]
    index = {d["id"]: i for i, d in enumerate(descriptors)}
    for finding in report.findings:
        if finding.code not in index:
            index[finding.code] = len(descriptors)
            descriptors.append(_descriptor_from_finding(finding))
    results = [
        _result(f, index[f.code], fp, n) for f, (fp, n) in zip(report.findings, unique_fingerprints(report.findings))
    ]
    invocation: dict[str, Any] = {"executionSuccessful": True}
    if report.errors:
        invocation["toolExecutionNotifications"] = [_notification(e) for e in report.errors]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": report.tool.name,
                "version": report.tool.version,
                "semanticVersion": report.tool.version,
                "informationUri": INFORMATION_URI,
                "rules": descriptors,
            }
        },
        "invocations": [invocation],
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render(report: Report, rules: dict[str, Rule], root: Path) -> str:
    """The report as a SARIF 2.1.0 log (JSON text, ending with a newline)."""
    return json.dumps(build(report, rules, root), indent=2, ensure_ascii=False) + "\n"
