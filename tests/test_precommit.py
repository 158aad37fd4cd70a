"""The pre-commit hook, run through pre-commit itself (`pre-commit try-repo`).

A copy of this working tree (package, rules, prompts and .pre-commit-hooks.yaml) is committed to a
temporary git repository, and `pre-commit try-repo` runs its `fastapi-review` hook in a second
temporary repository holding a small service. try-repo builds the hook's virtualenv in a throwaway
store on every call (PRE_COMMIT_HOME, a temporary folder here, holds only pre-commit's own state), so
each call installs the package and its dependencies, about 15 s with a warm pip cache: the test makes
two calls, one that must fail and one that must pass, each with a mix of files. Marked `slow`:
`pytest -m "not slow"` skips it.

The service's configuration turns the LLM on and points it at a local HTTP server that counts
requests: the hook must not send any (the same configuration without the hook does).
"""

from __future__ import annotations

import http.server
import os
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

pytest.importorskip("pre_commit", reason="pre-commit is in the `test` extra")
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
SHIPPED = ["pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "fastapi_reviewer", "rules", "prompts"]

BAD = """
import requests
from fastapi import FastAPI

app = FastAPI()


@app.get("/forecast")
async def forecast(city: str) -> dict:
    return requests.get(f"https://api.example.com/{city}", timeout=5).json()
"""

GOOD = """
import httpx
from fastapi import FastAPI

app = FastAPI()


@app.get("/forecast")
async def forecast(city: str) -> dict:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"https://api.example.com/{city}", timeout=5)
    return {"city": city, "status": response.status_code}
"""


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false", *args],
        cwd=cwd, check=True, capture_output=True,
    )


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def _any(self) -> None:
        type(self).hits.append(f"{self.command} {self.path}")
        self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"error": {"message": "test server"}}')

    do_GET = do_POST = _any

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def llm_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This working tree, committed to a fresh repository (try-repo needs one with the hook file)."""
    repo = tmp_path_factory.mktemp("hook-repo")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".fastapi_review_cache")
    for name in SHIPPED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, repo / name, ignore=ignore)
        else:
            shutil.copy2(source, repo / name)
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "fastapi-review under test")
    return repo


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, llm_server: str) -> Path:
    root = tmp_path_factory.mktemp("service")
    (root / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""\
            [project]
            name = "weather"

            [tool.fastapi-review]
            select = ["FR1"]  # the hook is under test, not the rules: other families may grow
            extend-exclude = ["legacy"]

            [tool.fastapi-review.llm]
            enabled = true
            base-url = "{llm_server}"
            retries = 0
            """
        )
    )
    for rel, code in {"app/bad.py": BAD, "app/good.py": GOOD, "legacy/old.py": BAD, "app/__init__.py": ""}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(code).lstrip("\n"))
    (root / "notes.txt").write_text("not python\n")
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "service")
    return root


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def _try_repo(service: Path, hook_repo: Path, home: Path, *files: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PRE_COMMIT_HOME=str(home), OPENAI_API_KEY="sk-test-not-a-key", NO_COLOR="1")
    env.pop("FASTAPI_REVIEW_DEBUG", None)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), "fastapi-review", "--verbose", "--color", "never", "--files", *files],
        cwd=service, env=env, capture_output=True, text=True, timeout=900, check=False,
    )
    sys.stderr.write(f"pre-commit try-repo {' '.join(files)}: {time.monotonic() - started:.1f}s\n")
    return done


def test_hook_fails_on_a_bad_file_and_passes_on_a_clean_one(service: Path, hook_repo: Path, pre_commit_home: Path) -> None:
    # each call also names legacy/old.py (as bad as app/bad.py, but excluded in the project's settings:
    # --force-exclude keeps it out) and notes.txt (types_or keeps it from the hook)
    _Recorder.hits.clear()
    bad = _try_repo(service, hook_repo, pre_commit_home, "app/bad.py", "legacy/old.py", "notes.txt")
    output = bad.stdout + bad.stderr
    assert bad.returncode == 1, output
    assert "fastapi-review" in output and "Failed" in output
    assert "FR101" in output and "app/bad.py" in output
    assert "legacy/old.py" not in output and "1 error" in output

    good = _try_repo(service, hook_repo, pre_commit_home, "app/good.py", "legacy/old.py", "notes.txt")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "Passed" in good.stdout and "No findings" in good.stdout

    assert _Recorder.hits == [], "the hook talked to the LLM server"


def test_the_same_configuration_without_the_hook_does_call_the_llm(service: Path, llm_server: str) -> None:
    """The control for the assertion above: the project's settings really do switch the LLM on."""
    from typer.testing import CliRunner

    from fastapi_reviewer.cli import app

    _Recorder.hits.clear()
    old = Path.cwd()
    os.chdir(service)
    try:
        result = CliRunner().invoke(app, ["check", "--no-cache", "app/bad.py"], env={"OPENAI_API_KEY": "sk-test-not-a-key"})
    finally:
        os.chdir(old)
    assert result.exit_code == 1
    assert _Recorder.hits, "the LLM was not called: the no-LLM assertion of the hook test proves nothing"


def test_hook_definition() -> None:
    import yaml

    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    (hook,) = hooks
    assert hook["id"] == "fastapi-review" and hook["language"] == "python"
    assert hook["types_or"] == ["python", "pyi"] and hook["require_serial"] is True
    assert hook["args"] == ["--force-exclude"]
    assert hook["entry"].split()[:2] == ["fastapi-review", "check"] and "--no-llm" in hook["entry"].split()
