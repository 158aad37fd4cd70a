"""Project facts for the prompt: framework versions declared in dependency files, number of routes."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

TRACKED = ("fastapi", "pydantic", "sqlalchemy", "celery")
DISPLAY = {"fastapi": "FastAPI", "pydantic": "Pydantic", "sqlalchemy": "SQLAlchemy", "celery": "Celery"}


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


def collect_project_facts(root: Path, routes: int | None = None) -> ProjectFacts:
    """Facts for the prompt; ``routes`` is the scanner's count (its FastAPI model), None when unknown."""
    return ProjectFacts(dependencies=declared_versions(root), routes=routes)
