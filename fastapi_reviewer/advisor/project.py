"""Project facts for the prompt: framework versions declared in dependency files, number of routes."""

from __future__ import annotations

import ast
import os
import re
import sys
from pathlib import Path

from pydantic import BaseModel, Field

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

TRACKED = ("fastapi", "pydantic", "sqlalchemy", "celery")
DISPLAY = {"fastapi": "FastAPI", "pydantic": "Pydantic", "sqlalchemy": "SQLAlchemy", "celery": "Celery"}
ROUTE_METHODS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "trace", "api_route", "websocket"})
SKIP_DIRS = frozenset({".git", ".hg", ".venv", "venv", "env", "node_modules", "__pycache__", "site-packages", "build", "dist"})
MAX_ROUTE_FILES = 5000

_REQ_LINE = re.compile(r"^\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(?P<spec>[^;#]*)")


class Dependency(BaseModel):
    name: str  # display name: FastAPI, Pydantic, ...
    spec: str  # as declared: "==0.111.0", ">=2.5,<3", "^2.0", "*" (any)
    source: str  # the file it was read from, relative to the project root


class ProjectFacts(BaseModel):
    dependencies: list[Dependency] = Field(default_factory=list)
    routes: int | None = None  # None: not counted


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _from_requirement(line: str) -> tuple[str, str] | None:
    line = line.strip()
    if not line or line.startswith(("#", "-")):
        return None
    match = _REQ_LINE.match(line)
    if not match:
        return None
    name = _normalise(match.group("name"))
    if name not in TRACKED:
        return None
    return name, " ".join(match.group("spec").split()) or "*"


def _poetry_spec(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return str(value.get("version", "*"))
    if isinstance(value, list) and value:
        return _poetry_spec(value[0])
    return "*"


def declared_versions(root: Path) -> list[Dependency]:
    """FastAPI/Pydantic/SQLAlchemy/Celery as declared in pyproject.toml (PEP 621 or Poetry) or requirements*.txt."""
    found: dict[str, Dependency] = {}

    def add(name: str, spec: str, source: str) -> None:
        if name not in found:
            found[name] = Dependency(name=DISPLAY[name], spec=spec, source=source)

    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            data = {}
        project = data.get("project", {})
        for req in project.get("dependencies", []) or []:
            parsed = _from_requirement(str(req)) if isinstance(req, str) else None
            if parsed:
                add(*parsed, "pyproject.toml")
        poetry = data.get("tool", {}).get("poetry", {})
        groups = [poetry.get("dependencies", {})]
        groups += [g.get("dependencies", {}) for g in (poetry.get("group", {}) or {}).values() if isinstance(g, dict)]
        for group in groups:
            if not isinstance(group, dict):
                continue
            for name, value in group.items():
                key = _normalise(str(name))
                if key in TRACKED:
                    add(key, _poetry_spec(value), "pyproject.toml")
        for extra in (project.get("optional-dependencies", {}) or {}).values():
            for req in extra or []:
                parsed = _from_requirement(str(req)) if isinstance(req, str) else None
                if parsed:
                    add(*parsed, "pyproject.toml")
    requirement_files = sorted(root.glob("requirements*.txt")) + sorted(root.glob("requirements/*.txt"))
    for path in requirement_files:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for line in text.splitlines():
            parsed = _from_requirement(line)
            if parsed:
                add(*parsed, path.relative_to(root).as_posix())
    return [found[name] for name in TRACKED if name in found]


def _is_route_decorator(node: ast.expr) -> bool:
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
        return False
    return node.func.attr in ROUTE_METHODS


def count_routes(root: Path) -> int:
    """Path operations (``@app.get(...)``, ``@router.post(...)``, ...) in the project's Python files."""
    total = 0
    seen = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        for filename in sorted(filenames):
            if not filename.endswith(".py"):
                continue
            seen += 1
            if seen > MAX_ROUTE_FILES:
                return total
            path = Path(dirpath) / filename
            try:
                source = path.read_bytes()
                if b"." not in source or not any(m.encode() in source for m in ROUTE_METHODS):
                    continue
                tree = ast.parse(source)
            except (OSError, SyntaxError, ValueError):
                continue
            for node in ast.walk(tree):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    total += sum(1 for d in node.decorator_list if _is_route_decorator(d))
    return total


def collect_project_facts(root: Path, routes: int | None = None) -> ProjectFacts:
    """Facts for the prompt. Pass ``routes`` when the caller already knows them (the scanner's index)."""
    return ProjectFacts(dependencies=declared_versions(root), routes=count_routes(root) if routes is None else routes)
