"""The bundled demo app: every planted problem is found, nothing else is reported."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi_reviewer.catalog import load_catalog
from fastapi_reviewer.config import Settings
from fastapi_reviewer.engine import scan

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _scan():
    result = scan([EXAMPLES], Settings(cache=False), cwd=EXAMPLES)
    assert not result.report.errors
    return result.report.findings


def test_findings_match_the_planted_problems():
    expected = json.loads((EXAMPLES / "expected_findings.json").read_text())
    implemented = {r.code for r in load_catalog().rules}
    planted = {(e["path"], e["line"], e["code"]) for e in expected["planted"] if e["code"] in implemented}
    found = {(f.path, f.line, f.code) for f in _scan()}
    assert found == planted


def test_clean_look_alikes_are_not_reported():
    expected = json.loads((EXAMPLES / "expected_findings.json").read_text())
    found = {(f.path, f.line) for f in _scan()}
    for entry in expected["clean"]:
        assert (entry["path"], entry["line"]) not in found, entry


def test_transitive_findings_carry_the_trace_to_the_helper():
    expected = json.loads((EXAMPLES / "expected_findings.json").read_text())
    by_site = {(f.path, f.line, f.code): f for f in _scan()}
    for entry in expected["planted"]:
        key = (entry["path"], entry["line"], entry["code"])
        if "trace" not in entry or key not in by_site:
            continue
        last = by_site[key].trace[-1]
        assert (last.path, last.line) == (entry["trace"]["path"], entry["trace"]["line"]), key
