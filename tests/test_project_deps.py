"""What a project's lock file says of a dependency's version (project_deps.py): read from the
package's own ``[[package]]`` table when the file is laid out as lock tools write it (a uv.lock can
be hundreds of kilobytes), and from a parse of the whole file otherwise, with the same answers."""

from __future__ import annotations

import pytest

from fastapi_reviewer import project_deps
from fastapi_reviewer.project_deps import _from_lock, declared_major, declares

UV = """version = 1
requires-python = ">=3.12"

[[package]]
name = "annotated-types"
version = "0.7.0"
source = { registry = "https://pypi.org/simple" }
wheels = [
    { url = "https://files.example/annotated_types-0.7.0-py3-none-any.whl", hash = "sha256:00" },
]

[[package]]
name = "pydantic"
version = "2.13.4"
source = { registry = "https://pypi.org/simple" }
dependencies = [
    { name = "annotated-types" },
    { name = "pydantic-core" },
]
sdist = { url = "https://files.example/pydantic-2.13.4.tar.gz", hash = "sha256:11" }

[package.optional-dependencies]
email = [
    { name = "email-validator" },
]

[[package]]
name = "pydantic-settings"
version = "2.10.1"
"""

POETRY = """[[package]]
name = "Pydantic"
version = "1.10.13"
description = "Data validation"
optional = false

[package.dependencies]
typing-extensions = ">=4.2.0"

[metadata]
lock-version = "2.0"
"""


def _lock(tmp_path, text, name="uv.lock"):  # type: ignore[no-untyped-def]
    (tmp_path / name).write_text(text)
    return tmp_path


@pytest.mark.parametrize(
    ("name", "text", "package", "major"),
    [
        ("uv.lock", UV, "pydantic", 2),
        ("uv.lock", UV, "pydantic_settings", 2),  # names compare normalised
        ("uv.lock", UV, "fastapi", None),
        ("poetry.lock", POETRY, "pydantic", 1),
        ("pdm.lock", '[metadata]\ngroups = ["default"]\n\n[[package]]\nname = "pydantic"\nversion = "2.5.0"\n', "pydantic", 2),
        # written another way: the whole file is parsed, same answer
        ("uv.lock", 'package = [{ name = "pydantic", version = "2.1.0" }]\n', "pydantic", 2),
        ("uv.lock", '[[package]]\nversion = "1.9.0"\nname = "pydantic"\n', "pydantic", 1),  # key order
        ("uv.lock", '[[package]]\nname = "x"\nversion = "1"\n\n[[package.extra]]\nname = "pydantic"\n', "pydantic", None),
        # a nested array line starting with `[` cuts the table early: the whole file then
        ("uv.lock", '[[package]]\nname = "pydantic"\nmarkers = [\n[ "a" ],\n]\nversion = "2.0.0"\n', "pydantic", 2),
        # a first table without a usable version: the next one counts, as in a full parse
        ("uv.lock", '[[package]]\nname = "pydantic"\nsource = { git = "x" }\n\n[[package]]\nname = "pydantic"\nversion = "1.10.2"\n', "pydantic", 1),
        ("uv.lock", "not toml [[[\n", "pydantic", None),
    ],
)
def test_locked_major(tmp_path, name: str, text: str, package: str, major: int | None) -> None:
    root = _lock(tmp_path, text, name)
    assert _from_lock(root, project_deps._normalise(package)) == major
    data = project_deps._loads_toml(text)  # what a parse of the whole file says
    full = [p for p in data.get("package", []) if project_deps._normalise(str(p.get("name", ""))) == project_deps._normalise(package)]
    want = next((int(str(p["version"]).split(".")[0]) for p in full if str(p.get("version", ""))[:1].isdigit()), None)
    assert major == want


def test_a_big_lock_is_not_parsed_whole(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    filler = "".join(f'[[package]]\nname = "pkg-{i}"\nversion = "1.0.{i}"\nsource = {{ registry = "https://pypi.org/simple" }}\n\n' for i in range(3000))
    root = _lock(tmp_path, filler + UV.split("\n", 2)[2])
    parsed: list[int] = []
    real = project_deps.tomllib.loads
    monkeypatch.setattr(project_deps.tomllib, "loads", lambda text: parsed.append(len(text)) or real(text))
    assert declared_major(root, "pydantic") == 2 and declares(root, "pydantic-settings")
    assert parsed and max(parsed) < 1000  # the matching tables alone (the file: ~250 KB)


def test_an_unreadable_lock_is_skipped(tmp_path) -> None:
    (tmp_path / "uv.lock").write_bytes(b'[[package]]\nname = "pydantic"\nversion = "2\xff"\n')
    (tmp_path / "poetry.lock").write_text(POETRY)
    assert _from_lock(tmp_path, "pydantic") == 1
