"""Helpers shared by the machine/CI formats and the HTML report (private to ``report/``).

Everything here is pure: it reads source files for excerpts and nothing else.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from fastapi_reviewer.catalog import Rule
from fastapi_reviewer.findings import Finding, Severity, fingerprint

SEVERITIES: tuple[str, ...] = ("error", "warning", "info")

# Characters XML 1.0 cannot carry at all (not even as character references).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def severity_value(severity: Severity | str) -> str:
    return severity.value if isinstance(severity, Severity) else str(severity)


def shows_trace(finding: Finding) -> bool:
    """Whether the finding's trace says more than its location: a chain of two hops or more.

    A direct finding carries a one-step trace (the coroutine calls the blocking function right
    there); the formats show a trace only for transitive findings.
    """
    return len(finding.trace) > 1


def trace_chain(finding: Finding) -> str:
    """The call chain of a transitive finding: ``route -> service.fetch -> requests.get``.

    Empty when the finding has no trace worth showing (see :func:`shows_trace`).
    """
    if not shows_trace(finding):
        return ""
    hops = [finding.trace[0].function] + [step.call for step in finding.trace]
    return " -> ".join(hops)


def stable_fingerprint(finding: Finding) -> str:
    """The finding's fingerprint, or one computed the same way when the scanner left it empty."""
    if finding.fingerprint:
        return finding.fingerprint
    return fingerprint(finding.code, finding.path, finding.function, finding.message)


def unique_fingerprints(findings: Iterable[Finding]) -> list[tuple[str, int]]:
    """``(fingerprint, occurrence)`` per finding, occurrence counting from 1 among equal fingerprints.

    Two findings share a fingerprint when the same code appears twice in one function; the
    occurrence (in report order, i.e. by position) tells them apart without using the line number.
    """
    seen: dict[str, int] = {}
    out: list[tuple[str, int]] = []
    for finding in findings:
        fp = stable_fingerprint(finding)
        seen[fp] = seen.get(fp, 0) + 1
        out.append((fp, seen[fp]))
    return out


def derived_fingerprint(fp: str, occurrence: int) -> str:
    """``fp`` itself for the first occurrence, a stable hash of ``fp`` and the occurrence after that."""
    if occurrence <= 1:
        return fp
    return hashlib.sha256(f"{fp}\x1f{occurrence}".encode()).hexdigest()[: max(len(fp), 20)]


def is_absolute(path: str) -> bool:
    return PurePosixPath(path).is_absolute() or PureWindowsPath(path).is_absolute()


def posix(path: str) -> str:
    return path.replace("\\", "/")


def xml_safe(text: str) -> str:
    """Replace characters XML 1.0 cannot represent (control characters, lone surrogates) with U+FFFD."""
    return _XML_INVALID.sub("\ufffd", text)


def rule_for(finding: Finding, rules: dict[str, Rule]) -> Rule | None:
    return rules.get(finding.code)


def by_severity(findings: Iterable[Finding]) -> dict[str, int]:
    counts = {s: 0 for s in SEVERITIES}
    for f in findings:
        counts[severity_value(f.severity)] = counts.get(severity_value(f.severity), 0) + 1
    return counts


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


class SourceCache:
    """Reads the files findings point at, once each; a missing or unreadable file has no lines."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lines: dict[str, list[str] | None] = {}

    def lines(self, path: str) -> list[str] | None:
        if path not in self._lines:
            self._lines[path] = self._read(path)
        return self._lines[path]

    def _read(self, path: str) -> list[str] | None:
        try:
            data = (self.root / path).read_bytes()
        except (OSError, ValueError):
            return None
        text = data.decode("utf-8", errors="replace")
        text = text.removeprefix("\ufeff")
        return text.splitlines()


@dataclass(frozen=True)
class ExcerptLine:
    number: int
    text: str
    in_range: bool  # the line is part of the finding's range
    # for a line inside the range, the 0-based character span to mark (start, end); None = whole line
    mark: tuple[int, int] | None = None


def excerpt(source: SourceCache, finding: Finding, context: int = 2, max_lines: int = 12) -> list[ExcerptLine]:
    """The finding's lines with ``context`` lines either side (empty when the file cannot be read).

    A long multi-line range is cut to ``max_lines`` lines of the range, counted from its start.
    """
    lines = source.lines(finding.path)
    if not lines:
        return []
    start = max(1, finding.line)
    end = max(start, finding.end_line)
    if start > len(lines):
        return []
    end = min(end, len(lines), start + max_lines - 1)
    first = max(1, start - context)
    last = min(len(lines), end + context)
    out: list[ExcerptLine] = []
    for n in range(first, last + 1):
        text = lines[n - 1]
        in_range = start <= n <= end
        mark: tuple[int, int] | None = None
        if in_range and finding.line == finding.end_line and finding.end_column > finding.column:
            lo = min(max(0, finding.column - 1), len(text))
            hi = min(max(lo, finding.end_column - 1), len(text))
            if hi > lo:
                mark = (lo, hi)
        out.append(ExcerptLine(n, text, in_range, mark))
    return out
