"""Baselines: --write-baseline records today's findings, --baseline reports only the new ones.

Each test builds a small project in a temporary git repository, records a baseline, edits files and
checks that exactly the new findings are reported (by code, line and function), and that line
shifts and edits elsewhere never bring a baselined finding back.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

from typer.testing import CliRunner

from fastapi_reviewer.baseline import load_baseline
from fastapi_reviewer.cli import app

SERVICES = """
import requests


def fetch_forecast(city: str) -> dict:
    return requests.get(f"https://api.example.com/{city}", timeout=5).json()
"""

ROUTES = """
import time

from fastapi import FastAPI

from services import fetch_forecast

app = FastAPI()


@app.get("/forecast/{city}")
async def forecast(city: str):
    return fetch_forecast(city)


@app.get("/slow")
async def slow():
    time.sleep(1)
    time.sleep(1)
    return {}


@app.get("/ok")
async def ok():
    return {"ok": True}
"""


def _git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false", *args],
        cwd=root, check=True, capture_output=True,
    )


def _repo(tmp_path: Path, files: dict[str, str], config: str = "") -> Path:
    # the async-blocking rules only: other families' findings would only make the expectations longer
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'svc'\n\n[tool.fastapi-review]\nselect = ['FR1']\n" + config)
    for rel, code in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(code).lstrip("\n"))
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
    """(exit code, [(code, path, line, function)], stderr) of a json run."""
    result = _cli(cwd, *args, "--format", "json")
    data = json.loads(result.stdout)
    return result.exit_code, [(f["code"], f["path"], f["line"], f["function"]) for f in data["findings"]], result.stderr


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def test_baseline_hides_known_findings_and_reports_exactly_the_new_ones(tmp_path):
    root = _repo(tmp_path, {"services.py": SERVICES, "routes.py": ROUTES})
    code, before, _ = _reported(root, ".")
    assert code == 1 and len(before) == 3  # forecast -> requests.get, two sleeps

    result = _cli(root, ".", "--write-baseline", "review-baseline.json")
    assert result.exit_code == 0 and "wrote 3 finding(s)" in result.stderr
    data = json.loads((root / "review-baseline.json").read_text())
    assert data["version"] == 1 and data["tool"]["name"] == "fastapi-review"
    assert {tuple(sorted(e)) for e in data["entries"]} == {("code", "fingerprint", "function", "line", "message", "path")}
    _git(root, "add", "review-baseline.json")
    _git(root, "commit", "-q", "-m", "baseline")

    code, found, err = _reported(root, ".", "--baseline", "review-baseline.json")
    assert (code, found) == (0, [])
    assert "0 new finding(s) reported, 3 known finding(s) not shown, 0 fixed since the baseline" in err

    # shift every line, edit other functions, and add one new problem
    routes = root / "routes.py"
    _edit(routes, "import time\n", '"""Weather routes."""\n\nimport logging\nimport time\n\nlog = logging.getLogger(__name__)\n')
    _edit(routes, 'return {"ok": True}', 'log.info("ok")\n    return {"ok": True, "version": 2}')
    _edit(routes, "async def slow():\n", "async def slow():\n    log.info('slow')\n")
    _edit(routes, "async def ok():\n", "async def ok():\n    time.sleep(0.1)\n")
    _edit(root / "services.py", "import requests\n", "import requests\n\nTIMEOUT = 5\n")
    code, found, err = _reported(root, ".", "--baseline", "review-baseline.json")
    new_line = routes.read_text().splitlines().index("    time.sleep(0.1)") + 1
    assert found == [("FR102", "routes.py", new_line, "ok")]
    assert code == 1
    assert "1 new finding(s) reported, 3 known finding(s) not shown, 0 fixed since the baseline" in err


def test_duplicates_count_as_many_times_as_they_occur(tmp_path):
    root = _repo(tmp_path, {"services.py": SERVICES, "routes.py": ROUTES})
    assert _cli(root, ".", "--write-baseline", "baseline.json").exit_code == 0
    routes = root / "routes.py"
    # a third identical `time.sleep(1)` in the same function: same fingerprint, one more than recorded
    _edit(routes, "    time.sleep(1)\n    return {}", "    time.sleep(1)\n    time.sleep(1)\n    return {}")
    code, found, err = _reported(root, ".", "--baseline", "baseline.json")
    assert code == 1
    lines = routes.read_text().splitlines()
    sleeps = [n for n, line in enumerate(lines, start=1) if line == "    time.sleep(1)"]
    assert len(found) == 1 and found[0][0] == "FR102" and found[0][3] == "slow" and found[0][2] in sleeps
    assert "1 new finding(s)" in err and "3 known" in err

    # back to one sleep: nothing new, one of the two recorded copies is fixed
    routes.write_text(textwrap.dedent(ROUTES).lstrip("\n").replace("    time.sleep(1)\n    time.sleep(1)\n", "    time.sleep(1)\n"))
    code, found, err = _reported(root, ".", "--baseline", "baseline.json")
    assert (code, found) == (0, [])
    assert "0 new finding(s) reported, 2 known finding(s) not shown, 1 fixed since the baseline" in err


def test_fixed_counts_only_files_and_rules_of_this_run(tmp_path):
    root = _repo(tmp_path, {"services.py": SERVICES, "routes.py": ROUTES})
    assert _cli(root, ".", "--write-baseline", "baseline.json").exit_code == 0
    # pre-commit names one file: the other file's entries are not "fixed"
    code, found, err = _reported(root, "services.py", "--baseline", "baseline.json")
    assert (code, found) == (0, []) and "0 fixed since the baseline" in err
    code, found, err = _reported(root, ".", "--select", "FR101", "--baseline", "baseline.json")
    assert (code, found) == (0, []) and "1 known finding(s) not shown, 0 fixed" in err
    # a transitive finding is known by its call site: editing the helper below it does not resurrect it
    _edit(root / "services.py", "    return requests.get(", "    url = city\n    return requests.get(")
    assert _reported(root, ".", "--baseline", "baseline.json")[:2] == (0, [])
    # and fixing it shows as fixed
    (root / "services.py").write_text("def fetch_forecast(city: str) -> dict:\n    return {}\n")
    code, found, err = _reported(root, ".", "--baseline", "baseline.json")
    assert (code, found) == (0, []) and "2 known finding(s) not shown, 1 fixed since the baseline" in err


def test_baseline_from_config_is_relative_to_the_config_file(tmp_path):
    root = _repo(tmp_path, {"app/services.py": SERVICES, "app/routes.py": ROUTES.replace("from services", "from app.services")},
                 config='baseline = "ci/review-baseline.json"\n')
    assert _cli(root, ".", "--write-baseline", "ci/review-baseline.json").exit_code == 0
    entries = load_baseline(root / "ci" / "review-baseline.json").entries
    assert {e.path for e in entries} == {"app/routes.py"}
    # from a subfolder: display paths differ from the baseline's, the fingerprints still match
    code, found, err = _reported(root / "app", ".")
    assert (code, found) == (0, []) and "3 known finding(s)" in err
    _edit(root / "app" / "routes.py", "async def ok():\n", "async def ok():\n    time.sleep(2)\n")
    code, found, _ = _reported(root / "app", ".")
    assert code == 1 and [(c, p, fn) for c, p, _, fn in found] == [("FR102", "routes.py", "ok")]


def test_bad_baselines_exit_2_with_a_clear_message(tmp_path):
    root = _repo(tmp_path, {"routes.py": "import time\n\n\nasync def f():\n    time.sleep(1)\n"})
    result = _cli(root, ".", "--baseline", "missing.json")
    assert result.exit_code == 2
    assert "missing.json: baseline file not found (create it with --write-baseline missing.json)" in result.stderr
    (root / "broken.json").write_text("{not json")
    result = _cli(root, ".", "--baseline", "broken.json")
    assert result.exit_code == 2 and "broken.json: not a baseline file (invalid JSON" in result.stderr
    (root / "other.json").write_text('{"version": 99, "entries": []}')
    result = _cli(root, ".", "--baseline", "other.json")
    assert result.exit_code == 2 and "unsupported baseline version 99" in result.stderr
    (root / "list.json").write_text("[]")
    assert _cli(root, ".", "--baseline", "list.json").exit_code == 2
    (root / "entry.json").write_text('{"version": 1, "entries": [{"code": "FR102"}]}')
    result = _cli(root, ".", "--baseline", "entry.json")
    assert result.exit_code == 2 and "entry 0 needs" in result.stderr
    result = _cli(root, ".", "--write-baseline", "b.json", "--baseline", "b.json")
    assert result.exit_code == 2 and "cannot be combined" in result.stderr
    # an empty baseline is valid: everything is new
    (root / "empty.json").write_text('{"version": 1, "entries": []}')
    assert _cli(root, ".", "--baseline", "empty.json").exit_code == 1


def test_baseline_and_fix_only_touch_new_findings(tmp_path):
    root = _repo(tmp_path, {"routes.py": "import time\n\n\nasync def old():\n    time.sleep(1)\n"})
    assert _cli(root, ".", "--write-baseline", "baseline.json").exit_code == 0
    with (root / "routes.py").open("a") as fh:
        fh.write("\n\nasync def new():\n    time.sleep(2)\n")
    result = _cli(root, ".", "--baseline", "baseline.json", "--fix")
    assert result.exit_code == 0, result.output
    text = (root / "routes.py").read_text()
    assert "    time.sleep(1)\n" in text and "    await asyncio.sleep(2)\n" in text
