from __future__ import annotations

from pathlib import Path

from fastapi_reviewer.advisor.project import collect_project_facts, declared_versions


def _specs(root: Path) -> dict[str, tuple[str, str]]:
    return {d.name: (d.spec, d.source) for d in declared_versions(root)}


def test_pep621_dependencies(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\ndependencies = ["FastAPI[standard]>=0.110", "pydantic >=2.5, <3 ; python_version >= \'3.9\'"]\n'
        '[project.optional-dependencies]\nworker = ["celery==5.4.0"]\n'
    )
    assert _specs(tmp_path) == {
        "FastAPI": (">=0.110", "pyproject.toml"),
        "Pydantic": (">=2.5, <3", "pyproject.toml"),
        "Celery": ("==5.4.0", "pyproject.toml"),
    }


def test_poetry_dependencies_and_groups(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.poetry.dependencies]\n"
        'python = "^3.11"\nfastapi = "^0.111.0"\nsqlalchemy = { version = "^2.0.30", extras = ["asyncio"] }\n'
        "[tool.poetry.group.worker.dependencies]\n"
        'celery = "*"\n'
    )
    assert _specs(tmp_path) == {
        "FastAPI": ("^0.111.0", "pyproject.toml"),
        "SQLAlchemy": ("^2.0.30", "pyproject.toml"),
        "Celery": ("*", "pyproject.toml"),
    }


def test_requirements_files(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text(
        "# app\n-r base.txt\nfastapi==0.115.2  # pinned\nSQLAlchemy[asyncio]==2.0.36\nuvicorn\n"
    )
    (tmp_path / "requirements-worker.txt").write_text("celery[redis]>=5.3,<6\npydantic\n")
    assert _specs(tmp_path) == {
        "FastAPI": ("==0.115.2", "requirements.txt"),
        "Pydantic": ("*", "requirements-worker.txt"),
        "SQLAlchemy": ("==2.0.36", "requirements.txt"),
        "Celery": (">=5.3,<6", "requirements-worker.txt"),
    }


def test_pyproject_wins_over_requirements_and_broken_files_are_ignored(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\ndependencies = ["fastapi>=0.100"]\n')
    (tmp_path / "requirements.txt").write_text("fastapi==0.99.0\n")
    assert _specs(tmp_path) == {"FastAPI": (">=0.100", "pyproject.toml")}
    (tmp_path / "pyproject.toml").write_text("[project\nbroken")
    assert _specs(tmp_path) == {"FastAPI": ("==0.99.0", "requirements.txt")}


def test_routes_come_from_the_scanner(tmp_path: Path) -> None:
    """The route count is the scanner's (its FastAPI model); without one the prompt says "unknown"."""
    assert collect_project_facts(tmp_path, routes=17).routes == 17
    assert collect_project_facts(tmp_path).routes is None
