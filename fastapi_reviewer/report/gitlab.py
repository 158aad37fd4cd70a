"""GitLab Code Quality report (``--output-format gitlab``), the CodeClimate-style JSON array.

Each issue has ``description``, ``check_name``, ``fingerprint``, ``severity`` and
``location {path, lines {begin, end}}``. The fingerprint is what GitLab uses to tell new issues from
fixed ones across pipelines, so it must be unique within the report and must not move with the
line: it is the finding's own (line-independent) fingerprint, and a second finding with the same
fingerprint gets a stable derivative of it (by occurrence, not by line).

Severities: error -> ``major``, warning -> ``minor``, info -> ``info``. Files that could not be
analysed are listed as ``minor`` issues of check ``fastapi-review/file-error``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from fastapi_reviewer.catalog import Rule
from fastapi_reviewer.findings import FileError, Finding, Report
from fastapi_reviewer.report._fmt_common import (
    derived_fingerprint,
    posix,
    severity_value,
    trace_chain,
    unique_fingerprints,
)

SEVERITIES = {"error": "major", "warning": "minor", "info": "info"}
ENGINE = "fastapi-review"


def _issue(finding: Finding, fp: str) -> dict[str, Any]:
    description = f"{finding.code} {finding.message}"
    chain = trace_chain(finding)
    if chain:
        description += f" (via {chain})"
    line = max(1, finding.line)
    return {
        "type": "issue",
        "engine_name": ENGINE,
        "description": description,
        "check_name": f"{finding.code} {finding.name}",
        "fingerprint": fp,
        "severity": SEVERITIES[severity_value(finding.severity)],
        "location": {"path": posix(finding.path), "lines": {"begin": line, "end": max(line, finding.end_line)}},
    }


def _error_issue(error: FileError) -> dict[str, Any]:
    fp = hashlib.sha256(f"file-error\x1f{posix(error.path)}".encode()).hexdigest()[:20]
    return {
        "type": "issue",
        "engine_name": ENGINE,
        "description": f"fastapi-review could not analyse this file: {error.message}",
        "check_name": "fastapi-review/file-error",
        "fingerprint": fp,
        "severity": "minor",
        "location": {"path": posix(error.path), "lines": {"begin": max(1, error.line or 1)}},
    }


def build(report: Report) -> list[dict[str, Any]]:
    issues = [
        _issue(f, derived_fingerprint(fp, n))
        for f, (fp, n) in zip(report.findings, unique_fingerprints(report.findings))
    ]
    issues += [_error_issue(e) for e in report.errors]
    # a derived fingerprint could in theory meet another finding's own one: keep them unique anyway
    seen: set[str] = set()
    for issue in issues:
        fp = issue["fingerprint"]
        n = 1
        while issue["fingerprint"] in seen:
            n += 1
            issue["fingerprint"] = derived_fingerprint(fp, n + 1000)
        seen.add(issue["fingerprint"])
    return issues


def render(report: Report, rules: dict[str, Rule], root: Path) -> str:
    """The report as a GitLab Code Quality JSON array (ending with a newline)."""
    return json.dumps(build(report), indent=2, ensure_ascii=False) + "\n"
