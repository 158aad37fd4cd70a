"""Baselines: record today's findings, then report only the new ones.

A baseline is a JSON file (``--write-baseline FILE``)::

    {"version": 1, "tool": {"name": "fastapi-review", "version": "0.1.0"},
     "entries": [{"fingerprint": "...", "code": "FR101", "path": "app/api.py", "function": "get_weather",
                  "message": "...", "line": 14}]}

Findings are matched by fingerprint (rule + path + enclosing function + normalised text of the reported
line; no line number), so a line shift or an edit elsewhere in the file does not bring a baselined
finding back. The comparison is a multiset: two identical findings with one fingerprint need two
entries, and a third copy of the line is one new finding. ``line`` is informational; when copies
compete for fewer entries, the ones nearest the recorded lines count as known.

Paths inside the file are relative to the project root (the folder with pyproject.toml or .git that
the scan indexes from; POSIX), and the fingerprints are computed with those paths, so a baseline works
from any working directory and wherever the file itself lives.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from fastapi_reviewer import __version__
from fastapi_reviewer.engine import SourceLines
from fastapi_reviewer.errors import BaselineError
from fastapi_reviewer.findings import Finding, fingerprint

BASELINE_VERSION = 1


@dataclass(frozen=True)
class Entry:
    fingerprint: str
    code: str
    path: str
    function: str | None
    message: str
    line: int | None = None


@dataclass
class Comparison:
    """The findings of a run split against a baseline."""

    new: list[Finding]
    known: list[Finding]
    fixed: list[Entry]  # entries of files and rules in this run that no finding matched any more

    def summary(self, path: str) -> str:
        return (
            f"baseline {path}: {len(self.new)} new finding(s) reported, {len(self.known)} known finding(s) not shown, "
            f"{len(self.fixed)} fixed since the baseline"
        )


@dataclass
class Baseline:
    path: Path
    entries: list[Entry] = field(default_factory=list)
    tool_version: str | None = None

    def compare(self, findings: list[Finding], cwd: Path, root: Path, scope_paths: set[str], scope_codes: set[str]) -> Comparison:
        """Split `findings` into new and known; `fixed` counts only entries this run could have seen.

        `scope_paths` are the display paths of the files the run reviewed and `scope_codes` the enabled
        rules: an entry for a file outside the run (pre-commit names a few files) is not "fixed".
        `root` is the project root the entries' paths are relative to.
        """
        root = root.resolve()
        lines = SourceLines(cwd)
        by_key: dict[str, list[Finding]] = defaultdict(list)
        for finding in findings:
            by_key[key_for(finding, cwd, root, lines)].append(finding)
        remaining: dict[str, list[Entry]] = defaultdict(list)
        for entry in self.entries:
            remaining[entry.fingerprint].append(entry)
        new: list[Finding] = []
        known: list[Finding] = []
        for key, group in by_key.items():
            entries = remaining.pop(key, [])
            if len(entries) >= len(group):
                known.extend(group)
                remaining[key] = _unmatched(entries, group)
                continue
            matched = _nearest(group, entries)
            known.extend(f for f in group if id(f) in matched)
            new.extend(f for f in group if id(f) not in matched)
        scope = {_rebase(p, cwd, root) for p in scope_paths}
        fixed = [e for group in remaining.values() for e in group if e.path in scope and e.code in scope_codes]
        return Comparison(
            new=sorted(new, key=Finding.sort_key),
            known=sorted(known, key=Finding.sort_key),
            fixed=sorted(fixed, key=lambda e: (e.path, e.line or 0, e.code)),
        )


def _unmatched(entries: list[Entry], group: list[Finding]) -> list[Entry]:
    """The entries left over once every finding of the group took the one nearest its line."""
    left = list(entries)
    for finding in sorted(group, key=lambda f: f.line):
        best = min(left, key=lambda e: abs((e.line or finding.line) - finding.line))
        left.remove(best)
    return left


def _nearest(group: list[Finding], entries: list[Entry]) -> set[int]:
    """ids of the findings that take the (fewer) entries: each entry goes to the nearest free finding."""
    taken: set[int] = set()
    pairs = sorted(
        ((abs((e.line or f.line) - f.line), i, j) for i, e in enumerate(entries) for j, f in enumerate(group)),
    )
    used_entries: set[int] = set()
    for _, i, j in pairs:
        if i in used_entries or id(group[j]) in taken:
            continue
        used_entries.add(i)
        taken.add(id(group[j]))
    return taken


def _rebase(display_path: str, cwd: Path, base: Path) -> str:
    """A finding's path (relative to the working directory) relative to the project root."""
    absolute = (cwd / display_path).resolve()
    try:
        return absolute.relative_to(base).as_posix()
    except ValueError:
        return absolute.as_posix()


def key_for(finding: Finding, cwd: Path, base: Path, lines: SourceLines | None = None) -> str:
    """The finding's fingerprint, computed with its path relative to the project root."""
    rel = _rebase(finding.path, cwd, base)
    if rel == finding.path and finding.fingerprint:
        return finding.fingerprint
    lines = lines or SourceLines(cwd)
    return fingerprint(finding.code, rel, finding.function, lines.get(finding.path, finding.line))


def write_baseline(path: Path, findings: list[Finding], cwd: Path, root: Path) -> int:
    """Record `findings` (paths relative to the project `root`); returns how many entries were written."""
    base = root.resolve()
    lines = SourceLines(cwd)
    entries = [
        {
            "fingerprint": key_for(f, cwd, base, lines),
            "code": f.code,
            "path": _rebase(f.path, cwd, base),
            "function": f.function,
            "message": f.message,
            "line": f.line,
        }
        for f in sorted(findings, key=Finding.sort_key)
    ]
    data = {
        "version": BASELINE_VERSION,
        "tool": {"name": "fastapi-review", "version": __version__},
        "entries": entries,
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        raise BaselineError(f"{path}: cannot write the baseline: {exc.strerror or exc}") from exc
    return len(entries)


def load_baseline(path: Path) -> Baseline:
    if not path.exists():
        raise BaselineError(f"{path}: baseline file not found (create it with --write-baseline {path})")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BaselineError(f"{path}: cannot read the baseline: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BaselineError(f"{path}: not a baseline file (invalid JSON: {exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
        raise BaselineError(f"{path}: not a baseline file (expected an object with an `entries` list)")
    version = data.get("version")
    if version != BASELINE_VERSION:
        raise BaselineError(f"{path}: unsupported baseline version {version!r} (this release reads version {BASELINE_VERSION})")
    entries: list[Entry] = []
    for i, raw in enumerate(data["entries"]):
        if not isinstance(raw, dict) or not all(isinstance(raw.get(k), str) for k in ("fingerprint", "code", "path")):
            raise BaselineError(f"{path}: entry {i} needs string `fingerprint`, `code` and `path`")
        line = raw.get("line")
        entries.append(
            Entry(
                fingerprint=raw["fingerprint"],
                code=raw["code"],
                path=raw["path"],
                function=raw.get("function") if isinstance(raw.get("function"), str) else None,
                message=str(raw.get("message", "")),
                line=line if isinstance(line, int) and not isinstance(line, bool) else None,
            )
        )
    tool = data.get("tool")
    tool_version = tool.get("version") if isinstance(tool, dict) else None
    return Baseline(path=path, entries=entries, tool_version=tool_version if isinstance(tool_version, str) else None)
