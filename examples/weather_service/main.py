"""The FastAPI application: ``uvicorn weather_service.main:app``."""

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
from fastapi import Depends, FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from redis.asyncio import Redis
from redis.exceptions import RedisError

from . import __version__
from .cache import get_redis
from .config import get_settings
from .db import engine
from .routers import admin, reports, stations, weather
from .schemas import Health

logger = logging.getLogger("weather_service")

settings = get_settings()


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Create the shared HTTP and Redis clients once; close them and the DB pool on shutdown."""
    app.state.http = httpx.AsyncClient(
        base_url=settings.weather_api_url,
        timeout=httpx.Timeout(10.0, connect=3.0),
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
    )
    app.state.redis = Redis.from_url(settings.redis_url, decode_responses=True)
    logger.info("weather service %s started", __version__)
    try:
        yield
    finally:
        await app.state.http.aclose()
        await app.state.redis.aclose()
        await engine.dispose()


app = FastAPI(title="Weather & Reports", version=__version__, debug=settings.debug, lifespan=lifespan)

app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True, allow_methods=["*"], allow_headers=["*"])


@app.middleware("http")
async def add_process_time_header(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Report how long each request took, in the response and the log."""
    started = time.perf_counter()
    response = await call_next(request)
    elapsed_ms = (time.perf_counter() - started) * 1000
    response.headers["X-Process-Time-Ms"] = f"{elapsed_ms:.1f}"
    logger.debug("%s %s took %.1f ms", request.method, request.url.path, elapsed_ms)
    return response


app.include_router(weather.router)
app.include_router(stations.router)
app.include_router(reports.router)
app.include_router(admin.router)


@app.get("/healthz", response_model=Health, tags=["ops"])
async def healthz(redis: Redis = Depends(get_redis)) -> Health:
    """Liveness plus a Redis ping."""
    try:
        redis_ok = bool(await redis.ping())
    except RedisError:
        redis_ok = False
    return Health(status="ok" if redis_ok else "degraded", redis=redis_ok)
