"""Autofix: golden before/after files for every fix and refactoring, and the CLI's --fix/--unsafe-fixes/--diff.

tests/fixes/golden/<case>/before.py is reviewed as app.py of a temporary project; a case named
`FRxxx-...` runs that rule's fix (unsafe ones with unsafe=True), any other name is a refactoring.
The fixed code must equal after.py, compile, and no longer trigger the rule when reviewed again,
except on lines marked `# unfixable` in after.py, which must still be reported.
Regenerate after.py with FASTAPI_REVIEW_UPDATE_GOLDEN=1 (and read the diff).
"""

from __future__ import annotations

import os
import re
import subprocess
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fastapi_reviewer.catalog import load_catalog
from fastapi_reviewer.cli import app
from fastapi_reviewer.config import Settings
from fastapi_reviewer.engine import scan
from fastapi_reviewer.findings import Finding, Severity
from fastapi_reviewer.fixes import FIXES, REFACTORS, run_fixes

GOLDEN = Path(__file__).parent / "fixes" / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if p.is_dir())
UPDATE = bool(os.environ.get("FASTAPI_REVIEW_UPDATE_GOLDEN"))


def _project(tmp_path: Path, source: str, name: str = "app.py") -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'golden'\n")
    (tmp_path / name).write_text(source)
    return tmp_path


def _findings(root: Path) -> list[Finding]:
    result = scan([root], Settings(cache=False), cwd=root)
    assert not result.report.errors, result.report.errors
    return result.report.findings


def _marked(text: str, marker: str = "# unfixable") -> list[int]:
    return [n for n, line in enumerate(text.splitlines(), start=1) if marker in line]


# where a rule that is not in the catalog (yet: colleagues write FR405 and FR601) will point
SYNTHETIC = {"FR405": re.compile(r"\w+\.retry\("), "FR601": re.compile(r"allow_origins")}


def _synthetic(code: str, source: str) -> list[Finding]:
    """Findings where a rule not in the catalog yet would put them: at each match of its pattern."""
    found = []
    for n, line in enumerate(source.splitlines(), start=1):
        for match in SYNTHETIC[code].finditer(line):
            found.append(
                Finding(code=code, name="synthetic", category="synthetic", severity=Severity.error, path="app.py",
                        line=n, column=match.start() + 1, end_line=n, end_column=match.end() + 1, message="synthetic")
            )
    return found


def test_every_fix_and_refactoring_has_a_golden_case():
    codes = {case.split("-", 1)[0] for case in CASES if case.startswith("FR")}
    refactors = {case for case in CASES if not case.startswith("FR")}
    assert codes == set(FIXES)
    assert refactors == set(REFACTORS)


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str, tmp_path: Path) -> None:
    folder = GOLDEN / case
    before = (folder / "before.py").read_text()
    root = _project(tmp_path, before)
    findings = _findings(root)
    code = case.split("-", 1)[0] if case.startswith("FR") else None
    in_catalog = code is not None and load_catalog().find(code) is not None
    if code is not None:
        fix = FIXES[code]
        targets = [f for f in findings if f.code == code]
        if not in_catalog:
            assert code in SYNTHETIC, f"{code} is not in the rule catalog"
            targets = _synthetic(code, before)
            findings = findings + targets
        assert targets, f"{case}: the rule reports nothing in before.py"
        if not fix.safe:
            cautious = run_fixes(findings, root, unsafe=False)
            assert not cautious.files and cautious.hidden_unsafe > 0, "an unsafe fix applied without --unsafe-fixes"
        run = run_fixes(findings, root, unsafe=not fix.safe)
    else:
        run = run_fixes(findings, root, refactors=[case], refactor_paths={"app.py"})
    assert not run.problems, run.problems
    assert len(run.files) == 1, f"{case}: nothing was fixed"
    after = run.files[0].after
    golden = folder / "after.py"
    if UPDATE or not golden.exists():
        golden.write_text(after)
    assert after == golden.read_text(), f"{case}: fixed code differs from {golden} (FASTAPI_REVIEW_UPDATE_GOLDEN=1 rewrites it)"
    compile(after, "app.py", "exec", dont_inherit=True)

    run.write(root)
    assert (root / "app.py").read_text() == after
    again = _findings(root)
    if code is not None:
        if in_catalog:
            remaining = sorted(f.line for f in again if f.code == code)
            assert remaining == _marked(after), f"{case}: still reported after the fix: {remaining}"
            assert not run_fixes(again, root, unsafe=True).files, "fixing twice changed the code again"
        others_before = sorted((f.code, f.function) for f in findings if f.code != code)
        others_after = sorted((f.code, f.function) for f in again if f.code != code)
        assert others_after == others_before, "the fix changed other rules' findings"
    else:
        assert sorted((f.code, f.function) for f in again) == sorted((f.code, f.function) for f in findings)
        assert not run_fixes([], root, refactors=[case], refactor_paths={"app.py"}).files, "refactoring twice changed the code"


# ---------------------------------------------------------------------------------------------- CLI
MIXED = """
import time

import requests


async def handler(url: str):
    time.sleep(1)
    return requests.get(url, timeout=3).json()
"""


def _cli(root: Path, *args: str):
    old = Path.cwd()
    os.chdir(root)
    try:
        return CliRunner().invoke(app, ["check", "--no-cache", *args], catch_exceptions=False)
    finally:
        os.chdir(old)


def test_fix_applies_safe_fixes_and_exit_code_reflects_what_remains(tmp_path):
    root = _project(tmp_path, textwrap.dedent(MIXED).lstrip())
    result = _cli(root, ".", "--fix", "--format", "concise")
    text = (root / "app.py").read_text()
    assert "await asyncio.sleep(1)" in text and "time.sleep" not in text and "import asyncio" in text
    assert "requests.get(url, timeout=3)" in text  # unsafe: not without --unsafe-fixes
    assert result.exit_code == 1
    assert "FR101" in result.stdout and "FR102" not in result.stdout
    assert "applied 1 fix(es) in 1 file(s); 1 finding(s) remain (1 more with --unsafe-fixes)" in result.stderr


def test_unsafe_fixes_fix_everything(tmp_path):
    root = _project(tmp_path, textwrap.dedent(MIXED).lstrip())
    result = _cli(root, ".", "--unsafe-fixes")
    assert result.exit_code == 0, result.output
    text = (root / "app.py").read_text()
    assert "(await asyncio.to_thread(requests.get, url, timeout=3)).json()" in text
    assert "applied 2 fix(es)" in result.stderr and "0 finding(s) remain" in result.stderr


def test_diff_writes_nothing_and_prints_a_patch_that_applies(tmp_path):
    source = textwrap.dedent(MIXED).lstrip()
    root = _project(tmp_path, source)
    result = _cli(root, ".", "--diff", "--unsafe-fixes")
    assert result.exit_code == 1
    assert (root / "app.py").read_text() == source
    patch = result.stdout
    assert patch.startswith("--- a/app.py\n+++ b/app.py\n")
    assert "+    await asyncio.sleep(1)" in patch
    assert "would apply 2 fix(es) in 1 file(s)" in result.stderr
    (root / "fix.patch").write_text(patch)
    applied = subprocess.run(["git", "apply", "fix.patch"], cwd=root, capture_output=True, text=True, check=False)
    assert applied.returncode == 0, applied.stderr
    assert _cli(root, ".").exit_code == 0


def test_diff_on_clean_code_is_empty_and_exits_zero(tmp_path):
    root = _project(tmp_path, "async def f():\n    return 1\n")
    result = _cli(root, ".", "--diff")
    assert result.exit_code == 0 and result.stdout == ""


def test_suppressed_findings_are_not_fixed(tmp_path):
    root = _project(tmp_path, "import time\n\n\nasync def f():\n    time.sleep(1)  # noqa: FR102\n")
    result = _cli(root, ".", "--fix")
    assert result.exit_code == 0
    assert "time.sleep(1)  # noqa: FR102" in (root / "app.py").read_text()


def test_refactor_option(tmp_path):
    source = "from fastapi import Depends\n\n\ndef get_db(): ...\n\n\ndef route(db: int = Depends(get_db)):\n    return db\n"
    root = _project(tmp_path, source)
    assert _cli(root, ".", "--refactor", "annotated-depends").exit_code == 2  # needs --fix or --diff
    assert _cli(root, ".", "--fix", "--refactor", "nope").exit_code == 2
    result = _cli(root, ".", "--fix", "--refactor", "annotated-depends")
    assert result.exit_code == 0
    assert "def route(db: Annotated[int, Depends(get_db)]):" in (root / "app.py").read_text()
    assert "1 refactoring(s)" in result.stderr


def test_fix_that_would_not_compile_is_dropped(tmp_path):
    # a parameter default is evaluated outside the coroutine: `await` there would not compile
    from fastapi_reviewer.fixes.base import FileContext

    ctx = FileContext("x.py", "import time\nasync def f():\n    def g(x=time.sleep(1)):\n        pass\n")
    import libcst as cst

    calls = [n for n in ctx.positions if isinstance(n, cst.Call)]
    assert calls and not ctx.can_await(calls[0])


def test_crlf_and_encoding_are_kept(tmp_path):
    source = "# -*- coding: latin-1 -*-\r\nimport time\r\n\r\n\r\nasync def f():\r\n    s = 'caf\xe9'\r\n    time.sleep(1)\r\n"
    root = tmp_path
    (root / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (root / "app.py").write_bytes(source.encode("latin-1"))
    assert _cli(root, ".", "--fix").exit_code == 0
    data = (root / "app.py").read_bytes()
    assert b"await asyncio.sleep(1)\r\n" in data and b"caf\xe9" in data and b"\n" not in data.replace(b"\r\n", b"")
