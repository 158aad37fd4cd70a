"""Which findings go to the model: by product stage, most severe first, at most ``max_findings``."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi_reviewer.findings import Finding, Severity, fingerprint

# at the MVP stage only what breaks a service under load is worth the reviewer's time
MVP_WARNING_CATEGORIES = frozenset({"async-blocking", "connection", "task"})


def finding_id(finding: Finding) -> str:
    """The id advice is tied to: the finding's fingerprint (computed here if the scanner left it empty)."""
    if finding.fingerprint:
        return finding.fingerprint
    return fingerprint(finding.code, finding.path, finding.function, f"{finding.line}:{finding.column}:{finding.message}")


def in_stage(finding: Finding, stage: str) -> bool:
    if stage == "enterprise":
        return True
    if finding.severity is Severity.error:
        return True
    if finding.severity is Severity.warning:
        return stage == "growth" or finding.category in MVP_WARNING_CATEGORIES
    return False


def priority_key(finding: Finding) -> tuple[int, str, int, int, str]:
    return (-finding.severity.rank, finding.path, finding.line, finding.column, finding.code)


@dataclass
class Selection:
    chosen: list[Finding]  # most severe first
    total: int
    excluded_by_stage: list[Finding] = field(default_factory=list)
    dropped_by_limit: list[Finding] = field(default_factory=list)


def select_findings(findings: list[Finding], stage: str, max_findings: int) -> Selection:
    eligible = sorted((f for f in findings if in_stage(f, stage)), key=priority_key)
    excluded = [f for f in findings if not in_stage(f, stage)]
    return Selection(
        chosen=eligible[:max_findings],
        total=len(findings),
        excluded_by_stage=excluded,
        dropped_by_limit=eligible[max_findings:],
    )
