"""Autofix: libcst rewrites attached to findings by rule code, plus opt-in refactorings.

    run = run_fixes(findings, cwd, unsafe=False)      # plan: parse each file once, apply all its edits
    print(run.diff())                                 # --diff: a unified diff, nothing written
    run.write(cwd)                                    # --fix

Each file with something to fix is parsed once; every edit for it is applied in one libcst pass,
then the imports the edits need are added (`AddImportsVisitor`), and the result must compile
(`compile()` also rejects an `await` outside an `async def`). When it does not, edits are retried
one by one and those that break the file are dropped (and reported). The CLI scans again after
writing, so what it reports afterwards is the truth, not the plan.

Fixes (`FIXES`, by rule code): FR102 `time.sleep` -> `await asyncio.sleep` (safe); FR101 sync
`requests`/`httpx` call -> `await asyncio.to_thread(...)` / `run_in_threadpool` (unsafe); FR405
`self.retry()` -> `raise self.retry()` (safe); FR601 CORS `*` with credentials -> drop
`allow_credentials=True` (unsafe). Refactorings (`REFACTORS`, `--refactor NAME`): annotated-depends.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor, ImportItem, RemoveImportsVisitor

from fastapi_reviewer.findings import Finding
from fastapi_reviewer.fixes.annotated import AnnotatedDepends
from fastapi_reviewer.fixes.base import Edit, FileContext, Fix, Refactor
from fastapi_reviewer.fixes.cors import CorsCredentialsFix
from fastapi_reviewer.fixes.offload import OffloadHttpFix
from fastapi_reviewer.fixes.retry import RaiseRetryFix
from fastapi_reviewer.fixes.sleep import SleepFix

FIXES: dict[str, Fix] = {fix.code: fix for fix in (SleepFix(), OffloadHttpFix(), RaiseRetryFix(), CorsCredentialsFix())}
REFACTORS: dict[str, Refactor] = {r.name: r for r in (AnnotatedDepends(),)}

__all__ = ["FIXES", "REFACTORS", "Applied", "FileFix", "FixRun", "fix_for", "run_fixes"]


def fix_for(finding: Finding) -> Fix | None:
    """The fix registered for the finding's rule, if its cheap pre-check passes."""
    fix = FIXES.get(finding.code)
    return fix if fix is not None and fix.applies(finding) else None


@dataclass
class Applied:
    path: str
    line: int
    code: str  # rule code, or the refactoring's name
    title: str
    safe: bool


@dataclass
class FileFix:
    path: str  # display path (relative to cwd)
    before: str
    after: str
    data: bytes  # `after`, encoded as the file was
    applied: list[Applied] = field(default_factory=list)


@dataclass
class FixRun:
    files: list[FileFix] = field(default_factory=list)
    hidden_unsafe: int = 0  # findings an unsafe fix would change, not applied without --unsafe-fixes
    problems: list[str] = field(default_factory=list)  # edits dropped, files that could not be parsed

    @property
    def applied(self) -> list[Applied]:
        return [a for f in self.files for a in f.applied]

    @property
    def fixes(self) -> int:
        return sum(1 for a in self.applied if not a.code.islower())

    @property
    def refactorings(self) -> int:
        return sum(1 for a in self.applied if a.code.islower())

    def diff(self) -> str:
        return "".join(unified_diff(f.path, f.before, f.after) for f in self.files)

    def write(self, cwd: Path) -> None:
        for f in self.files:
            (cwd / f.path).write_bytes(f.data)


def unified_diff(path: str, before: str, after: str) -> str:
    """A `git apply -p1` compatible diff of one file."""
    out = []
    for line in difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{path}", f"b/{path}"):
        if line.endswith("\n"):
            out.append(line)
        else:
            out.append(line + "\n\\ No newline at end of file\n")
    return "".join(out)


@dataclass
class _Planned:
    edit: Edit
    code: str
    line: int
    safe: bool


def run_fixes(
    findings: list[Finding],
    cwd: Path,
    unsafe: bool = False,
    refactors: tuple[str, ...] | list[str] = (),
    refactor_paths: set[str] | None = None,
) -> FixRun:
    """Plan every applicable fix (and refactoring, on `refactor_paths`) for the findings given."""
    unknown = [name for name in refactors if name not in REFACTORS]
    if unknown:
        raise ValueError(f"unknown refactoring {unknown[0]!r}; expected one of {', '.join(sorted(REFACTORS))}")
    by_path: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        if fix_for(finding) is not None:
            by_path[finding.path].append(finding)
    if refactors:
        for path in refactor_paths or set():
            by_path.setdefault(path, [])
    run = FixRun()
    for path in sorted(by_path):
        _fix_file(run, path, by_path[path], cwd, unsafe, refactors)
    return run


def _fix_file(run: FixRun, path: str, findings: list[Finding], cwd: Path, unsafe: bool, refactors) -> None:  # type: ignore[no-untyped-def]
    try:
        data = (cwd / path).read_bytes()
        ctx = FileContext(path, data)
    except (OSError, cst.ParserSyntaxError, UnicodeDecodeError) as exc:
        run.problems.append(f"{path}: not fixed: cannot parse: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
        return
    planned: list[_Planned] = []
    targets: set[int] = set()
    for finding in sorted(findings, key=Finding.sort_key):
        fix = fix_for(finding)
        assert fix is not None
        edit = fix.edit(ctx, finding)
        if edit is None or id(edit.target) in targets:
            continue
        if not fix.safe and not unsafe:
            run.hidden_unsafe += 1
            continue
        targets.add(id(edit.target))
        planned.append(_Planned(edit, fix.code, finding.line, fix.safe))
    for name in refactors:
        for edit in REFACTORS[name].edits(ctx):
            if id(edit.target) not in targets:
                targets.add(id(edit.target))
                planned.append(_Planned(edit, name, ctx.span(edit.target).start.line, True))
    if not planned:
        return
    result = _apply(ctx, planned)
    if result is None:  # together they break the file: keep the edits that compile, one at a time
        kept: list[_Planned] = []
        for item in planned:
            if _apply(ctx, [*kept, item]) is not None:
                kept.append(item)
            else:
                run.problems.append(f"{path}:{item.line}: {item.code} not fixed: the rewrite would not compile")
        planned = kept
        result = _apply(ctx, planned) if planned else None
    if result is None:
        return
    module = result
    run.files.append(
        FileFix(
            path=path,
            before=ctx.source,
            after=module.code,
            data=module.bytes,
            applied=[Applied(path, p.line, p.code, p.edit.title, p.safe) for p in sorted(planned, key=lambda p: p.line)],
        )
    )


class _Apply(cst.CSTTransformer):
    def __init__(self, planned: list[_Planned]) -> None:
        super().__init__()
        self.by_node: dict[int, list[Edit]] = defaultdict(list)
        for item in planned:
            self.by_node[id(item.edit.target)].append(item.edit)

    def on_leave(self, original_node, updated_node):  # type: ignore[no-untyped-def, override]
        for edit in self.by_node.get(id(original_node), ()):
            updated_node = edit.replace(updated_node)
        return updated_node


def _apply(ctx: FileContext, planned: list[_Planned]) -> cst.Module | None:
    """The module with the edits applied and their imports added, or None if it would not compile."""
    module = ctx.module.visit(_Apply(planned))
    assert isinstance(module, cst.Module)
    wanted = {imp for item in planned for imp in item.edit.imports}
    if wanted:
        items = [ImportItem(imp.module, imp.name) for imp in sorted(wanted, key=lambda i: (i.module, i.name or ""))]
        module = AddImportsVisitor(CodemodContext(), items).transform_module(module)
    unused = {imp for item in planned for imp in item.edit.unused}
    if unused:
        gone = [(imp.module, imp.name, imp.alias) for imp in sorted(unused, key=lambda i: (i.module, i.name or "", i.alias or ""))]
        module = RemoveImportsVisitor(CodemodContext(), gone).transform_module(module)
    try:
        compile(module.code, ctx.path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return None
    return module
