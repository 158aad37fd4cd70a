"""FR2xx across modules: models, ORM classes and dependencies defined elsewhere; the Pydantic version."""

from __future__ import annotations

import pytest
from helpers import run, write_project

from fastapi_reviewer.config import Settings
from fastapi_reviewer.project_deps import declared_major, major_from_spec

SETTINGS = Settings(cache=False, select=["FR201", "FR202", "FR203", "FR204"])


def found(tmp_path, files, pyproject="", settings=SETTINGS):
    write_project(tmp_path, files, pyproject)
    return sorted((f.path, f.line, f.code) for f in run(tmp_path, settings))


SCHEMAS = {
    "app/__init__.py": "",
    "app/schemas/__init__.py": "from app.schemas.user import UserOut, UserIn\n",
    "app/schemas/base.py": """
        from pydantic import BaseModel

        class Schema(BaseModel):
            pass
    """,
    "app/schemas/user.py": """
        from app.schemas.base import Schema

        class UserIn(Schema):
            email: str

        class UserOut(Schema):
            id: int
            email: str
    """,
    "app/models.py": """
        from sqlalchemy import Column, Integer, String
        from sqlalchemy.orm import DeclarativeBase

        class Base(DeclarativeBase):
            pass

        class User(Base):
            __tablename__ = "users"
            id = Column(Integer, primary_key=True)
            email = Column(String)
    """,
    "app/crud.py": """
        from sqlalchemy.orm import Session
        from app.models import User

        def get_user(db: Session, user_id: int) -> User | None:
            return db.get(User, user_id)
    """,
}


def test_models_from_other_modules_type_the_route(tmp_path):
    files = dict(SCHEMAS)
    files["app/api.py"] = """
        from fastapi import APIRouter, Depends
        from sqlalchemy.orm import Session
        from app import crud
        from app.schemas import UserIn, UserOut

        router = APIRouter()

        def get_db():
            yield Session()

        @router.post("/users")
        def create(user: UserIn) -> UserOut:
            return {"id": 1, "email": user.email}

        @router.get("/users/{user_id}", response_model=list[UserOut])
        def read(user_id: int, db: Session = Depends(get_db)):
            return crud.get_user(db, user_id)

        @router.get("/raw/{user_id}")
        def raw(user_id: int, db: Session = Depends(get_db)):
            return crud.get_user(db, user_id)
    """
    assert found(tmp_path, files) == [("app/api.py", 20, "FR203")]


def test_router_and_dependency_in_other_modules(tmp_path):
    files = {
        "svc/__init__.py": "",
        "svc/deps.py": """
            from fastapi import Request

            async def tenant(request: Request) -> str:
                payload = await request.json()
                return payload["tenant"]
        """,
        "svc/routes.py": """
            from typing import Any
            from fastapi import APIRouter, Depends
            from svc.deps import tenant

            router = APIRouter()

            @router.post("/things")
            async def things(body: dict[str, Any], who: str = Depends(tenant)):
                return None
        """,
        "svc/main.py": """
            from fastapi import FastAPI
            from svc.routes import router

            app = FastAPI()
            app.include_router(router)
        """,
    }
    assert found(tmp_path, files) == [("svc/deps.py", 4, "FR202"), ("svc/routes.py", 8, "FR201")]


V1_CODE = {
    "app/__init__.py": "",
    "app/base.py": """
        from pydantic import BaseModel

        class Schema(BaseModel):
            pass
    """,
    "app/models.py": """
        from app.base import Schema

        class Item(Schema):
            name: str

            class Config:
                orm_mode = True
    """,
    "app/use.py": """
        from app.models import Item

        def dump(item: Item) -> dict:
            return item.dict()
    """,
}
V1_EXPECTED = [("app/models.py", 6, "FR204"), ("app/use.py", 4, "FR204")]


@pytest.mark.parametrize(
    ("pyproject", "extra", "expected"),
    [
        ("[project]\nname = 'x'\ndependencies = ['fastapi', 'pydantic>=2.4,<3']\n", {}, V1_EXPECTED),
        ("[project]\nname = 'x'\ndependencies = ['pydantic[email]~=2.5']\n", {}, V1_EXPECTED),
        ("[tool.poetry.dependencies]\npython = '^3.11'\npydantic = {version = '^2.5', extras = ['email']}\n", {}, V1_EXPECTED),
        ("[project]\nname = 'x'\n", {"requirements.txt": "fastapi==0.110.0\npydantic==2.*\n"}, V1_EXPECTED),
        ("[project]\nname = 'x'\n", {"requirements-dev.txt": "pydantic-settings>=2\n"}, V1_EXPECTED),
        ("[project]\nname = 'x'\ndependencies = ['pydantic<2']\n", {}, []),
        ("[project]\nname = 'x'\ndependencies = ['pydantic>=1.8']\n", {}, []),  # either major: unknown
        ("[project]\nname = 'x'\n", {}, []),  # nothing declared, no v2 names in the code
        ("[project]\nname = 'x'\n", {"app/v2.py": "from pydantic import field_validator\n"}, V1_EXPECTED),
    ],
)
def test_pydantic_major_from_the_project(tmp_path, pyproject, extra, expected):
    assert found(tmp_path, {**V1_CODE, **extra}, pyproject) == expected


def test_lock_file_wins_over_a_loose_specifier(tmp_path):
    (tmp_path / "uv.lock").write_text('version = 1\n\n[[package]]\nname = "pydantic"\nversion = "2.7.1"\n')
    assert found(tmp_path, V1_CODE, "[project]\nname = 'x'\ndependencies = ['pydantic>=1.8']\n") == V1_EXPECTED


def test_config_override_beats_the_declared_version(tmp_path):
    settings = Settings(cache=False, select=["FR204"], pydantic_version=1)
    assert found(tmp_path, V1_CODE, "[project]\nname = 'x'\ndependencies = ['pydantic>=2']\n", settings) == []


@pytest.mark.parametrize(
    ("spec", "major"),
    [
        (">=2", 2), (">=2.0,<3", 2), ("==2.*", 2), ("~=2.5", 2), ("^2.5", 2), ("2.5.3", 2), ("==1.10.13", 1),
        ("<2", 1), ("<2.0", 1), (">=1.10,<2.0", 1), ("^1.10", 1), (">=1.8", None), ("", None), ("*", None),
        ("<3", None), (">=1.10,<3", None), ("~=2.5; python_version >= '3.8'", 2),
    ],
)
def test_major_from_spec(spec, major):
    assert major_from_spec(spec) == major


def test_declared_major_reads_nothing_without_a_root():
    assert declared_major(None, "pydantic") is None
