"""The major version of a dependency the project declares (pyproject, requirements, lock files).

Only what the files say for sure: ``pydantic>=2``, ``pydantic==2.*``, ``pydantic~=2.5``,
``pydantic = "^2.5"`` (poetry) and a locked ``2.x`` give 2; ``pydantic<2`` or ``==1.10.*`` give 1;
``pydantic>=1.8`` (either major fits) and an unpinned ``pydantic`` give nothing.  Lock files
(``uv.lock``, ``poetry.lock``, ``pdm.lock``) name the resolved version and win over specifiers.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_REQ = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$")
_CLAUSE = re.compile(r"(===|==|~=|!=|<=|>=|<|>|\^|~)?\s*v?(\d+|\*)(?:\.(\d+|\*))?")
_LOCKS = ("uv.lock", "poetry.lock", "pdm.lock")


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def major_from_spec(spec: str) -> int | None:
    """`>=2.0,<3` -> 2; `<2` -> 1; `^1.10` -> 1; `>=1.8` -> None; `2.5.3` (poetry exact) -> 2."""
    spec = spec.split(";", 1)[0].strip()  # environment markers
    if not spec or spec == "*":
        return None
    low: int | None = None
    high: int | None = None  # the first major that is excluded
    for raw in spec.split(","):
        clause = raw.strip()
        if not clause:
            continue
        if clause.startswith("||"):
            return None
        match = _CLAUSE.match(clause)
        if match is None:
            continue
        op, major_text, minor_text = match.group(1) or "==", match.group(2), match.group(3)
        if major_text == "*":
            continue
        major = int(major_text)
        minor = int(minor_text) if minor_text and minor_text != "*" else 0
        if op in ("==", "===", "^", "~", "~="):
            if op == "~=" and minor_text is None:
                return None  # ~=2 is not valid; be silent
            low = major if low is None else max(low, major)
            high = major + 1 if high is None else min(high, major + 1)
        elif op in (">=", ">"):
            low = major if low is None else max(low, major)
        elif op == "<":
            cap = major if minor == 0 and not (minor_text and minor_text != "0") else major + 1
            high = cap if high is None else min(high, cap)
        elif op == "<=":
            high = major + 1 if high is None else min(high, major + 1)
    if low is not None and high is not None and high - low == 1:
        return low
    if low is not None and low >= 2 and high is None:
        return low
    if high is not None and high <= 2 and (low is None or low < high):
        return high - 1
    return None


def _requirement(line: str, name: str) -> str | None:
    line = line.split("#", 1)[0].strip()
    if not line or line.startswith("-"):
        return None
    match = _REQ.match(line)
    if match is None or _normalise(match.group(1)) != name:
        return None
    return match.group(3).strip()


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def _from_lock(root: Path, name: str) -> int | None:
    for lock in _LOCKS:
        try:
            text = (root / lock).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        packages = _locked_packages(text, name)
        if packages is None:  # not laid out as the lock tools write: the whole file
            data = _loads_toml(text)
            packages = data.get("package", []) if isinstance(data.get("package"), list) else []
        for package in packages:
            if isinstance(package, dict) and _normalise(str(package.get("name", ""))) == name:
                version = str(package.get("version", ""))
                if version[:1].isdigit():
                    return int(re.match(r"\d+", version).group())  # type: ignore[union-attr]
    return None


# a lock file names each package on a line of its own, `name = "pydantic"`, in its `[[package]]`
# table; uv.lock files run to thousands of packages (polar's: 600 KB, ~70 ms to parse in full)
_NAME_LINE = re.compile(r'^name[ \t]*=[ \t]*"([^"\\\n]*)"', re.MULTILINE)
_NAME_ANYWHERE = re.compile(r'\bname[ \t]*=[ \t]*["\']([^"\'\n]*)["\']')
_TABLE_HEADER = re.compile(r"^[ \t]*\[", re.MULTILINE)


def _locked_packages(text: str, name: str) -> list[dict[str, Any]] | None:
    """The ``[[package]]`` tables of a lock file that name ``name``, each parsed alone: what a full
    parse would list for it, in file order, for the layout lock tools write; None (parse it all)
    when a name is written any other way."""
    found: list[dict[str, Any]] = []
    lines = 0
    for match in _NAME_LINE.finditer(text):
        if _normalise(match.group(1)) != name:
            continue
        lines += 1
        start = text.rfind("\n[", 0, match.start()) + 1  # the line of the table's header
        if text[start : text.find("\n", start)].strip() != "[[package]]":
            return None
        after = _TABLE_HEADER.search(text, match.end())
        table = _loads_toml(text[start : after.start() if after else len(text)]).get("package")
        if not (isinstance(table, list) and len(table) == 1):
            return None
        found.append(table[0])
    if not lines and any(_normalise(m.group(1)) == name for m in _NAME_ANYWHERE.finditer(text)):
        return None  # named, but not on a line of its own
    return found


def _loads_toml(text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return {}


def _from_pyproject(root: Path, name: str) -> list[str]:
    data = _read_toml(root / "pyproject.toml")
    specs: list[str] = []
    if not data:
        return specs
    project = data.get("project", {}) if isinstance(data.get("project"), dict) else {}
    lists: list[Any] = [project.get("dependencies", [])]
    optional = project.get("optional-dependencies", {})
    if isinstance(optional, dict):
        lists.extend(optional.values())
    groups = data.get("dependency-groups", {})
    if isinstance(groups, dict):
        lists.extend(groups.values())
    tool = data.get("tool", {}) if isinstance(data.get("tool"), dict) else {}
    pdm = tool.get("pdm", {}).get("dev-dependencies", {}) if isinstance(tool.get("pdm"), dict) else {}
    if isinstance(pdm, dict):
        lists.extend(pdm.values())
    for items in lists:
        if isinstance(items, list):
            for item in items:
                if isinstance(item, str):
                    spec = _requirement(item, name)
                    if spec is not None:
                        specs.append(spec)
    poetry = tool.get("poetry", {}) if isinstance(tool.get("poetry"), dict) else {}
    tables = [poetry.get("dependencies", {}), poetry.get("dev-dependencies", {})]
    for group in (poetry.get("group", {}) or {}).values() if isinstance(poetry.get("group"), dict) else []:
        if isinstance(group, dict):
            tables.append(group.get("dependencies", {}))
    for table in tables:
        if not isinstance(table, dict):
            continue
        for key, value in table.items():
            if _normalise(key) != name:
                continue
            if isinstance(value, dict):
                value = value.get("version", "")
            if isinstance(value, str):
                specs.append(value)
    return specs


def _from_requirements_file(path: Path, name: str) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return [spec for spec in (_requirement(line, name) for line in text.splitlines()) if spec is not None]


def _from_requirements(root: Path, name: str) -> list[str]:
    files = sorted(root.glob("requirements*.txt")) + sorted(root.glob("requirements/*.txt"))
    return [spec for path in files for spec in _from_requirements_file(path, name)]


def declared_specs(root: Path, package: str) -> list[tuple[str, str]]:
    """Every specifier the project declares for `package`, with the file it is in (root-relative)."""
    name = _normalise(package)
    found = [(spec, "pyproject.toml") for spec in _from_pyproject(root, name)]
    for path in sorted(root.glob("requirements*.txt")) + sorted(root.glob("requirements/*.txt")):
        found.extend((spec, path.relative_to(root).as_posix()) for spec in _from_requirements_file(path, name))
    return found


def declared_major(root: Path | None, package: str) -> int | None:
    """The major version of `package` the project at `root` pins, or None when it does not say."""
    if root is None:
        return None
    name = _normalise(package)
    locked = _from_lock(root, name)
    if locked is not None:
        return locked
    majors = {major_from_spec(spec) for spec in _from_pyproject(root, name) + _from_requirements(root, name)}
    majors.discard(None)
    return majors.pop() if len(majors) == 1 else None


def declares(root: Path | None, package: str) -> bool:
    """The project lists `package` at all (any version)."""
    if root is None:
        return False
    name = _normalise(package)
    return bool(_from_pyproject(root, name) or _from_requirements(root, name) or _from_lock(root, name) is not None)
