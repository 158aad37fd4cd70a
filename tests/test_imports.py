"""Lazy imports: what each command pulls in, checked in a fresh interpreter through sys.modules.

`--version`, `rules`, a cached scan and a pre-commit run import neither openai nor jinja2 (the LLM
advisor and the html report are opt-in), and a fully cached scan does not import libcst (nothing to
parse).  The progress bar (rich.progress) only ever appears on a terminal.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

HEAVY = ("openai", "jinja2", "libcst", "rich.progress", "rich.console", "httpx")

_PROBE = """
import json, sys
from fastapi_reviewer.cli import main
code = 0
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
sys.stdout.flush()
sys.stderr.write("\\n@@" + json.dumps({"code": code, "modules": [m for m in %r if m in sys.modules]}) + "\\n")
""" % (HEAVY,)

ROUTER = """
import time
from fastapi import APIRouter

router = APIRouter()


@router.get("/ping")
async def ping():
    time.sleep(1)
    return {"ok": True}
"""


def probe(args: list[str], cwd: Path) -> tuple[int, set[str], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FASTAPI_REVIEW_", "OPENAI"))}
    proc = subprocess.run([sys.executable, "-c", _PROBE, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=300)
    marker = proc.stderr.rsplit("@@", 1)
    assert len(marker) == 2, proc.stderr
    info = json.loads(marker[1])
    return info["code"], set(info["modules"]), marker[0]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lazy")
    (root / "pyproject.toml").write_text("[project]\nname = 'lazy'\n")
    (root / "app").mkdir()
    (root / "app" / "__init__.py").write_text("")
    for i in range(5):
        (root / "app" / f"r{i}.py").write_text(textwrap.dedent(ROUTER).lstrip())
    return root


def test_version_imports_nothing_heavy(project):
    code, modules, _ = probe(["--version"], project)
    assert code == 0
    assert modules == set()


def test_rules_listing(project):
    code, modules, _ = probe(["rules"], project)
    assert code in (0, None)
    assert not modules & {"openai", "jinja2", "libcst"}


def test_cold_scan_parses_with_libcst_but_no_llm_or_templates(project):
    code, modules, _ = probe(["check", ".", "--cache-dir", ".c", "-q"], project)
    assert code == 1  # time.sleep in an async route
    assert "libcst" in modules
    assert not modules & {"openai", "jinja2"}


def test_fully_cached_scan_does_not_import_libcst(project):
    probe(["check", ".", "--cache-dir", ".c2", "-q"], project)
    code, modules, _ = probe(["check", ".", "--cache-dir", ".c2", "-q"], project)
    assert code == 1
    assert not modules & {"openai", "jinja2", "libcst"}


def test_pre_commit_style_run(project):
    probe(["check", ".", "--cache-dir", ".c3", "-q"], project)
    files = ["app/r1.py", "app/r2.py"]
    code, modules, _ = probe(["--force-exclude", *files, "--cache-dir", ".c3", "--format", "json", "-o", "report.json"], project)
    assert code == 1
    assert not modules & {"openai", "jinja2", "libcst"}
    # the rules ran on cached facts: the findings' positions were read from the files, with ast
    found = json.loads((project / "report.json").read_text())["findings"]
    at = {(f["path"], f["line"], f["column"]) for f in found}
    assert at == {(path, line, column) for path in files for line, column in ((8, 11), (9, 5))}  # `ping`, `time.sleep`
    # an edited file has to be parsed: libcst then, but still no LLM client or templates
    edited = project / "app" / "r3.py"
    edited.write_text(edited.read_text() + "\n# edited\n")
    code, modules, _ = probe(["--force-exclude", "app/r3.py", "--cache-dir", ".c3", "--format", "concise"], project)
    assert code == 1
    assert "libcst" in modules and not modules & {"openai", "jinja2"}
    assert "rich.console" not in modules  # no progress bar off a terminal, no rich output in concise


def test_no_progress_bar_when_stderr_is_not_a_terminal(tmp_path):
    """A scan long enough for the bar (more files than _Progress.MIN_FILES) with stderr a pipe."""
    from fastapi_reviewer.cli import _Progress

    root = tmp_path / "big"
    (root / "app").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'big'\n")
    for i in range(_Progress.MIN_FILES + 10):
        (root / "app" / f"m{i}.py").write_text(f"def f{i}(x):\n    return x + {i}\n")
    code, modules, stderr = probe(["check", ".", "--no-cache", "--jobs", "2"], root)
    assert code == 0
    assert "rich.progress" not in modules
    assert "parsing" not in stderr and "━" not in stderr and "\x1b[" not in stderr


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_progress_bar_on_a_terminal(tmp_path):
    """The same scan with stderr on a pseudo-terminal does show the (transient) bar."""
    import pty  # noqa: F401 - availability

    from fastapi_reviewer.cli import _Progress

    root = tmp_path / "big"
    (root / "app").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'big'\n")
    for i in range(_Progress.MIN_FILES + 10):
        (root / "app" / f"m{i}.py").write_text(f"def f{i}(x):\n    return x + {i}\n")
    primary, secondary = os.openpty()
    try:
        script = _PROBE.replace("sys.stderr.write", "sys.stdout.write")
        proc = subprocess.run(
            [sys.executable, "-c", script, "check", ".", "--no-cache", "--jobs", "2"],
            cwd=root, stdout=subprocess.PIPE, stderr=secondary, timeout=300, text=True,
            env={**os.environ, "TERM": "xterm", "COLUMNS": "100"},
        )
        os.close(secondary)
        secondary = -1
        chunks = []
        while True:
            try:
                data = os.read(primary, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        shown = b"".join(chunks).decode(errors="replace")
    finally:
        if secondary != -1:
            os.close(secondary)
        os.close(primary)
    info = json.loads(proc.stdout.rsplit("@@", 1)[1])
    assert "rich.progress" in info["modules"]
    assert "parsing" in shown
