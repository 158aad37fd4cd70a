"""Changed-code mode: --diff-base REF reports only findings on lines added or changed since REF.

Every test commits a small project in a temporary git repository, edits it, and checks that exactly
the findings on changed code are reported while the whole project is still analysed (a route whose
helper changed is reported at its unchanged call site).
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

from typer.testing import CliRunner

from fastapi_reviewer.changed_lines import ALL, parse_diff
from fastapi_reviewer.cli import app

SERVICES = """
import requests


def fetch_forecast(city: str) -> dict:
    return {"city": city}


def fetch_alerts(city: str) -> list:
    return requests.get(f"https://api.example.com/alerts/{city}", timeout=5).json()
"""

ROUTES = """
import time

from fastapi import FastAPI

from services import fetch_alerts, fetch_forecast

app = FastAPI()


@app.get("/forecast/{city}")
async def forecast(city: str):
    return fetch_forecast(city)


@app.get("/alerts/{city}")
async def alerts(city: str):
    return fetch_alerts(city)


@app.get("/slow")
async def slow():
    time.sleep(1)
    return {}


def sync_report():
    time.sleep(1)
    return {}
"""


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false", *args],
        cwd=root, check=True, capture_output=True, text=True,
    )
    return done.stdout


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, code in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(code).lstrip("\n"))


def _repo(tmp_path: Path, files: dict[str, str] | None = None) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'svc'\n\n[tool.fastapi-review]\nselect = ['FR1']\n")
    _write(tmp_path, files if files is not None else {"services.py": SERVICES, "routes.py": ROUTES})
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-q", "-m", "initial")
    return tmp_path


def _cli(cwd: Path, *args: str):
    old = Path.cwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(app, ["check", "--no-cache", *args], catch_exceptions=False)
    finally:
        os.chdir(old)


def _reported(cwd: Path, *args: str) -> tuple[int, list[tuple[str, str, int, str]], str]:
    result = _cli(cwd, *args, "--format", "json")
    assert result.exit_code in (0, 1), result.output
    data = json.loads(result.stdout)
    return result.exit_code, [(f["code"], f["path"], f["line"], f["function"]) for f in data["findings"]], result.stderr


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def _line(path: Path, text: str) -> int:
    return path.read_text().splitlines().index(text) + 1


def test_only_findings_on_changed_lines(tmp_path):
    root = _repo(tmp_path)
    assert len(_reported(root, ".")[1]) == 2  # alerts -> requests.get, slow -> time.sleep
    code, found, err = _reported(root, ".", "--diff-base", "HEAD")
    assert (code, found) == (0, [])
    assert "0 finding(s) on changed lines reported, 2 on unchanged code not shown" in err

    routes = root / "routes.py"
    _edit(routes, "import time\n", "import logging\nimport time\n\nlog = logging.getLogger(__name__)\n")  # shifts everything
    _edit(routes, "async def forecast(city: str):\n", "async def forecast(city: str):\n    time.sleep(0.1)\n")
    _edit(routes, "    time.sleep(1)\n    return {}\n\n\ndef", "    time.sleep(1)\n    return {'slow': True}\n\n\ndef")
    code, found, _ = _reported(root, ".", "--diff-base", "HEAD")
    assert code == 1
    assert found == [("FR102", "routes.py", _line(routes, "    time.sleep(0.1)"), "forecast")]


def test_a_changed_helper_reports_the_unchanged_call_site(tmp_path):
    root = _repo(tmp_path)
    services = root / "services.py"
    _edit(services, '    return {"city": city}', '    return requests.get(f"https://api.example.com/{city}", timeout=5).json()')
    code, found, _ = _reported(root, ".", "--diff-base", "HEAD")
    routes = root / "routes.py"
    # reported where the route calls the helper; the alerts route's chain did not change
    assert found == [("FR101", "routes.py", _line(routes, "    return fetch_forecast(city)"), "forecast")]
    assert code == 1
    # reviewing only services.py: the route's finding is not in the files named
    assert _reported(root, "services.py", "--diff-base", "HEAD")[1] == []


def test_def_becoming_async_reports_its_body(tmp_path):
    root = _repo(tmp_path)
    routes = root / "routes.py"
    _edit(routes, "def sync_report():", "async def sync_report():")
    code, found, _ = _reported(root, ".", "--diff-base", "HEAD")
    assert code == 1
    assert found == [("FR102", "routes.py", _line(routes, "async def sync_report():") + 1, "sync_report")]
    # other edits of a def line do not bring back the body's findings
    _git(root, "commit", "-qam", "async report")
    _edit(routes, "async def slow():", "async def slow():  # the slow one")
    assert _reported(root, ".", "--diff-base", "HEAD")[1] == []


def test_untracked_staged_and_renamed_files(tmp_path):
    root = _repo(tmp_path)
    _write(root, {"jobs.py": "import time\n\n\nasync def job():\n    time.sleep(1)\n    time.sleep(2)\n"})
    found = _reported(root, ".", "--diff-base", "HEAD")[1]
    assert found == [("FR102", "jobs.py", 5, "job"), ("FR102", "jobs.py", 6, "job")]  # untracked: all new
    _git(root, "add", "jobs.py")  # staged: still compared with HEAD from the work tree
    assert len(_reported(root, ".", "--diff-base", "HEAD")[1]) == 2
    _git(root, "commit", "-qm", "jobs")
    _git(root, "mv", "jobs.py", "tasks.py")  # a move is not a change
    assert _reported(root, ".", "--diff-base", "HEAD")[1] == []
    # deleting lines leaves nothing to report
    _edit(root / "tasks.py", "    time.sleep(1)\n", "")
    assert _reported(root, ".", "--diff-base", "HEAD")[1] == []


def test_merge_base_syntax(tmp_path):
    root = _repo(tmp_path)
    _git(root, "checkout", "-q", "-b", "feature")
    routes = root / "routes.py"
    _edit(routes, "async def forecast(city: str):\n", "async def forecast(city: str):\n    time.sleep(0.1)\n")
    _git(root, "commit", "-qam", "feature: a sleep")
    _git(root, "checkout", "-q", "main")
    _edit(routes, "    time.sleep(1)\n    return {}\n\n\ndef", "    return {}\n\n\ndef")  # main fixes slow()
    _git(root, "commit", "-qam", "main: fix slow")
    _git(root, "checkout", "-q", "feature")
    new = ("FR102", "routes.py", _line(routes, "    time.sleep(0.1)"), "forecast")
    # against main's tip, slow()'s old sleep looks like this branch's change; against the fork point it is not
    assert sorted(_reported(root, ".", "--diff-base", "main")[1]) == sorted([new, ("FR102", "routes.py", _line(routes, "    time.sleep(1)"), "slow")])
    code, found, err = _reported(root, ".", "--diff-base", "main...")
    assert (code, found) == (1, [new])
    assert "--diff-base main... (" in err


def test_project_below_the_repository_root(tmp_path):
    (tmp_path / "README.md").write_text("monorepo\n")
    service = tmp_path / "services" / "weather"
    service.mkdir(parents=True)
    (service / "pyproject.toml").write_text("[project]\nname = 'weather'\n\n[tool.fastapi-review]\nselect = ['FR1']\n")
    _write(service, {"services.py": SERVICES, "routes.py": ROUTES})
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-qm", "initial")
    _edit(service / "routes.py", "async def forecast(city: str):\n", "async def forecast(city: str):\n    time.sleep(0.1)\n")
    found = _reported(service, ".", "--diff-base", "HEAD")[1]
    assert [(c, p, fn) for c, p, _, fn in found] == [("FR102", "routes.py", "forecast")]
    found = _reported(tmp_path, "services/weather", "--diff-base", "HEAD")[1]
    assert [(c, p, fn) for c, p, _, fn in found] == [("FR102", "services/weather/routes.py", "forecast")]


def test_unreadable_files_count_only_when_changed(tmp_path):
    root = _repo(tmp_path, {"routes.py": ROUTES, "services.py": SERVICES, "legacy.py": "print 'python 2'\n"})
    result = _cli(root, ".", "--diff-base", "HEAD")
    assert result.exit_code == 0, result.output
    _write(root, {"broken.py": "def f(:\n"})
    result = _cli(root, ".", "--diff-base", "HEAD", "--format", "json")
    data = json.loads(result.stdout)
    assert result.exit_code == 1 and [e["path"] for e in data["errors"]] == ["broken.py"]


def test_with_a_baseline(tmp_path):
    root = _repo(tmp_path)
    assert _cli(root, ".", "--write-baseline", "baseline.json").exit_code == 0
    # the helper's request changes: alerts' finding is on changed code (its trace), and known to the baseline
    _edit(root / "services.py", "timeout=5", "timeout=10")
    _edit(root / "routes.py", "async def forecast(city: str):\n", "async def forecast(city: str):\n    time.sleep(0.1)\n")
    found = _reported(root, ".", "--diff-base", "HEAD")[1]
    assert [(f[0], f[3]) for f in found] == [("FR102", "forecast"), ("FR101", "alerts")]
    found = _reported(root, ".", "--diff-base", "HEAD", "--baseline", "baseline.json")[1]
    assert [(f[0], f[3]) for f in found] == [("FR102", "forecast")]


def test_errors_exit_2(tmp_path):
    root = tmp_path / "plain"
    root.mkdir()
    (root / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (root / "app.py").write_text("async def f():\n    return 1\n")
    result = _cli(root, ".", "--diff-base", "HEAD")
    assert result.exit_code == 2 and "is not inside a git work tree" in result.stderr
    (tmp_path / "repo").mkdir()
    repo = _repo(tmp_path / "repo")
    result = _cli(repo, ".", "--diff-base", "no-such-branch")
    assert result.exit_code == 2 and "unknown git revision 'no-such-branch'" in result.stderr
    result = _cli(repo, ".", "--diff-base", "--cached")
    assert result.exit_code == 2


def test_parse_diff(tmp_path):
    diff = textwrap.dedent(
        """\
        diff --git a/app/routes.py b/app/routes.py
        index 1111111..2222222 100644
        --- a/app/routes.py
        +++ b/app/routes.py
        @@ -3,0 +4,2 @@ import x
        +added one
        +++ added two (content starting with two plus signs)
        @@ -10 +12 @@ def f():
        -def handler():
        +async def handler():
        @@ -20,3 +22,0 @@ def g():
        -gone
        -gone
        -gone
        diff --git a/old.py b/old.py
        deleted file mode 100644
        --- a/old.py
        +++ /dev/null
        @@ -1,2 +0,0 @@
        -x
        -y
        diff --git "a/caf\\303\\251.py" "b/caf\\303\\251.py"
        --- "a/caf\\303\\251.py"
        +++ "b/caf\\303\\251.py"
        @@ -1 +1 @@
        -async def moved():
        +async def moved():
        """
    )
    lines, became_async = parse_diff(diff, tmp_path)
    assert lines == {(tmp_path / "app/routes.py").resolve(): {4, 5, 12}, (tmp_path / "café.py").resolve(): {1}}
    assert became_async == {(tmp_path / "app/routes.py").resolve(): {"handler"}}
    assert ALL not in lines[(tmp_path / "app/routes.py").resolve()]
