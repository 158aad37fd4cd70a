"""FR3xx across modules: the request path from a route down to the client construction."""

from __future__ import annotations

from helpers import run, write_project

from fastapi_reviewer.config import Settings


def scan(tmp_path, files, select=("FR3",)):
    write_project(tmp_path, {"app/__init__.py": "", **files})
    return run(tmp_path, Settings(cache=False, select=list(select)))


def found(findings):
    return sorted((f.path, f.line, f.code) for f in findings)


def test_client_built_in_a_helper_module_reached_from_a_route(tmp_path):
    files = {
        "app/services/__init__.py": "from .geo import lookup\n",
        "app/services/geo.py": """
            import httpx

            class GeoClient:
                def __init__(self, base):
                    self.http = httpx.Client(base_url=base)

                def find(self, q):
                    return self.http.get("/search", params={"q": q}).json()

            def lookup(q):
                return GeoClient("https://geo.example.com").find(q)
            """,
        "app/routers/places.py": """
            from fastapi import APIRouter
            from app.services import lookup

            router = APIRouter()

            @router.get("/places")
            def places(q: str):
                return lookup(q)
            """,
        "app/main.py": """
            from fastapi import FastAPI
            from app.routers.places import router

            app = FastAPI()
            app.include_router(router)
            """,
    }
    findings = scan(tmp_path, files)
    assert found(findings) == [("app/services/geo.py", 5, "FR301")]
    finding = findings[0]
    assert [(s.path, s.line, s.function, s.call) for s in finding.trace] == [
        ("app/routers/places.py", 8, "places", "lookup"),
        ("app/services/geo.py", 11, "lookup", "GeoClient.__init__"),
        ("app/services/geo.py", 5, "GeoClient.__init__", "httpx.Client"),
    ]
    assert "route `places`" in finding.message and "lifespan" in finding.message


def test_awaited_coroutines_dependencies_middleware_and_background_tasks(tmp_path):
    files = {
        "app/clients.py": """
            import boto3
            import redis.asyncio as aredis
            from aiohttp import ClientSession

            async def post_event(payload):
                async with ClientSession() as session:
                    await session.post("https://events.example.com", json=payload)

            def archive(key):
                boto3.client("s3").put_object(Bucket="archive", Key=key, Body=b"")

            class Cache:
                def __init__(self):
                    self.redis = aredis.from_url("redis://cache")
            """,
        "app/main.py": """
            from fastapi import BackgroundTasks, Depends, FastAPI, Request
            from app.clients import Cache, archive, post_event

            app = FastAPI()

            @app.middleware("http")
            async def events(request: Request, call_next):
                await post_event({"path": request.url.path})
                return await call_next(request)

            @app.get("/items/{key}")
            async def item(key: str, tasks: BackgroundTasks, cache: Cache = Depends()):
                tasks.add_task(archive, key)
                return await cache.redis.get(key)
            """,
    }
    assert found(scan(tmp_path, files)) == [
        ("app/clients.py", 6, "FR301"),
        ("app/clients.py", 10, "FR304"),
        ("app/clients.py", 14, "FR303"),
    ]


def test_lifespans_caches_singletons_pools_and_scripts_elsewhere(tmp_path):
    files = {
        "app/deps.py": """
            from functools import lru_cache

            import httpx
            import redis

            _http = None
            _pools = {}

            @lru_cache(maxsize=1)
            def get_redis() -> redis.Redis:
                return redis.Redis.from_url("redis://cache")

            def get_http() -> httpx.AsyncClient:
                global _http
                if _http is None:
                    _http = httpx.AsyncClient()
                return _http

            def get_pool(name: str):
                if name not in _pools:
                    _pools[name] = redis.ConnectionPool.from_url(f"redis://{name}")
                return _pools[name]

            def get_tenant_cache(name: str = "main") -> redis.Redis:
                return redis.Redis(connection_pool=get_pool(name))
            """,
        "app/main.py": """
            from contextlib import asynccontextmanager

            import asyncpg
            import httpx
            from fastapi import Depends, FastAPI, Request

            from app.deps import get_http, get_redis, get_tenant_cache

            @asynccontextmanager
            async def lifespan(app: FastAPI):
                app.state.pool = await asyncpg.create_pool("postgresql://db/app")
                app.state.http = httpx.AsyncClient()
                yield
                await app.state.http.aclose()

            app = FastAPI(lifespan=lifespan)

            @app.get("/orders")
            async def orders(request: Request, http=Depends(get_http), cache=Depends(get_redis), tenant=Depends(get_tenant_cache)):
                async with request.app.state.pool.acquire() as conn:
                    return await conn.fetch("select 1")
            """,
        "app/cli.py": """
            import httpx
            import typer

            cli = typer.Typer()

            @cli.command()
            def sync():
                with httpx.Client() as client:
                    client.get("https://example.com")

            if __name__ == "__main__":
                cli()
            """,
    }
    assert found(scan(tmp_path, files)) == []


def test_session_dependencies_across_modules(tmp_path):
    files = {
        "app/db.py": """
            from sqlalchemy import create_engine
            from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
            from sqlalchemy.orm import sessionmaker

            SessionLocal = sessionmaker(bind=create_engine("postgresql://db/app"))
            AsyncSessionLocal = async_sessionmaker(create_async_engine("postgresql+asyncpg://db/app"))
            """,
        "app/deps.py": """
            from app.db import AsyncSessionLocal, SessionLocal
            from app import db as database

            def get_db():
                return SessionLocal()

            async def get_async_db():
                async with AsyncSessionLocal() as session:
                    yield session

            def get_reporting_db():
                session = database.SessionLocal()
                try:
                    yield session
                finally:
                    session.close()
            """,
        "app/main.py": """
            from typing import Annotated

            from fastapi import Depends, FastAPI
            from app.deps import get_async_db, get_db, get_reporting_db

            app = FastAPI()
            DB = Annotated[object, Depends(get_db)]

            @app.get("/a")
            def a(db: DB, rdb=Depends(get_reporting_db)):
                return db, rdb

            @app.get("/b")
            async def b(adb=Depends(get_async_db)):
                return adb
            """,
    }
    findings = scan(tmp_path, files)
    assert found(findings) == [("app/deps.py", 5, "FR305")]
    assert "returns it" in findings[0].message


def test_nested_functions_and_shadowed_names(tmp_path):
    files = {
        "app/main.py": """
            import httpx
            from fastapi import FastAPI

            app = FastAPI()

            class Client:
                def __init__(self, url):
                    self.url = url

            @app.get("/a")
            async def a():
                def later():
                    return httpx.Client()
                httpx_client = Client("https://example.com")
                return httpx_client.url

            @app.get("/b")
            async def b():
                def build():
                    return httpx.AsyncClient()
                async with build() as client:
                    return (await client.get("https://example.com")).status_code
            """,
    }
    assert found(scan(tmp_path, files)) == [("app/main.py", 20, "FR301")]


def test_lifetime_follows_the_value_to_its_callers(tmp_path):
    files = {
        "app/pools.py": """
            import threading

            import boto3
            import httpx
            from sqlalchemy.ext.asyncio import create_async_engine

            class HttpPool:
                _clients: dict = {}
                _lock = threading.Lock()

                @classmethod
                def _build(cls, **kwargs):
                    return httpx.Client(**kwargs)

                @classmethod
                def get(cls, name):
                    with cls._lock:
                        if name not in cls._clients:
                            cls._clients[name] = cls._build()
                        return cls._clients[name]

            _ENGINES = {}

            def _build_engine(url):
                engine = create_async_engine(url)
                return engine

            def engine_for(shard):
                engine = _ENGINES.get(shard)
                if engine is None:
                    engine = _build_engine(f"postgresql+asyncpg://{shard}/app")
                    _ENGINES[shard] = engine
                return engine

            class Engines:
                def __init__(self):
                    self.engine = create_async_engine("postgresql+asyncpg://db/app")

            _engines = None

            def get_engines():
                global _engines
                if _engines is None:
                    _engines = Engines()
                return _engines

            def s3_client(endpoint=None):
                return boto3.client("s3", endpoint_url=endpoint)

            class Storage:
                def __init__(self, bucket):
                    self.bucket = bucket
                    self.presign = s3_client()
            """,
        "app/main.py": """
            from fastapi import FastAPI
            from app.pools import HttpPool, Storage, engine_for, get_engines

            app = FastAPI()

            @app.get("/a/{shard}")
            async def a(shard: str):
                HttpPool.get("default").get("https://example.com")
                return engine_for(shard), get_engines().engine

            @app.get("/b/{key}")
            def b(key: str):
                storage = Storage("files")
                return storage.presign.generate_presigned_url("get_object", Params={"Key": key})
            """,
    }
    findings = scan(tmp_path, files)
    assert found(findings) == [("app/pools.py", 48, "FR304")]
    assert [s.function for s in findings[0].trace] == ["b", "Storage.__init__", "s3_client"]


def test_test_apps_and_fixtures_are_not_reviewed(tmp_path):
    files = {
        "tests/conftest.py": """
            import httpx
            from fastapi import FastAPI

            app = FastAPI()

            @app.get("/echo")
            async def echo():
                async with httpx.AsyncClient() as client:
                    return (await client.get("https://example.com")).status_code
            """,
    }
    assert found(scan(tmp_path, files)) == []
