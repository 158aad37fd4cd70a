"""Database engines and session dependencies.

The async engine serves the API; the sync engine serves Celery workers and the few plain ``def``
routes. Each engine (and its connection pool) is created once per process.
"""

from collections.abc import AsyncIterator, Iterator

from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, sessionmaker

from .config import get_settings

settings = get_settings()

engine = create_async_engine(settings.database_url, pool_size=10, max_overflow=20, pool_pre_ping=True)
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)

sync_engine = create_engine(settings.sync_database_url, pool_size=5, pool_pre_ping=True)
SyncSessionLocal = sessionmaker(bind=sync_engine, expire_on_commit=False)


async def get_session() -> AsyncIterator[AsyncSession]:
    """One AsyncSession per request, closed when the response is done."""
    async with SessionLocal() as session:
        yield session


def get_sync_db() -> Iterator[Session]:
    """One sync Session per request, for plain ``def`` routes."""
    with SyncSessionLocal() as db:
        yield db
