"""FR5xx across modules: clients, helpers, coroutines and models defined elsewhere."""

from __future__ import annotations

from helpers import run, write_project

from fastapi_reviewer.config import Settings

SETTINGS = Settings(cache=False, select=["FR501", "FR502", "FR503", "FR504"])


def found(tmp_path, files):
    write_project(tmp_path, files)
    return sorted((f.path, f.line, f.code) for f in run(tmp_path, SETTINGS))


def test_cache_writes_through_helpers_in_other_modules(tmp_path):
    files = {
        "app/__init__.py": "",
        "app/clients.py": """
            import redis.asyncio as aioredis
            from redis import Redis

            cache = aioredis.from_url("redis://localhost")
            sync_cache = Redis()
        """,
        "app/services/__init__.py": "from app.services.users import remember_user, warm\n",
        "app/services/users.py": """
            from app.clients import cache, sync_cache

            async def remember_user(user_id: int, payload: str) -> None:
                await cache.set(f"user:{user_id}", payload)

            def warm() -> None:
                sync_cache.set("version", "1")
        """,
        "app/main.py": """
            from fastapi import FastAPI
            from app.services import remember_user, warm

            app = FastAPI(on_startup=[warm])

            @app.get("/users/{user_id}")
            async def get_user(user_id: int):
                await remember_user(user_id, "{}")
                return {"id": user_id}
        """,
    }
    write_project(tmp_path, files)
    findings = run(tmp_path, SETTINGS)
    assert [(f.path, f.line, f.code) for f in findings] == [("app/services/users.py", 4, "FR502")]
    trace = findings[0].trace
    assert [(s.path, s.function) for s in trace] == [("app/main.py", "get_user"), ("app/services/users.py", "remember_user")]
    assert "reached from `get_user`" in findings[0].message


def test_gather_candidates_across_modules(tmp_path):
    files = {
        "app/__init__.py": "",
        "app/remote.py": """
            from sqlalchemy.ext.asyncio import AsyncSession

            async def fetch_profile(user_id: int) -> dict:
                return {"id": user_id}

            async def store(db: AsyncSession, user_id: int) -> None:
                await db.execute("...")
        """,
        "app/jobs.py": """
            from app.remote import fetch_profile, store

            async def sync_profiles(ids: list[int], db) -> list[dict]:
                out = []
                for user_id in ids:
                    out.append(await fetch_profile(user_id))
                for user_id in ids:
                    await store(db, user_id)
                return out
        """,
    }
    assert found(tmp_path, files) == [("app/jobs.py", 6, "FR501")]


def test_unbounded_queries_on_models_from_other_modules(tmp_path):
    files = {
        "app/__init__.py": "",
        "app/db/__init__.py": "",
        "app/db/base.py": """
            from sqlalchemy.orm import declarative_base

            Base = declarative_base()
        """,
        "app/db/models.py": """
            from sqlalchemy import Column, Integer
            from app.db.base import Base

            class Invoice(Base):
                __tablename__ = "invoices"
                id = Column(Integer, primary_key=True)
        """,
        "app/api.py": """
            from fastapi import APIRouter, Depends
            from sqlalchemy import select
            from sqlalchemy.orm import Session
            from app.db.models import Invoice

            router = APIRouter()

            def get_db():
                yield Session()

            @router.get("/invoices")
            def invoices(db: Session = Depends(get_db)):
                return db.execute(select(Invoice)).scalars().all()

            @router.get("/invoices/page")
            def invoices_page(page: int = 1, db: Session = Depends(get_db)):
                return db.execute(select(Invoice)).scalars().all()
        """,
    }
    assert found(tmp_path, files) == [("app/api.py", 13, "FR503")]


def test_whole_file_read_in_a_route_registered_elsewhere(tmp_path):
    files = {
        "app/__init__.py": "",
        "app/views.py": """
            from pathlib import Path
            from fastapi import Response

            MEDIA = Path("/srv/media")

            def download(name: str):
                target = MEDIA / name
                return Response(target.read_bytes(), media_type="application/octet-stream")
        """,
        "app/main.py": """
            from fastapi import FastAPI
            from app.views import download

            app = FastAPI()
            app.add_api_route("/media/{name}", download, methods=["GET"])
        """,
    }
    assert found(tmp_path, files) == [("app/views.py", 8, "FR504")]
