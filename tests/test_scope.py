"""A run that names a few files (pre-commit) analyses only roots in those files: the findings must be
exactly the full run's findings for those files, traces and messages included."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

from fastapi_reviewer.config import Settings
from fastapi_reviewer.engine import scan
from fastapi_reviewer.findings import Finding

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def _key(f: Finding) -> tuple:
    return (f.path, f.line, f.column, f.code, f.message, f.function, tuple((s.path, s.line, s.call) for s in f.trace))


def _findings(root: Path, targets: list[Path], cache_dir: Path) -> set[tuple]:
    result = scan(targets, Settings(cache_dir=str(cache_dir)), cwd=root)
    assert not result.report.errors
    return {_key(f) for f in result.report.findings}


def _compare(root: Path, groups: list[list[Path]], cache_dir: Path) -> int:
    full = _findings(root, [root], cache_dir)
    compared = 0
    for group in groups:
        names = {p.relative_to(root).as_posix() for p in group}
        scoped = _findings(root, group, cache_dir)
        assert scoped == {k for k in full if k[0] in names}, names
        compared += len(scoped)
    return compared


def test_each_example_file_alone_gives_the_full_runs_findings(tmp_path: Path) -> None:
    root = tmp_path / "examples"
    shutil.copytree(EXAMPLES, root)
    files = sorted(root.rglob("*.py"))
    groups = [[f] for f in files] + [files[::3], files[1::4]]
    assert _compare(root, groups, tmp_path / "cache") >= 24  # every planted finding was compared


def test_scoped_runs_on_a_generated_project(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("bench_corpus", ROOT / "bench" / "corpus.py")
    assert spec and spec.loader
    corpus = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(corpus)
    root = tmp_path / "corpus"
    corpus.generate(root, files=120, seed=3)
    files = sorted(root.rglob("*.py"))
    groups = [files[i : i + 10] for i in range(0, len(files), 10)]
    assert _compare(root, groups, tmp_path / "cache") > 20


# a route making a helper in another module build an httpx client on every request
CLIENT_PROJECT = {
    "clients.py": "import httpx\n\n\ndef make():\n    return httpx.Client()\n",
    "routes.py": "from fastapi import APIRouter\nfrom app.clients import make\n\nrouter = APIRouter()\n\n\n"
    "@router.get('/x')\nasync def x():\n    make()\n",
}


def _package(root: Path, files: dict[str, str]) -> Path:
    """A project at ``root`` with an ``app`` package holding ``files``; the package folder."""
    (root / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    pkg = root / "app"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    for name, text in files.items():
        (pkg / name).write_text(text)
    return pkg


@pytest.mark.parametrize("scoped", [True, False])
def test_a_caller_outside_the_scope_still_makes_a_helper_per_request(tmp_path: Path, scoped: bool) -> None:
    """FR301 is reported in the helper that builds the client; the route that makes it per-request
    lives in a file that is not named."""
    pkg = _package(tmp_path, CLIENT_PROJECT)
    targets = [pkg / "clients.py"] if scoped else [tmp_path]
    result = scan(targets, Settings(cache=False), cwd=tmp_path)
    codes = [(f.path, f.code) for f in result.report.findings if f.path == "app/clients.py"]
    assert ("app/clients.py", "FR301") in codes


def test_a_run_on_files_that_build_no_client_skips_the_per_request_walk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """FR301-FR304 report where a client is built: named files that build none need no walk of the
    whole project's per-request reach (the walk of a pre-commit run), and give what the full run gives."""
    from fastapi_reviewer.checks import connections

    pkg = _package(tmp_path, {**CLIENT_PROJECT, "other.py": "import os\n\n\ndef cwd():\n    return os.getcwd()\n"})
    walks: list[int] = []
    real = connections.PerRequest

    class Counting(real):  # type: ignore[misc, valid-type]
        def _walk(self) -> None:
            walks.append(1)
            super()._walk()

    monkeypatch.setattr(connections, "PerRequest", Counting)
    assert scan([pkg / "other.py", pkg / "routes.py"], Settings(cache=False), cwd=tmp_path).report.findings == []
    assert walks == []
    found = scan([pkg / "clients.py"], Settings(cache=False), cwd=tmp_path).report.findings
    assert [(f.path, f.code) for f in found] == [("app/clients.py", "FR301")] and walks == [1]


def test_a_run_on_files_that_store_into_no_cache_skips_the_request_walk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """FR502 is reported where a value is stored without an expiry: named files that store none need
    no walk of the project's per-request reach, and give what the full run gives."""
    from fastapi_reviewer.checks import performance

    pkg = _package(
        tmp_path,
        {
            "store.py": "import json\nimport redis.asyncio as redis\n\ncache = redis.from_url('redis://localhost')\n\n\n"
            "async def remember(user_id, user):\n    await cache.set(f'user:{user_id}', json.dumps(user))\n",
            "routes.py": "from fastapi import APIRouter\nfrom app.store import remember\n\nrouter = APIRouter()\n\n\n"
            "@router.get('/u/{user_id}')\nasync def get_user(user_id: int):\n    await remember(user_id, {})\n    return {}\n",
        },
    )
    walks: list[int] = []
    real = performance.request_paths

    def counting(ctx):  # type: ignore[no-untyped-def]
        walks.append(1)
        return real(ctx)

    monkeypatch.setattr(performance, "request_paths", counting)
    full = [(f.path, f.code) for f in scan([tmp_path], Settings(cache=False), cwd=tmp_path).report.findings]
    assert ("app/store.py", "FR502") in full and walks == [1]
    routes = scan([pkg / "routes.py"], Settings(cache=False), cwd=tmp_path).report.findings
    assert [f for f in routes if f.code == "FR502"] == [] and walks == [1]  # stores into no cache: no walk
    found = scan([pkg / "store.py"], Settings(cache=False), cwd=tmp_path).report.findings
    assert [(f.path, f.code) for f in found if f.code == "FR502"] == [("app/store.py", "FR502")] and walks == [1, 1]
