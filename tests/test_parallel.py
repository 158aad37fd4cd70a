"""The process pool: same results at any --jobs, small inputs stay in-process, workers write the
cache, broken files are reported the same way from a worker as in-process."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from helpers import through_codec

from fastapi_reviewer import parsing
from fastapi_reviewer.cache import FactsCache, loads
from fastapi_reviewer.config import Settings
from fastapi_reviewer.engine import scan
from fastapi_reviewer.facts.extract import extract
from fastapi_reviewer.packs import decode_index, decode_pack

SERVICE = """
import requests
import subprocess
from fastapi import APIRouter, Depends

router = APIRouter()


class Client{i}:
    def __init__(self):
        self.session = requests.Session()

    def fetch(self, url):
        return self.session.get(url)


def get_client():
    return Client{i}()


@router.get("/r{i}")
async def route_{i}(client: Client{i} = Depends(get_client)):
    subprocess.run(["true"])
    try:
        return client.fetch("https://example.com/{i}")
    except ValueError:
        raise
"""


def _project(root: Path, files: int) -> Path:
    (root / "app").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'par'\n")
    (root / "app" / "__init__.py").write_text("")
    for i in range(files):
        (root / "app" / f"s{i}.py").write_text(textwrap.dedent(SERVICE.replace("{i}", str(i))).lstrip())
    (root / "app" / "broken.py").write_text("def f(:\n    pass\n")
    (root / "app" / "binary.py").write_bytes(b"\x00\x01\x02")
    return root


def _result(root: Path, **kw):  # type: ignore[no-untyped-def]
    return scan([root], Settings(**kw), cwd=root)


def _summary(result) -> tuple[list[tuple[str, int, int, str, str]], list[tuple[str, int | None, str]]]:  # type: ignore[no-untyped-def]
    findings = sorted((f.path, f.line, f.column, f.code, f.message) for f in result.report.findings)
    errors = sorted((e.path, e.line, e.message) for e in result.report.errors)
    return findings, errors


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _project(tmp_path_factory.mktemp("par") / "proj", parsing.POOL_THRESHOLD + 16)


def test_same_findings_and_errors_at_any_job_count(big):
    one = _result(big, cache=False, jobs=1)
    two = _result(big, cache=False, jobs=2)
    three = _result(big, cache=False, jobs=3)
    assert _summary(one) == _summary(two) == _summary(three)
    findings, errors = _summary(one)
    assert findings and len(errors) == 2
    assert {e[0] for e in errors} == {"app/broken.py", "app/binary.py"}


def test_pool_facts_equal_in_process_facts(big, tmp_path):
    files = sorted((big / "app").glob("s*.py"))
    direct = {f"app.{p.stem}": extract(f"app/{p.name}", p.read_bytes(), f"app.{p.stem}", False) for p in files}
    result = _result(big, cache=False, jobs=2)
    pooled = {m.module: m for m in result.index.modules.values() if m.module.startswith("app.s")}
    assert pooled.keys() == direct.keys()
    for name, facts in direct.items():
        # the in-process facts through the same codec (positions read from the file when compared)
        assert pooled[name] == through_codec(facts, (big / facts.path).read_bytes(), tmp_path)


def test_small_inputs_stay_in_process(tmp_path, monkeypatch):
    root = _project(tmp_path / "small", 5)

    class NoPool:
        def __init__(self, *a, **kw):
            raise AssertionError("a pool was started for a handful of files")

    monkeypatch.setattr(parsing, "ProcessPoolExecutor", NoPool)
    result = _result(root, cache=False, jobs=2)
    assert result.stats.parsed == 6 and len(result.report.errors) == 2


def test_large_inputs_use_the_pool_and_workers_write_the_cache(big, tmp_path, monkeypatch):
    started = []
    real = parsing.ProcessPoolExecutor

    def counting(*a, **kw):
        started.append(kw.get("max_workers"))
        return real(*a, **kw)

    monkeypatch.setattr(parsing, "ProcessPoolExecutor", counting)
    cache_dir = tmp_path / "cache"
    result = _result(big, cache_dir=str(cache_dir), jobs=2)
    assert started == [2]
    parsed = result.stats.parsed
    packs = list((cache_dir / "packs").glob("*.pack"))
    assert len(packs) == -(-parsed // parsing.CHUNK)  # one pack per chunk, written by the workers
    rows = decode_index((cache_dir / "packs" / "index").read_bytes())
    assert len(rows) == parsed  # indexed once by this process
    assert all(FactsCache(cache_dir).get(key) is not None for key in rows)
    warm = _result(big, cache_dir=str(cache_dir), jobs=2)
    assert warm.stats.parsed == 0 and started == [2]  # nothing to parse: no pool either
    assert _summary(warm) == _summary(result)


def test_jobs_one_never_starts_a_pool(big, monkeypatch):
    class NoPool:
        def __init__(self, *a, **kw):
            raise AssertionError("--jobs 1 started a pool")

    monkeypatch.setattr(parsing, "ProcessPoolExecutor", NoPool)
    result = _result(big, cache=False, jobs=1)
    assert result.stats.parsed == parsing.POOL_THRESHOLD + 17


def test_progress_reaches_the_total(big):
    seen: list[tuple[int, int]] = []
    scan([big], Settings(cache=False, jobs=2), cwd=big, progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1][0] == seen[-1][1] == parsing.POOL_THRESHOLD + 19
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_chunk_worker_returns_bytes_and_errors(tmp_path):
    (tmp_path / "a.py").write_bytes(b"import os\nos.getcwd()\n")
    (tmp_path / "b.py").write_bytes(b"def (:\n")
    jobs = [
        parsing.Job(str(tmp_path / "a.py"), "a.py", "a", False, "aa" + "1" * 38),
        parsing.Job(str(tmp_path / "b.py"), "b.py", "b", False, "bb" + "2" * 38),
        parsing.Job(str(tmp_path / "gone.py"), "gone.py", "gone", False, "cc" + "3" * 38),
    ]
    pack, out = parsing._parse_chunk(jobs, str(tmp_path))  # the worker reads the files itself
    assert out[0][0] == jobs[0].key and loads(out[0][1]).module == "a"
    assert isinstance(out[1], parsing.Failure) and out[1].path == "b.py"
    assert isinstance(out[2], parsing.Failure) and out[2].message.startswith("cannot read")
    assert pack is not None and set(decode_pack((tmp_path / "packs" / pack).read_bytes())) == {jobs[0].key}
    cache = FactsCache(tmp_path)
    assert not cache.has(jobs[0].key)  # written, not indexed: the main process indexes what it gets
    parsing.load_results(jobs, (pack, out), cache=cache)
    cache.save()
    assert FactsCache(tmp_path).get(jobs[0].key) is not None
    assert FactsCache(tmp_path).get(jobs[1].key) is None


def test_a_warm_worker_parses_the_edited_files_of_a_warm_project(tmp_path, monkeypatch):
    """Few edited files next to a large cache load: they go to the worker started ahead (libcst
    imported there meanwhile); the findings are those of a run without it."""
    from fastapi_reviewer.warm import WarmWorker

    root = _project(tmp_path / "proj", 12)
    monkeypatch.setattr(parsing, "OVERLAP_HITS", 8)
    used: list[bool] = []
    real_start = WarmWorker.start

    def start(self, todo, cache):  # type: ignore[no-untyped-def]
        used.append(real_start(self, todo, cache))
        return used[-1]

    monkeypatch.setattr(WarmWorker, "start", start)
    settings = Settings(cache_dir=str(tmp_path / "cache"), jobs=2, force_exclude=True)
    _result(root, cache_dir=str(tmp_path / "cache"), jobs=2)  # cold
    edited = [root / "app" / "s3.py", root / "app" / "s7.py"]
    for path in edited:
        path.write_text(path.read_text() + "\n# edited\n")
    worker = WarmWorker()
    result = scan(edited, settings, cwd=root, warm_worker=worker)
    assert used == [True] and worker.process is None  # used, then stopped
    assert result.stats.parsed == 2
    expected = scan(edited, Settings(cache=False, force_exclude=True, jobs=1), cwd=root)
    assert _summary(result) == _summary(expected) and result.report.findings


def test_a_warm_worker_that_is_not_needed_is_stopped(tmp_path):
    from fastapi_reviewer.warm import WarmWorker

    root = _project(tmp_path / "proj", 12)
    _result(root, cache_dir=str(tmp_path / "cache"), jobs=2)
    worker = WarmWorker()
    process = worker.process
    assert process is not None and process.is_alive()
    scan([root], Settings(cache_dir=str(tmp_path / "cache"), jobs=2), cwd=root, warm_worker=worker)  # the run cache answers
    assert worker.process is None
    process.join(5)
    assert not process.is_alive()


def test_the_cli_forks_the_warm_worker_before_importing_the_engine(tmp_path, monkeypatch):
    """On a warm project the CLI starts the worker first; the run's findings are unchanged."""
    import sys

    from fastapi_reviewer import cli, warm

    root = _project(tmp_path / "proj", 12)
    monkeypatch.setattr(warm, "MIN_STAMPS_BYTES", 0)
    monkeypatch.chdir(root)
    _result(root)  # records the stamps in root/.fastapi_review_cache
    started: list[bool] = []
    real_init = warm.WarmWorker.__init__

    def init(self):  # type: ignore[no-untyped-def]
        started.append("fastapi_reviewer.engine" in sys.modules)
        real_init(self)

    monkeypatch.setattr(warm.WarmWorker, "__init__", init)
    monkeypatch.delitem(sys.modules, "fastapi_reviewer.engine")
    settings = Settings(force_exclude=True, jobs=2)
    edited = root / "app" / "s5.py"
    edited.write_text(edited.read_text() + "\n# edited\n")
    code = cli._run_check([edited], settings, None)
    assert started == [False]  # forked before the engine was imported
    assert code == 1  # the file's findings are still reported


_SPECULATION_PROBE = """
import json, sys
from fastapi_reviewer import cli, warm
forked = []
real_init = warm.WarmWorker.__init__
def init(self):
    forked.append("typer._adapters" in sys.modules)  # typer's argument parsing imports it (and pydantic)
    real_init(self)
warm.WarmWorker.__init__ = init
closed = []
real_close = warm.WarmWorker.close
def close(self):
    closed.append(self.process is not None)
    real_close(self)
warm.WarmWorker.close = close
warm.MIN_STAMPS_BYTES = 0
def end(code):  # the probe reports after main(): no os._exit
    raise SystemExit(code)
cli._end_process = end
code = 0
try:
    cli.main()
except SystemExit as exc:
    code = exc.code
sys.stdout.flush()
sys.stderr.write("\\n@@" + json.dumps({"code": code, "forked": forked, "closed": closed}) + "\\n")
"""


def _speculate(root: Path, *args: str) -> dict:  # type: ignore[type-arg]
    import json
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("FASTAPI_REVIEW_")}
    proc = subprocess.run([sys.executable, "-c", _SPECULATION_PROBE, *args], cwd=root, capture_output=True, text=True, env=env, timeout=120, check=False)
    info = json.loads(proc.stderr.rsplit("@@", 1)[1])
    info["stdout"] = proc.stdout
    return info


def test_a_check_run_on_a_warm_project_forks_the_worker_before_parsing_its_arguments(tmp_path):
    """The console script (main() with sys.argv) guesses from the raw arguments; the settings then
    use the worker or stop it.  Findings are those of a run without it, whatever the guess."""
    root = _project(tmp_path / "proj", 12)
    edited = root / "app" / "s5.py"
    cold = _speculate(root, "check", ".", "--format", "concise", "--jobs", "2")  # records the stamps
    assert cold["forked"] == [] and cold["code"] == 1  # nothing recorded yet: no guess
    edited.write_text(edited.read_text() + "\n# edited\n")
    warm_run = _speculate(root, "--force-exclude", "app/s5.py", "--format", "concise", "--jobs", "2")
    assert warm_run["forked"] == [False]  # forked once, before typer parsed the arguments
    expected = [line for line in cold["stdout"].splitlines() if line.startswith("app/s5.py")]
    assert [line for line in warm_run["stdout"].splitlines() if line.startswith("app/s5.py")] == expected != []
    # options that rule the worker out: no guess made
    for extra in (["--no-cache"], ["--jobs", "1"], ["--jobs=1"]):
        edited.write_text(edited.read_text() + "\n# edited again\n")
        run = _speculate(root, "--force-exclude", "app/s5.py", "--format", "concise", *extra)
        assert run["forked"] == [] and run["code"] == 1, extra
    # settings the guess does not read (pyproject.toml) that rule it out: forked, then stopped
    project_file = root / "pyproject.toml"
    original = project_file.read_text()
    project_file.write_text(original + "\n[tool.fastapi-review]\njobs = 1\n")
    edited.write_text(edited.read_text() + "\n# edited again\n")
    run = _speculate(root, "--force-exclude", "app/s5.py", "--format", "concise")
    assert run["forked"] == [False] and run["closed"] == [True] and run["code"] == 1
    project_file.write_text(original)
    # a cache folder named on the command line or in pyproject.toml is where the guess looks
    other = tmp_path / "elsewhere"
    _speculate(root, "check", ".", "--cache-dir", str(other), "--jobs", "2")
    edited.write_text(edited.read_text() + "\n# edited once more\n")
    named = _speculate(root, "--force-exclude", "app/s5.py", "--cache-dir", str(other), "--jobs", "2")
    assert named["forked"] == [False] and named["code"] == 1
    (root / "pyproject.toml").write_text((root / "pyproject.toml").read_text() + f"\n[tool.fastapi-review]\ncache-dir = {str(other)!r}\n")
    edited.write_text(edited.read_text() + "\n# and again\n")
    configured = _speculate(root, "--force-exclude", "app/s5.py", "--jobs", "2")
    assert configured["forked"] == [False] and configured["code"] == 1
    # another command, or a usage error: the guess is not made or the worker is stopped
    assert _speculate(root, "rules")["forked"] == []
    bad = _speculate(root, "--force-exclude", "app/s5.py", "--format", "nope")
    assert bad["code"] == 2 and bad["closed"] in ([], [True])
