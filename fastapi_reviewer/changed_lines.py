"""Which lines changed since a git revision (`--diff-base REF`), and which findings touch them.

The working tree (staged and unstaged edits included) is compared with REF by
``git diff --unified=0 --no-color --no-ext-diff -M REF -- '<project root>/*.py'``: every line on the ``+`` side
of a hunk is changed; deleted lines leave nothing to report on. Untracked files that git does not
ignore are new in full. Renames are detected, so moving a file does not make all of it new.

``REF...`` (trailing three dots) means the merge base of REF and HEAD: ``--diff-base origin/main...``
reviews what the current branch changed, whatever landed on main since it forked.

A finding counts as changed when any of these lines changed:

- a line of its own span (the reported call, the whole statement for multi-line calls);
- a line of its trace: the call sites and the offending call in other functions, in any file. A route
  that was not edited but now reaches ``requests.get()`` because a helper it calls was edited is
  reported: the edit introduced the problem, and the route's call site is where it shows;
- the ``def`` line of its enclosing function, when the change made it ``async def``: that makes every
  blocking call in the body a finding without touching those lines. Other edits of a ``def`` line
  (a new parameter, a comment) or of its decorators do not bring the whole body's findings back.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from fastapi_reviewer.errors import DiffBaseError
from fastapi_reviewer.facts.model import Span
from fastapi_reviewer.findings import Finding

ASYNC_DEF = re.compile(r"^\s*async\s+def\s+(\w+)")
HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(?P<start>\d+)(?:,(?P<count>\d+))? @@")
ALL = -1  # marker in ChangedLines.lines: every line of the file is new


@dataclass
class ChangedLines:
    ref: str  # the revision as given
    commit: str  # what it resolved to
    lines: dict[Path, set[int]] = field(default_factory=dict)  # absolute path -> changed lines ({ALL}: new file)
    became_async: dict[Path, set[str]] = field(default_factory=dict)  # functions whose `def` became `async def`

    def changed(self, path: Path, line: int, end_line: int | None = None) -> bool:
        rows = self.lines.get(path.resolve())
        if not rows:
            return False
        if ALL in rows:
            return True
        return any(n in rows for n in range(line, (end_line or line) + 1))

    def files(self) -> int:
        return len(self.lines)


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, timeout=120, check=False)
    except FileNotFoundError as exc:
        raise DiffBaseError("--diff-base needs git, and no `git` executable was found") from exc
    except subprocess.TimeoutExpired as exc:
        raise DiffBaseError(f"`git {' '.join(args[:2])}` timed out") from exc


def _text(out: bytes) -> str:
    return out.decode("utf-8", errors="surrogateescape")


def resolve_ref(ref: str, cwd: Path) -> tuple[Path, str]:
    """The work tree's top folder and the commit REF names (merge base with HEAD for ``REF...``)."""
    top = _git(["rev-parse", "--show-toplevel"], cwd)
    if top.returncode != 0:
        raise DiffBaseError(f"--diff-base {ref}: {cwd} is not inside a git work tree")
    toplevel = Path(_text(top.stdout).strip()).resolve()
    if not ref.strip() or ref.startswith("-"):
        raise DiffBaseError(f"--diff-base {ref!r}: not a git revision")
    merge_base = ref.endswith("...")
    name = ref[:-3] if merge_base else ref
    found = _git(["rev-parse", "--verify", "--quiet", f"{name}^{{commit}}"], toplevel)
    if found.returncode != 0:
        raise DiffBaseError(f"--diff-base {ref}: unknown git revision {name!r} (is it fetched? CI clones are often shallow)")
    commit = _text(found.stdout).strip()
    if merge_base:
        base = _git(["merge-base", commit, "HEAD"], toplevel)
        if base.returncode != 0:
            raise DiffBaseError(f"--diff-base {ref}: {name} and HEAD have no merge base (fetch more history)")
        commit = _text(base.stdout).strip()
    return toplevel, commit


def parse_diff(text: str, toplevel: Path) -> tuple[dict[Path, set[int]], dict[Path, set[str]]]:
    """From ``git diff --unified=0`` output: added/changed line numbers (new side) per file, and the
    functions whose ``def`` line became ``async def`` (``async def f`` added, not removed)."""
    changed: dict[Path, set[int]] = {}
    added: dict[Path, set[str]] = {}
    removed: dict[Path, set[str]] = {}
    path: Path | None = None
    in_hunk = False
    for line in text.splitlines():
        if line.startswith("diff --git "):
            path, in_hunk = None, False
            continue
        if not in_hunk and line.startswith("+++ "):
            name = line[4:].rstrip("\t")
            if name == "/dev/null":
                path = None
                continue
            name = _unquote(name)
            path = (toplevel / name.removeprefix("b/")).resolve()
            changed.setdefault(path, set())
            continue
        if path is None:
            continue
        match = HUNK.match(line)
        if match:
            in_hunk = True
            start = int(match["start"])
            count = int(match["count"]) if match["count"] is not None else 1
            changed[path].update(range(start, start + count))
            continue
        if in_hunk and line[:1] in "+-":
            found = ASYNC_DEF.match(line[1:])
            if found:
                (added if line[0] == "+" else removed).setdefault(path, set()).add(found.group(1))
    became = {p: names - removed.get(p, set()) for p, names in added.items()}
    return {p: rows for p, rows in changed.items() if rows}, {p: names for p, names in became.items() if names}


def _unquote(name: str) -> str:
    """git quotes paths with unusual characters: "b/caf\\303\\251.py"."""
    if not (name.startswith('"') and name.endswith('"')):
        return name
    body = name[1:-1]
    out = bytearray()
    i = 0
    escapes = {"n": b"\n", "t": b"\t", '"': b'"', "\\": b"\\", "a": b"\a", "b": b"\b", "f": b"\f", "r": b"\r", "v": b"\v"}
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            digits = body[i + 1 : i + 4]
            if len(digits) == 3 and all(c in "01234567" for c in digits):
                out.append(int(digits, 8))
                i += 4
                continue
            out += escapes.get(nxt, nxt.encode())
            i += 2
            continue
        out += ch.encode()
        i += 1
    return out.decode("utf-8", errors="surrogateescape")


def changed_lines(ref: str, project_root: Path) -> ChangedLines:
    """Lines of the work tree below `project_root` that are new or changed since `ref`."""
    toplevel, commit = resolve_ref(ref, project_root)
    # Python files only (in a pathspec without magic, `*` also matches `/`: every folder below the root)
    pathspecs = [str(project_root / "*.py"), str(project_root / "*.pyi")]
    diff = _git(
        ["-c", "core.quotePath=true", "diff", "--unified=0", "--no-color", "--no-ext-diff", "-M",
         "--src-prefix=a/", "--dst-prefix=b/", commit, "--", *pathspecs],
        toplevel,
    )
    if diff.returncode != 0:
        raise DiffBaseError(f"--diff-base {ref}: git diff failed: {_text(diff.stderr).strip()}")
    lines, became_async = parse_diff(_text(diff.stdout), toplevel)
    untracked = _git(["ls-files", "-z", "--others", "--exclude-standard", "--", *pathspecs], toplevel)
    if untracked.returncode == 0:
        for name in _text(untracked.stdout).split("\0"):
            if name:
                lines[(toplevel / name).resolve()] = {ALL}
    return ChangedLines(ref=ref, commit=commit, lines=lines, became_async=became_async)


def def_spans(result) -> dict[tuple[str, str], Span]:  # type: ignore[no-untyped-def]
    """(display path, function qualname) -> the span of its `def`'s name, from a ScanResult's index
    (read only for the findings that ask: a span's first read resolves its module's positions)."""
    found: dict[tuple[str, str], Span] = {}
    for ref in result.index.functions.values():
        fn = ref.function
        found[(ref.module.path, fn.qualname)] = fn.span
    return found


def touches(finding: Finding, changed: ChangedLines, cwd: Path, defs: dict[tuple[str, str], Span]) -> bool:
    """Does the finding involve a changed line? Its span, any step of its trace, or its function's
    def line when the change made it `async def`."""
    if changed.changed(cwd / finding.path, finding.line, finding.end_line):
        return True
    for step in finding.trace:
        if changed.changed(cwd / step.path, step.line):
            return True
    if finding.function:
        path = (cwd / finding.path).resolve()
        def_span = defs.get((finding.path, finding.function))
        name = finding.function.rsplit(".", 1)[-1]
        if def_span is not None and name in changed.became_async.get(path, set()) and changed.changed(path, def_span.line):
            return True
    return False


def split(findings: list[Finding], changed: ChangedLines, cwd: Path, defs: dict[tuple[str, str], Span]) -> tuple[list[Finding], list[Finding]]:
    """(findings on changed code, the others)."""
    kept: list[Finding] = []
    dropped: list[Finding] = []
    for finding in findings:
        (kept if touches(finding, changed, cwd, defs) else dropped).append(finding)
    return kept, dropped
