"""Output formats. Each module renders a Report; only `text` uses rich."""

from __future__ import annotations

import importlib
from pathlib import Path

from fastapi_reviewer.catalog import Rule
from fastapi_reviewer.findings import Report

MACHINE_FORMATS = {
    "concise": "fastapi_reviewer.report.concise",
    "json": "fastapi_reviewer.report.json",
    "sarif": "fastapi_reviewer.report.sarif",
    "github": "fastapi_reviewer.report.github",
    "gitlab": "fastapi_reviewer.report.gitlab",
    "junit": "fastapi_reviewer.report.junit",
    "markdown": "fastapi_reviewer.report.markdown",
    "html": "fastapi_reviewer.report.html",
}


def render_plain(fmt: str, report: Report, rules: dict[str, Rule], root: Path) -> str:
    """Every format but `text`, as a string written without rich."""
    module = importlib.import_module(MACHINE_FORMATS[fmt])
    return module.render(report, rules, root)
