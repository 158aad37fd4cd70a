"""Advice for humans (Markdown under the static report) and for machines (the json ``advice`` section)."""

from __future__ import annotations

from typing import Any

from fastapi_reviewer.advisor.models import PRIORITY_RANK, Advice
from fastapi_reviewer.advisor.select import finding_id
from fastapi_reviewer.findings import Finding, Report

ADVICE_JSON_VERSION = 1


def _fence(code: str) -> str:
    """A code fence longer than any backtick run inside the snippet."""
    longest = run = 0
    for ch in code:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    return "`" * max(3, longest + 1)


def render_advice_markdown(advice: Advice, report: Report) -> str:
    """The reviewer's notes as Markdown: the summary, then one section per finding, high priority first."""
    by_id: dict[str, Finding] = {finding_id(f): f for f in report.findings}
    parts = ["## Reviewer's notes", ""]
    if advice.summary.strip():
        parts += [advice.summary.strip(), ""]
    items = sorted(advice.items, key=lambda it: PRIORITY_RANK[it.priority])
    if not items:
        parts += ["_No notes on individual findings._", ""]
    for item in items:
        finding = by_id.get(item.fingerprint)
        if finding is not None:
            where = f"{finding.path}:{finding.line}"
            if finding.function:
                where += f" in `{finding.function}`"
            title = f"### {item.priority.upper()} · {finding.code} {finding.name} · {where}"
        else:
            title = f"### {item.priority.upper()} · finding `{item.fingerprint}`"
        parts += [title, "", item.explanation.strip(), ""]
        fix = item.fix.strip("\n")
        if fix.strip():
            label = "Suggested fix"
            if item.lines is not None:
                start, end = item.lines
                label += f" (replaces line {start})" if start == end else f" (replaces lines {start}-{end})"
            fence = _fence(fix)
            parts += [f"{label}:", "", f"{fence}python", fix, fence, ""]
    return "\n".join(parts).rstrip() + "\n"


def advice_to_json(advice: Advice) -> dict[str, Any]:
    """The ``advice`` section of the json report: items keyed to findings by fingerprint."""
    return {
        "version": ADVICE_JSON_VERSION,
        "summary": advice.summary,
        "items": [
            {
                "fingerprint": item.fingerprint,
                "priority": item.priority,
                "explanation": item.explanation,
                "fix": item.fix,
                "lines": list(item.lines) if item.lines is not None else None,
            }
            for item in sorted(advice.items, key=lambda it: PRIORITY_RANK[it.priority])
        ],
    }
