"""Running the scanner on small in-memory projects."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from fastapi_reviewer.config import Settings
from fastapi_reviewer.engine import scan
from fastapi_reviewer.findings import Finding

EXPECT = re.compile(r"#\s*error:\s*(?P<codes>[A-Z]+\d+(?:\s*,\s*[A-Z]+\d+)*)")


def write_project(root: Path, files: dict[str, str], pyproject: str = "") -> Path:
    (root / "pyproject.toml").write_text(pyproject or "[project]\nname = 'sample'\n")
    for rel, code in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(code).lstrip("\n"))
    return root


def run(root: Path, settings: Settings | None = None, targets: list[Path] | None = None) -> list[Finding]:
    settings = settings or Settings(cache=False)
    result = scan(targets or [root], settings, cwd=root)
    assert not result.report.errors, result.report.errors
    return result.report.findings


def expected_markers(code: str) -> list[tuple[int, str]]:
    found = []
    for number, line in enumerate(textwrap.dedent(code).lstrip("\n").splitlines(), start=1):
        match = EXPECT.search(line)
        if match:
            found.extend((number, c.strip()) for c in match.group("codes").split(","))
    return sorted(found)


def through_codec(facts, data: bytes, folder: Path, lazy: bool = False):  # type: ignore[no-untyped-def]
    """``facts`` (extracted from ``data``) through the cache codec, as a scan loads them: bound to
    the file (written under ``folder``) their positions are read from when asked."""
    from fastapi_reviewer.cache import cache_key, dumps, loads

    path = folder / facts.path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return loads(dumps(facts), lazy, (str(path), cache_key(data, facts.module, facts.is_package), facts.module, facts.is_package))
