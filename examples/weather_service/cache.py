"""Redis helpers.

API code uses the shared ``redis.asyncio`` client that the app lifespan creates (``get_redis``).
Celery workers and other sync code use the module-level sync client, which keeps its own pool.
"""

from __future__ import annotations

import json
from typing import Any

import redis
from fastapi import Request
from redis.asyncio import Redis

from .config import get_settings

SNAPSHOT_TTL_SECONDS = 3600

_sync_client = redis.Redis.from_url(get_settings().redis_url, decode_responses=True)


def get_redis(request: Request) -> Redis:
    """Dependency: the shared async Redis client."""
    return request.app.state.redis


async def get_json(client: Redis, key: str) -> Any | None:
    raw = await client.get(key)
    return None if raw is None else json.loads(raw)


async def set_json(client: Redis, key: str, value: Any, ttl: int = 300) -> None:
    await client.set(key, json.dumps(value), ex=ttl)


def snapshot_key(station_code: str) -> str:
    return f"station:{station_code.upper()}:latest"


def read_latest_snapshot(station_code: str) -> dict[str, Any] | None:
    """The latest observation a station reported, as stored by the ingest task."""
    raw = _sync_client.get(snapshot_key(station_code))
    return None if raw is None else json.loads(raw)


def write_latest_snapshot(station_code: str, snapshot: dict[str, Any]) -> None:
    _sync_client.set(snapshot_key(station_code), json.dumps(snapshot), ex=SNAPSHOT_TTL_SECONDS)
