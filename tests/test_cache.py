"""The facts cache: hits parse nothing, anything unreadable is a miss that gets rebuilt, writes are
atomic under concurrent runs, and a cache folder that cannot be written only means no caching."""

from __future__ import annotations

import dataclasses
import os
import pickle
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path

import pytest
from helpers import through_codec

from fastapi_reviewer import cache as cache_module
from fastapi_reviewer.cache import MAGIC, FactsCache, cache_key, dumps, loads
from fastapi_reviewer.config import Settings
from fastapi_reviewer.engine import scan
from fastapi_reviewer.facts.extract import extract
from fastapi_reviewer.facts.model import EMPTY_MAP
from fastapi_reviewer.packs import decode_index, decode_pack, encode_index, encode_pack

ROUTER = """
import requests
import time
from fastapi import APIRouter

router = APIRouter()


@router.get("/items/{n}")
async def item(n: int):
    time.sleep(1)
    return requests.get(f"https://example.com/{n}").json()
"""


def _project(root: Path, files: int = 3) -> Path:
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'sample'\n")
    pkg = root / "app"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    for i in range(files):
        (pkg / f"r{i}.py").write_text(textwrap.dedent(ROUTER).lstrip() + f"\nVALUE_{i} = {i}\n")
    return root


def _scan(root: Path, cache_dir: Path, **kw):  # type: ignore[no-untyped-def]
    settings = Settings(cache_dir=str(cache_dir), **kw)
    return scan([root], settings, cwd=root)


def _findings(result) -> list[tuple[str, int, str]]:  # type: ignore[no-untyped-def]
    return sorted((f.path, f.line, f.code) for f in result.report.findings)


def _forget_runs(cache_dir: Path) -> None:
    """Drop the run cache, so the next scan reads the facts cache (the subject of these tests)."""
    for entry in (cache_dir / "runs").glob("*.pickle"):
        entry.unlink()


def _rescan(root: Path, cache_dir: Path):  # type: ignore[no-untyped-def]
    """A scan that reads the facts cache: the run cache dropped first."""
    _forget_runs(cache_dir)
    return _scan(root, cache_dir)


def _packs(cache_dir: Path) -> list[Path]:
    return sorted((cache_dir / "packs").glob("*.pack"))


def _index(cache_dir: Path) -> dict[str, tuple[str, int, str, str]]:
    return decode_index((cache_dir / "packs" / "index").read_bytes())


def _indexed(cache_dir: Path) -> dict[str, object]:
    """key -> the facts the index leads to (None: unreadable)."""
    cache = FactsCache(cache_dir)
    return {key: cache.get(key) for key in _index(cache_dir)}


def _damage_entries(cache_dir: Path, damage) -> int:  # type: ignore[no-untyped-def]
    """Every entry of every pack damaged, the packs themselves left whole; the number damaged."""
    count = 0
    for pack in _packs(cache_dir):
        entries = [(key, damage(bytes(blob))) for key, blob in decode_pack(pack.read_bytes()).items()]
        pack.write_bytes(encode_pack(entries))
        count += len(entries)
    return count


@pytest.fixture()
def project(tmp_path: Path) -> tuple[Path, Path]:
    return _project(tmp_path / "proj"), tmp_path / "cache"


def test_second_run_parses_nothing_and_finds_the_same(project):
    root, cache_dir = project
    first = _scan(root, cache_dir)
    assert first.stats.parsed == 4 and first.stats.cached == 0
    assert first.report.findings
    second = _scan(root, cache_dir)
    assert second.stats.parsed == 0 and second.stats.cached == 4
    assert _findings(second) == _findings(first)
    assert (cache_dir / ".gitignore").read_text().strip().endswith("*")


def test_an_edited_file_alone_is_parsed_again(project):
    root, cache_dir = project
    _scan(root, cache_dir)
    target = root / "app" / "r1.py"
    target.write_text(target.read_text() + "\nEXTRA = 1\n")
    again = _scan(root, cache_dir)
    assert (again.stats.parsed, again.stats.cached) == (1, 3)


def test_no_cache_neither_reads_nor_writes(project):
    root, cache_dir = project
    result = _scan(root, cache_dir, cache=False)
    assert result.stats.parsed == 4
    assert not cache_dir.exists()


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda blob: os.urandom(len(blob)), id="random-bytes"),
        pytest.param(lambda blob: blob[: len(blob) // 2], id="truncated-pickle"),
        pytest.param(lambda blob: b"", id="empty"),
        pytest.param(lambda blob: MAGIC + pickle.dumps({"not": "facts"}), id="wrong-type"),
        pytest.param(lambda blob: MAGIC + pickle.dumps(["a", 1]), id="wrong-type-list"),
        pytest.param(lambda blob: pickle.dumps(loads(blob)), id="foreign-format"),
        pytest.param(lambda blob: MAGIC + b"\x80\x05garbage", id="bad-opcode"),
    ],
)
def test_damaged_entries_are_misses_and_get_rebuilt(project, damage):
    root, cache_dir = project
    first = _scan(root, cache_dir)
    assert _damage_entries(cache_dir, damage) == 4
    second = _rescan(root, cache_dir)
    assert second.stats.parsed == 4  # every entry was unreadable: parsed again, no crash
    assert _findings(second) == _findings(first)
    third = _rescan(root, cache_dir)
    assert third.stats.cached == 4  # and written back in good shape
    indexed = _indexed(cache_dir)
    assert len(indexed) == 4 and all(facts is not None for facts in indexed.values())


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda pack: pack.write_bytes(os.urandom(pack.stat().st_size)), id="random-bytes"),
        pytest.param(lambda pack: pack.write_bytes(pack.read_bytes()[:-10]), id="truncated"),
        pytest.param(lambda pack: pack.write_bytes(pack.read_bytes() + b"more"), id="appended"),
        pytest.param(lambda pack: pack.write_bytes(pack.read_bytes()[:30]), id="cut-in-the-rows"),
        pytest.param(lambda pack: pack.write_bytes(b""), id="empty"),
        pytest.param(lambda pack: pack.unlink(), id="gone"),
    ],
)
def test_damaged_or_missing_packs_are_misses_and_get_rebuilt(project, damage):
    root, cache_dir = project
    first = _scan(root, cache_dir)
    for pack in _packs(cache_dir):
        damage(pack)
    second = _rescan(root, cache_dir)
    assert (second.stats.parsed, second.stats.cached) == (4, 0)
    assert _findings(second) == _findings(first)
    third = _rescan(root, cache_dir)
    assert (third.stats.parsed, third.stats.cached) == (0, 4)


def test_a_folder_where_a_pack_should_be_is_a_miss(project):
    root, cache_dir = project
    first = _scan(root, cache_dir)
    for pack in _packs(cache_dir):
        pack.unlink()
        pack.mkdir()  # cannot be read, cannot be replaced: those files are parsed, not cached
    for _ in range(2):
        again = _rescan(root, cache_dir)
        assert (again.stats.parsed, again.stats.cached) == (4, 0) and _findings(again) == _findings(first)


DECOY = "0123456789abcdef.pack"  # a pack holding another file's entry


@pytest.mark.parametrize(
    "index",
    [
        pytest.param(lambda rows: os.urandom(200), id="random-bytes"),
        pytest.param(lambda rows: b"", id="empty"),
        pytest.param(lambda rows: encode_index(rows)[:-7], id="truncated"),
        pytest.param(lambda rows: b"FRI1" + pickle.dumps(rows), id="not-marshal"),
        pytest.param(lambda rows: b"FRI1" + __import__("marshal").dumps(list(rows)), id="a-list"),
        pytest.param(lambda rows: encode_index({k: ("../../../etc/passwd", *r[1:]) for k, r in rows.items()}), id="paths-out"),
        pytest.param(lambda rows: encode_index({k: (r[0], str(r[1]), *r[2:]) for k, r in rows.items()}), id="wrong-row-types"),
        pytest.param(lambda rows: encode_index({k: r[:3] for k, r in rows.items()}), id="rows-of-an-earlier-shape"),
        pytest.param(lambda rows: encode_index({k: r[0] for k, r in rows.items()}), id="rows-not-tuples"),
        pytest.param(lambda rows: encode_index({k: (DECOY, *r[1:]) for k, r in rows.items()}), id="rows-name-another-pack"),
    ],
)
def test_a_damaged_index_is_a_miss_for_what_it_cannot_lead_to(project, index):
    root, cache_dir = project
    first = _scan(root, cache_dir)
    rows = _index(cache_dir)
    assert len(rows) == 4
    (cache_dir / "packs" / DECOY).write_bytes(encode_pack([("f" * 40, dumps(extract("m.py", b"", "m", False)))]))
    (cache_dir / "packs" / "index").write_bytes(index(rows))
    second = _rescan(root, cache_dir)
    assert second.stats.parsed + second.stats.cached == 4 and second.stats.parsed >= 3  # no crash
    assert _findings(second) == _findings(first)
    third = _rescan(root, cache_dir)
    assert (third.stats.parsed, third.stats.cached) == (0, 4)


def test_a_cold_run_writes_one_pack_per_chunk_and_one_index(project):
    root, cache_dir = project
    _scan(root, cache_dir, jobs=1)  # in-process: chunks of CHUNK files, one pack each
    packs = _packs(cache_dir)
    assert len(packs) == 1 and len(decode_pack(packs[0].read_bytes())) == 4
    assert set(_index(cache_dir)) == set(decode_pack(packs[0].read_bytes()))
    assert not [p for p in (cache_dir / "packs").iterdir() if p.name.startswith(".tmp-")]


def test_the_index_merges_rows_saved_meanwhile_by_another_run(tmp_path):
    facts = extract("m.py", b"import os\n", "m", False)
    first, second = FactsCache(tmp_path / "c"), FactsCache(tmp_path / "c")
    assert not second.has("a" * 40)  # the second run read the (empty) index before the first saved
    first.put("a" * 40, facts)
    second.put("b" * 40, facts)
    third = FactsCache(tmp_path / "c")
    assert third.has("a" * 40) and third.has("b" * 40)
    assert third.get("a" * 40) is not None and third.get("b" * 40) is not None


_SAVER = """
import sys
from pathlib import Path
from fastapi_reviewer.cache import FactsCache, dumps
from fastapi_reviewer.facts.extract import extract
facts = dumps(extract("m.py", b"import os\\n", "m", False))
me = sys.argv[2]
for i in range(25):
    cache = FactsCache(Path(sys.argv[1]))
    cache.has("x")  # each run reads the index first, then saves: the lock keeps every row
    key = f"{me}{i:039d}"
    cache.add(cache.write_pack([(key, facts)]), [(key, "m")])
    cache.save()
"""


def test_concurrent_saves_keep_every_row(tmp_path):
    procs = [subprocess.Popen([sys.executable, "-c", _SAVER, str(tmp_path / "c"), me]) for me in "abc"]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    rows = _index(tmp_path / "c")
    assert len(rows) == 75
    cache = FactsCache(tmp_path / "c")
    assert all(cache.get(key) is not None for key in rows)


def test_unused_rows_expire_and_unnamed_old_packs_are_swept(tmp_path, monkeypatch):
    facts = extract("m.py", b"import os\n", "m", False)
    folder = tmp_path / "c" / "packs"
    cache = FactsCache(tmp_path / "c")
    cache.put("a" * 40, facts)
    cache.put("b" * 40, facts)
    old_pack = folder / _index(tmp_path / "c")["a" * 40][0]
    today = cache_module._today()
    # "a" was last used long ago; "b" today
    rows = _index(tmp_path / "c")
    rows["a" * 40] = (rows["a" * 40][0], today - cache_module.KEEP_DAYS - 1, *rows["a" * 40][2:])
    (folder / "index").write_bytes(encode_index(rows))
    stray_old, stray_new, tmp_old = folder / ("0" * 16 + ".pack"), folder / ("1" * 16 + ".pack"), folder / ".tmp-1-index"
    not_ours = folder / "backup.pack"  # not a name we write: never swept
    for path in (stray_old, stray_new, tmp_old, not_ours):
        path.write_bytes(b"x")
    hour_ago = __import__("time").time() - cache_module.STALE_SECONDS - 60
    for path in (stray_old, tmp_old, old_pack, not_ours):
        os.utime(path, (hour_ago, hour_ago))
    FactsCache(tmp_path / "c").put("c" * 40, facts)  # a save: expiry and sweep
    rows = _index(tmp_path / "c")
    assert set(rows) == {"b" * 40, "c" * 40}
    assert not stray_old.exists() and not tmp_old.exists() and not old_pack.exists()  # old and named by no row
    assert stray_new.exists()  # may be a running scan's, not indexed yet
    assert not_ours.exists()


def test_the_entry_of_a_files_earlier_content_leaves_the_index(project, monkeypatch):
    root, cache_dir = project
    _scan(root, cache_dir)
    before = _index(cache_dir)
    target = root / "app" / "r1.py"
    for i in range(3):
        target.write_text(target.read_text() + f"\nEDIT_{i} = 1\n")
        _scan(root, cache_dir)
    rows = _index(cache_dir)
    assert len(rows) == 4  # one row per file: the edited file's earlier versions are gone
    edited = str(target.resolve())
    assert {k: r for k, r in rows.items() if r[2] != edited} == {k: r for k, r in before.items() if r[2] != edited}
    # a run on a part of the project leaves the rows of the other files alone
    _scan(root / "app" / "r0.py", cache_dir)
    assert _index(cache_dir) == rows
    # and a project sharing the cache folder (the same module names) leaves them alone too
    other = _project(root.parent / "other")
    (other / "app" / "r1.py").write_text("import os\n")
    _scan(other, cache_dir)
    assert {k: r for k, r in _index(cache_dir).items() if r[2].startswith(str(root.resolve()))} == rows
    assert _rescan(root, cache_dir).stats.cached == 4
    # another version of the tool (another key prefix) sharing the folder: each keeps its rows
    monkeypatch.setattr(cache_module, "_KEY_PREFIX", b"another version\x1f")
    monkeypatch.setattr(cache_module, "_ERA", None)
    assert _rescan(root, cache_dir).stats.parsed == 4
    monkeypatch.undo()
    assert _rescan(root, cache_dir).stats.cached == 4  # its rows were left alone


def test_a_used_row_gets_todays_day(project, monkeypatch):
    root, cache_dir = project
    monkeypatch.setattr(cache_module, "_today", lambda: 20000)
    _scan(root, cache_dir)
    assert {row[1] for row in _index(cache_dir).values()} == {20000}
    monkeypatch.setattr(cache_module, "_today", lambda: 20005)
    assert _rescan(root, cache_dir).stats.cached == 4
    assert {row[1] for row in _index(cache_dir).values()} == {20005}


def test_the_first_index_removes_the_earlier_one_file_per_entry_layout(project):
    root, cache_dir = project
    legacy = cache_dir / "facts" / "ab"
    legacy.mkdir(parents=True)
    (legacy / ("ab" + "0" * 38 + ".pickle")).write_bytes(b"FRF3 old")
    (legacy / ".tmp-12-x").write_bytes(b"")
    _scan(root, cache_dir)
    assert not (cache_dir / "facts").exists() and len(_index(cache_dir)) == 4


def test_only_the_earlier_layouts_entries_are_removed(project):
    """A cache folder may have been pointed at a folder with a `facts/` of someone else's."""
    root, cache_dir = project
    own = cache_dir / "facts"
    (own / "ab").mkdir(parents=True)
    (own / "ab" / ("ab" + "0" * 38 + ".pickle")).write_bytes(b"FRF3 old")
    (own / "ab" / "notes.txt").write_text("mine")
    (own / "data.csv").write_text("a,b\n")
    _scan(root, cache_dir)
    assert (own / "ab" / "notes.txt").read_text() == "mine" and (own / "data.csv").exists()
    assert not (own / "ab" / ("ab" + "0" * 38 + ".pickle")).exists()


def test_unwritable_cache_still_scans(project, monkeypatch):
    root, cache_dir = project

    def refuse(*args, **kwargs):
        raise PermissionError(13, "read-only file system")

    real_open = os.open

    def refuse_in_cache(path, *args, **kwargs):  # entries (put_bytes) are opened with os.open
        if str(path).startswith(str(cache_dir)):
            raise PermissionError(13, "read-only file system")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(cache_module.tempfile, "mkstemp", refuse)  # stamps, run cache, catalog
    monkeypatch.setattr(cache_module.os, "open", refuse_in_cache)
    result = _scan(root, cache_dir)
    assert result.stats.parsed == 4 and result.report.findings
    assert not cache_dir.exists() or _packs(cache_dir) == []


def test_read_only_cache_folder(project):
    root, cache_dir = project
    first = _scan(root, cache_dir)
    folders = [cache_dir, *[p for p in cache_dir.rglob("*") if p.is_dir()]]
    try:
        for folder in folders:
            folder.chmod(0o555)
        target = root / "app" / "r0.py"
        target.write_text(target.read_text() + "\n# edited\n")
        again = _scan(root, cache_dir)  # the edited file cannot be cached (unless we are root)
        assert again.stats.parsed == 1 and again.stats.cached == 3
        assert len(again.report.findings) == len(first.report.findings)
        assert not list(cache_dir.rglob(".tmp-*"))  # no temp file left behind
    finally:
        for folder in folders:
            folder.chmod(0o755)


def test_failed_write_leaves_no_temp_file(tmp_path, monkeypatch):
    cache = FactsCache(tmp_path / "c")
    facts = extract("m.py", b"import os\n", "m", False)

    def broken(src, dst):
        raise OSError(28, "no space left on device")

    monkeypatch.setattr(cache_module.os, "replace", broken)
    cache.put("ab" + "0" * 38, facts)
    assert not [p for p in (tmp_path / "c").rglob("*") if p.is_file() and p.name != ".gitignore"]


def plain(value):
    """Facts as plain data: dataclasses as dicts, tuples as lists (what the codec changes)."""
    if dataclasses.is_dataclass(value):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, Mapping):  # dicts, the shared empty dict, packed maps
        return {plain(k): plain(v) for k, v in value.items()}
    return value


def test_codec_round_trip_keeps_every_field(tmp_path):
    source = textwrap.dedent(ROUTER).encode()
    facts = extract("app/r.py", source, "app.r", False)
    again = through_codec(facts, source, tmp_path)
    assert plain(again) == plain(facts)  # positions too: read from the file
    assert through_codec(again, source, tmp_path) == again  # compact facts go through the codec unchanged
    assert loads(b"") is None and loads(MAGIC) is None


def test_codec_loads_compact_read_only_facts():
    source = textwrap.dedent(ROUTER).encode()
    one, two = loads(dumps(extract("app/r.py", source, "app.r", False))), loads(dumps(extract("app/r.py", source, "app.r", False)))
    fn = next(f for f in one.functions if f.calls)
    assert isinstance(fn.calls, tuple) and isinstance(one.star_imports, tuple)
    empty = [f.kwargs for f in fn.calls if not f.kwargs]
    assert empty and all(d is EMPTY_MAP for d in empty)
    with pytest.raises(TypeError):
        empty[0]["x"] = "1"
    uses = [u for f in one.functions for us in f.uses.values() for u in us]
    again = [u for f in two.functions for us in f.uses.values() for u in us]
    assert uses and all(a is b for a, b in zip(uses, again))  # one object per distinct use, across modules


def test_key_covers_content_module_and_package_flag():
    data = b"x = 1\n"
    keys = {cache_key(data, "a.b", False), cache_key(data, "a.c", False), cache_key(data, "a.b", True), cache_key(b"x = 2\n", "a.b", False)}
    assert len(keys) == 4
    assert cache_key(data, "a.b", False) == cache_key(data, "a.b", False)


def test_rule_settings_do_not_change_facts_keys(project):
    """No setting is an input of the facts (they act on the rules): a rule selection reuses them."""
    root, cache_dir = project
    _scan(root, cache_dir)
    narrowed = _scan(root, cache_dir, select=["FR1"], ignore=["FR102"])
    assert narrowed.stats.parsed == 0 and narrowed.stats.cached == 4


def test_moved_project_reports_its_own_paths(project, tmp_path):
    root, cache_dir = project
    _scan(root, cache_dir)
    moved = tmp_path / "elsewhere"
    root.rename(moved)
    result = _scan(moved, cache_dir)
    assert result.stats.cached == 4
    assert all(not Path(f.path).is_absolute() and f.path.startswith("app/") for f in result.report.findings)


_WRITER = """
import sys
from pathlib import Path
from fastapi_reviewer.config import Settings
from fastapi_reviewer.engine import scan
root, cache = Path(sys.argv[1]), sys.argv[2]
for _ in range(3):
    result = scan([root], Settings(cache_dir=cache, jobs=2), cwd=root)
    assert not result.report.errors, result.report.errors
print(len(result.report.findings))
"""


def test_concurrent_runs_do_not_corrupt_the_cache(tmp_path):
    """Two processes (pre-commit runs in parallel) scanning and writing the same cache at once."""
    root = _project(tmp_path / "proj", files=40)  # over the pool threshold: workers write too
    cache_dir = tmp_path / "cache"
    procs = []
    for _ in range(2):
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", _WRITER, str(root), str(cache_dir)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
        )
        # both start at once: neither finds an entry, both write every one of them
    outputs = [p.communicate(timeout=300) for p in procs]
    for proc, (out, err) in zip(procs, outputs):
        assert proc.returncode == 0, err
    assert outputs[0][0] == outputs[1][0]
    indexed = _indexed(cache_dir)
    assert len(indexed) == 41 and all(facts is not None for facts in indexed.values())
    assert not list(cache_dir.rglob(".tmp-*"))
    result = _scan(root, cache_dir)
    assert result.stats.cached == 41 and str(len(result.report.findings)) == outputs[0][0].strip()


# ----------------------------------------------------------------------------- the run cache
def _run_entries(cache_dir: Path) -> list[Path]:
    return sorted((cache_dir / "runs").glob("*.pickle")) if (cache_dir / "runs").exists() else []


def test_unchanged_project_returns_the_last_report_without_loading_facts(project, monkeypatch):
    root, cache_dir = project
    first = _scan(root, cache_dir)
    assert len(_run_entries(cache_dir)) == 1
    from fastapi_reviewer import engine

    def no_facts(*a, **kw):
        raise AssertionError("facts loaded for an unchanged project")

    monkeypatch.setattr(engine, "collect_facts", no_facts)
    second = _scan(root, cache_dir)
    assert second.report == first.report
    assert second.suppressed == first.suppressed
    assert (second.stats.parsed, second.stats.cached) == (0, 4)
    monkeypatch.undo()
    # index and app are still there for whoever asks (built from the cached facts on first use)
    assert second.index.functions.keys() == first.index.functions.keys()
    assert len(second.app.routes) == len(first.app.routes)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda root: (root / "app" / "r2.py").write_text((root / "app" / "r2.py").read_text() + "\n# x\n"), id="edited-file"),
        pytest.param(lambda root: (root / "app" / "new.py").write_text("import time\n"), id="new-file"),
        pytest.param(lambda root: (root / "app" / "r0.py").unlink(), id="removed-file"),
    ],
)
def test_any_changed_input_misses_the_run_cache(project, change):
    root, cache_dir = project
    _scan(root, cache_dir)
    change(root)
    again = _scan(root, cache_dir)
    assert again.stats.parsed + again.stats.cached == len(list((root / "app").glob("*.py")))
    assert again.stats.parsed in (0, 1)
    assert len(_run_entries(cache_dir)) == 1  # one slot, replaced


def test_settings_that_act_on_findings_are_in_the_run_key(project):
    root, cache_dir = project
    full = _scan(root, cache_dir)
    narrowed = _scan(root, cache_dir, ignore=["FR102"])
    assert {f.code for f in narrowed.report.findings} == {f.code for f in full.report.findings} - {"FR102"}
    presentational = _scan(root, cache_dir, quiet=True, format=["json"], ignore=["FR102"])
    assert presentational.report == narrowed.report


def test_edited_tool_code_misses_the_run_cache(project, monkeypatch):
    root, cache_dir = project
    _scan(root, cache_dir)
    from fastapi_reviewer import runcache

    monkeypatch.setattr(runcache, "_STAMP", "another build")
    again = _scan(root, cache_dir)
    assert again.stats.cached == 4 and not isinstance(again, type(None))
    assert "index" in vars(again)  # a real run, not the cached one


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b[: len(b) // 2],
        lambda b: b"",
        lambda b: b"FRR1" + pickle.dumps(("k", 1, 2)),
        lambda b: b[:4] + pickle.dumps(pickle.loads(b[4:])) + pickle.dumps(("not a report", 0)),  # the right key, no report
        lambda b: b[:4] + pickle.dumps(pickle.loads(b[4:])),  # the key alone
    ],
)
def test_damaged_run_entry_is_a_miss(project, damage):
    root, cache_dir = project
    first = _scan(root, cache_dir)
    for entry in _run_entries(cache_dir):
        entry.write_bytes(damage(entry.read_bytes()))
    again = _scan(root, cache_dir)
    assert again.report == first.report and "index" in vars(again)
    assert _scan(root, cache_dir).report == first.report


def test_cache_path_that_is_a_file_still_scans(project):
    root, cache_dir = project
    cache_dir.write_text("not a folder")
    result = _scan(root, cache_dir)
    assert result.stats.parsed == 4 and result.report.findings
    again = _scan(root, cache_dir)
    assert again.stats.parsed == 4  # nothing could be cached, nothing crashed


def test_flow_facts_load_packed_and_unpack_on_first_read():
    from fastapi_reviewer.facts.packed import _UNPACKED, PackedTexts, PackedUses

    source = textwrap.dedent(ROUTER).encode()
    fresh = extract("app/r.py", source, "app.r", False)
    loaded = loads(dumps(fresh))
    pairs = [(f, g) for f, g in zip(fresh.functions, loaded.functions) if f.uses]
    assert pairs
    assert all(isinstance(g.uses, PackedUses) and id(g.uses) not in _UNPACKED for _, g in pairs)  # nothing unpacked yet
    for f, g in pairs:
        assert dict(g.uses) == {k: tuple(v) for k, v in f.uses.items()}
        assert len(g.uses) == len(f.uses) and all(k in g.uses for k in f.uses) and g.uses.get("?") is None
        assert id(g.uses) in _UNPACKED  # unpacked once
        assert loads(dumps(loaded)).functions == loaded.functions  # packs again when pickled
        with pytest.raises(TypeError):
            g.uses["x"] = ()  # type: ignore[index]
    module_level = loads(dumps(extract("m.py", b"A = 'x'\nB = ['y']\n", "m", False))).functions[0]
    assert isinstance(module_level.literals, PackedTexts) and dict(module_level.literals) == {"A": "'x'", "B": "['y']"}


# ------------------------------------------------------------- lazy function bodies (facts/lazy.py)
LAZY = """
import requests
from fastapi import APIRouter, FastAPI

router = APIRouter()
app = FastAPI(lifespan=None)
app.include_router(router, dependencies=[])


@router.get("/items/{n}")
async def item(n: int, q: str | None = None):
    data = {"task": "x"}
    try:
        r = requests.get(f"https://example.com/{n}", timeout=3)
    except ValueError:
        raise
    for i in range(n):
        get_thing()(i)
    return r.json()
"""


def _lazy_module():  # type: ignore[no-untyped-def]
    return extract("app/r.py", textwrap.dedent(LAZY).encode(), "app.r", False)


def test_loaded_function_bodies_stay_packed_until_read(tmp_path):
    from fastapi_reviewer.facts.lazy import (
        BODY_FIELDS,
        BodyStore,
        LazyFunctionFacts,
        call_args,
        call_keywords,
        call_targets,
        unresolved_calls,
    )

    facts = _lazy_module()
    loaded = through_codec(facts, textwrap.dedent(LAZY).encode(), tmp_path, lazy=True)
    fn = next(f for f in loaded.functions if f.name == "item")
    store = object.__getattribute__(fn, "_store")
    assert isinstance(fn, LazyFunctionFacts) and isinstance(store, BodyStore) and isinstance(store.blob, bytes)
    assert all(object.__getattribute__(f, "_store") is store for f in loaded.functions)  # one store per module
    for f in loaded.functions:
        for name in BODY_FIELDS:  # not built yet
            with pytest.raises(AttributeError):
                object.__getattribute__(f, name)
    # the extras answer without decoding the bodies
    original = next(f for f in facts.functions if f.name == "item")
    assert call_targets(fn) == tuple(c.target for c in original.calls)
    assert call_keywords(fn) == tuple((i, tuple(c.kwargs)) for i, c in enumerate(original.calls) if c.kwargs) != ()
    assert unresolved_calls(fn) == tuple(c.raw for c in original.calls if c.target is None) != ()
    assert any(names == ("timeout",) for _, names in call_keywords(fn))
    assert store.blob is not None
    # the outside is there from the start; the first read of an inside field decodes the module
    assert fn.params[0].name == "n" and fn.is_async
    assert len(fn.calls) == len(original.calls)
    assert store.blob is None and store.functions == []  # dropped once decoded
    assert all(object.__getattribute__(f, "_store") is None for f in loaded.functions)
    for got, want in zip(loaded.functions, facts.functions):
        assert plain(got) == plain(want)  # positions too: the spans in the bodies know their module
    # without lazy (a whole-project run) the insides are built at once
    eager = loads(dumps(facts))
    assert all(object.__getattribute__(f, "_store") is None for f in eager.functions)
    assert [len(object.__getattribute__(f, "calls")) for f in eager.functions] == [len(f.calls) for f in facts.functions]
    # their extras dropped (memory), as None in their slots: derived from the calls without __getattr__
    for decoded, made in zip(eager.functions, facts.functions):
        assert object.__getattribute__(decoded, "call_targets") is None
        assert call_targets(decoded) == call_targets(made) and call_keywords(decoded) == call_keywords(made)
        assert unresolved_calls(decoded) == unresolved_calls(made)
        assert [tuple(a) for a in call_args(decoded)] == [tuple(a) for a in call_args(made)]
    assert loads(dumps(eager)).functions == eager.functions  # and pickled again as they were
    # the same extras on facts made by hand (not loaded)
    assert call_targets(original) == call_targets(fn) and unresolved_calls(original) == unresolved_calls(fn)


def test_lazy_functions_survive_replace_pickling_alone_and_a_second_round_trip():
    loaded = loads(dumps(_lazy_module()), lazy=True)
    fn = next(f for f in loaded.functions if f.name == "item")
    copy = dataclasses.replace(fn, name="other")
    assert copy.name == "other" and copy.calls == fn.calls
    assert copy.call_targets == fn.call_targets  # computed from the calls for a constructed object
    alone = pickle.loads(pickle.dumps(fn))  # a function pickled outside its module: its own store
    assert plain(alone) == plain(fn)
    again = loads(dumps(loaded))
    assert plain(again) == plain(loaded)


def test_a_damaged_body_reads_as_empty_not_a_crash():
    loaded = loads(dumps(_lazy_module()), lazy=True)
    fn = next(f for f in loaded.functions if f.name == "item")
    object.__getattribute__(fn, "_store").blob = b"not a pickle"
    assert fn.calls == () and fn.excepts == () and fn.uses == {}


def test_models_and_per_request_walks_decode_only_what_they_report(tmp_path):
    """A run naming one file decodes the bodies of that file's functions and what its findings
    need, not the rest of the project (what makes a pre-commit run cheap)."""
    from fastapi_reviewer.facts import lazy

    root = _project(tmp_path / "proj", files=6)
    (root / "app" / "helpers.py").write_text("import time\n\n\ndef pause():\n    time.sleep(1)\n\n\ndef unused():\n    return [time.time() for _ in range(3)]\n")
    (root / "app" / "r0.py").write_text((root / "app" / "r0.py").read_text() + "\nfrom app.helpers import pause\n\n\n@router.get('/p')\nasync def p():\n    pause()\n")
    cache_dir = tmp_path / "cache"
    full = _scan(root, cache_dir)
    decoded: list[str] = []
    original = lazy.BodyStore.decode

    def spy(self):  # type: ignore[no-untyped-def]
        decoded.append(",".join(sorted(object.__getattribute__(fn, "qualname") for _, fn in self.functions)))
        original(self)

    _forget_runs(cache_dir)
    lazy.BodyStore.decode = spy  # type: ignore[method-assign]
    try:
        one = scan([root / "app" / "r0.py"], Settings(cache_dir=str(cache_dir)), cwd=root)
    finally:
        lazy.BodyStore.decode = original  # type: ignore[method-assign]
    assert one.stats.cached == len(full.discovery.files)
    assert _findings(one) == [f for f in _findings(full) if f[0] == "app/r0.py"] != []
    assert "<module>,pause,unused" in decoded  # app.helpers: reached from the route in scope (FR1xx through a helper)
    assert "<module>,item,p" in decoded  # app.r0, in scope
    assert "<module>,item" not in decoded  # app.r1 ... app.r5: never read


def test_rule_catalog_is_kept_in_the_cache_folder_and_checked(tmp_path, monkeypatch):
    from fastapi_reviewer import runcache
    from fastapi_reviewer.catalog import load_catalog

    cache = FactsCache(tmp_path / "c")
    first = runcache.load_catalog_cached(cache)
    assert (tmp_path / "c" / runcache.CATALOG).is_file()
    assert first == load_catalog()
    again = runcache.load_catalog_cached(cache)
    assert again is not first and again == first  # read back from the pickle
    (tmp_path / "c" / runcache.CATALOG).write_bytes(b"damaged")
    assert runcache.load_catalog_cached(cache) == first  # a damaged file: parsed again, rewritten
    monkeypatch.setattr(runcache, "_STAMP", "another build")
    parsed = []
    monkeypatch.setattr("fastapi_reviewer.catalog.load_catalog", lambda: parsed.append(1) or first)
    runcache.load_catalog_cached(cache)
    assert parsed == [1]  # another code stamp: not the saved catalog
