"""Findings and trace steps made by the checks share one field-name set (memory) and still behave
like any pydantic model: assignment, model_copy, json, pickling."""

from __future__ import annotations

import pickle
from pathlib import Path

from fastapi_reviewer.config import Settings
from fastapi_reviewer.engine import scan

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_findings_from_a_scan_share_their_field_set_and_stay_usable() -> None:
    findings = scan([EXAMPLES], Settings(cache=False), cwd=EXAMPLES).report.findings
    assert len(findings) > 2 and all(f.fingerprint for f in findings)
    assert len({id(f.model_fields_set) for f in findings}) == 1
    steps = [s for f in findings for s in f.trace]
    assert steps and len({id(s.model_fields_set) for s in steps}) < len(steps)  # shared by the steps the checks build
    first = findings[0]
    copy = first.model_copy(update={"line": first.line + 1})
    assert copy.line == first.line + 1 and first.line == findings[0].line
    first.hint = "changed"
    assert first.hint == "changed" and "hint" in first.model_fields_set
    again = pickle.loads(pickle.dumps(first))
    assert again == first and again.model_dump(exclude_unset=True) == first.model_dump()
