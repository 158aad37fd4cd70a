"""The versioned json contract (docs/output.md): stable keys, no rich, no wrapping."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi_reviewer.catalog import Rule
from fastapi_reviewer.findings import Report


def render(report: Report, rules: dict[str, Rule], root: Path) -> str:
    data = report.model_dump(mode="json", exclude_none=False)
    for finding in data["findings"]:
        finding.pop("hint", None) if finding.get("hint") is None else None
    if data.get("advice") is None:
        data.pop("advice", None)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
