"""Project facts for the prompt: framework versions declared in dependency files, number of routes."""

from __future__ import annotations

import ast
import os
from pathlib import Path

from pydantic import BaseModel, Field

TRACKED = ("fastapi", "pydantic", "sqlalchemy", "celery")
DISPLAY = {"fastapi": "FastAPI", "pydantic": "Pydantic", "sqlalchemy": "SQLAlchemy", "celery": "Celery"}
ROUTE_METHODS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "trace", "api_route", "websocket"})
SKIP_DIRS = frozenset({".git", ".hg", ".venv", "venv", "env", "node_modules", "__pycache__", "site-packages", "build", "dist"})
MAX_ROUTE_FILES = 5000



class Dependency(BaseModel):
    name: str  # display name: FastAPI, Pydantic, ...
    spec: str  # as declared: "==0.111.0", ">=2.5,<3", "^2.0", "*" (any)
    source: str  # the file it was read from, relative to the project root


class ProjectFacts(BaseModel):
    dependencies: list[Dependency] = Field(default_factory=list)
    routes: int | None = None  # None: not counted


def declared_versions(root: Path) -> list[Dependency]:
    """FastAPI/Pydantic/SQLAlchemy/Celery as declared in pyproject.toml (PEP 621 or Poetry) or requirements*.txt."""
    from fastapi_reviewer.project_deps import declared_specs

    found: list[Dependency] = []
    for name in TRACKED:
        specs = declared_specs(root, name)
        if specs:
            spec, source = specs[0]
            spec = " ".join(spec.split(";", 1)[0].split())  # environment markers are not versions
            found.append(Dependency(name=DISPLAY[name], spec=spec or "*", source=source))
    return found


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
