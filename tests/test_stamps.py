"""File stamps: unchanged files are not read again; any edit is seen, even one that keeps size and mtime."""

from __future__ import annotations

import os
import time
from pathlib import Path

from fastapi_reviewer.cache import FactsCache, cache_key
from fastapi_reviewer.config import Settings
from fastapi_reviewer.engine import scan
from fastapi_reviewer.runcache import read_inputs
from fastapi_reviewer.stamps import FileStamps

BLOCKING = "import time\n\n\nasync def handler():\n    time.sleep(1)\n"
CLEAN = "import time\n\n\nasync def handler():\n    time.sleep(0)\n"  # same size, still blocking
SILENT = "import time\n\n\nasync def handler():\n    time.time  ()\n"  # same size, not blocking


def _age(path: Path, seconds: int = 60) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


def _entries(root: Path) -> list[tuple[Path, str, str, bool]]:
    return [(p, p.name, p.stem, False) for p in sorted(root.glob("*.py"))]


def test_unchanged_files_are_not_read_again(tmp_path: Path) -> None:
    for i in range(3):
        (tmp_path / f"m{i}.py").write_text(BLOCKING)
        _age(tmp_path / f"m{i}.py")
    cache = FactsCache(tmp_path / "cache")
    stamps = FileStamps(cache)
    first = read_inputs(_entries(tmp_path), stamps)
    assert stamps.changed is False and len(stamps.entries) == 3  # recorded and saved
    opened: list[str] = []
    real_open = open

    def spy(path, *args, **kwargs):
        opened.append(str(path))
        return real_open(path, *args, **kwargs)

    import builtins

    builtins.open, saved = spy, builtins.open
    try:
        second = read_inputs(_entries(tmp_path), FileStamps(cache))
    finally:
        builtins.open = saved
    assert second == first
    assert not [p for p in opened if p.endswith(".py")]  # not even opened


def test_a_fresh_file_is_read_until_its_stamp_settles(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text(BLOCKING)  # mtime: now (racy)
    cache = FactsCache(tmp_path / "cache")
    read_inputs(_entries(tmp_path), FileStamps(cache))
    again = read_inputs(_entries(tmp_path), FileStamps(cache))
    assert again[path][0] is not None


def test_an_edit_keeping_size_and_mtime_is_seen(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    path = tmp_path / "m.py"
    path.write_text(BLOCKING)
    _age(path)
    settings = Settings(cache_dir=str(tmp_path / "cache"))
    assert [f.code for f in scan([tmp_path], settings, cwd=tmp_path).report.findings] == ["FR102"]
    st = path.stat()
    path.write_text(SILENT)
    assert path.stat().st_size == st.st_size
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # same size, same mtime: only ctime moved
    assert scan([tmp_path], settings, cwd=tmp_path).report.findings == []


def test_damaged_stamps_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text(CLEAN)
    _age(path)
    cache = FactsCache(tmp_path / "cache")
    read_inputs(_entries(tmp_path), FileStamps(cache))
    stamps_file = tmp_path / "cache" / "stamps.pickle"
    assert stamps_file.exists()
    stamps_file.write_bytes(b"FRS1 not a pickle")
    found = read_inputs(_entries(tmp_path), FileStamps(cache))
    assert found[path] == (cache_key(CLEAN.encode(), "m", False), len(CLEAN))
