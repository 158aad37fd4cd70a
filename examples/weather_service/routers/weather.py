"""Forecasts, current conditions and alerts, proxied from the upstream weather API."""

import asyncio
import logging
import time
from typing import Annotated

import httpx
import requests
from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi.concurrency import run_in_threadpool
from redis.asyncio import Redis

from ..cache import get_json, get_redis, read_latest_snapshot, set_json
from ..config import get_settings
from ..schemas import (
    AirQuality,
    CurrentConditions,
    ForecastOut,
    GeocodeResult,
    StationSnapshot,
    SunTimes,
    WeatherAlert,
)
from ..services import fetch_forecast, fetch_forecast_async
from ..services.forecast import get_http_client
from ..services.geocoding import GeocodingClient, get_geocoder

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/weather", tags=["weather"])

FORECAST_TTL_SECONDS = 300
MAX_BATCH_CITIES = 20


def _retry_after(resp: httpx.Response, cap: float = 2.0) -> float:
    """Seconds to wait before retrying a rate-limited upstream call, capped."""
    try:
        return min(float(resp.headers.get("Retry-After", "1")), cap)
    except ValueError:
        return 1.0


@router.get("/forecast/{city}", response_model=ForecastOut)
async def get_forecast(city: str) -> ForecastOut:
    """Three-day forecast for a city."""
    logger.info("forecast requested for %s", city)
    return fetch_forecast(city)


@router.get("/forecast/{city}/cached", response_model=ForecastOut)
async def get_cached_forecast(
    city: str,
    http: httpx.AsyncClient = Depends(get_http_client),
    cache: Redis = Depends(get_redis),
) -> ForecastOut:
    """Three-day forecast, cached for five minutes."""
    key = f"forecast:3d:{city.lower()}"
    cached = await get_json(cache, key)
    if cached is not None:
        return ForecastOut.model_validate(cached)
    forecast = await fetch_forecast_async(http, city)
    await set_json(cache, key, forecast.model_dump(mode="json"), ttl=FORECAST_TTL_SECONDS)
    return forecast


@router.get("/forecast/{city}/week", response_model=ForecastOut)
async def get_weekly_forecast(
    city: str,
    http: httpx.AsyncClient = Depends(get_http_client),
    cache: Redis = Depends(get_redis),
) -> ForecastOut:
    """Seven-day forecast, cached."""
    key = f"forecast:7d:{city.lower()}"
    cached = await cache.get(key)
    if cached is not None:
        return ForecastOut.model_validate_json(cached)
    forecast = await fetch_forecast_async(http, city, days=7)
    await cache.set(key, forecast.model_dump_json())
    return forecast


@router.get("/forecast/{city}/legacy", response_model=ForecastOut)
async def get_forecast_legacy(city: str) -> ForecastOut:
    """Three-day forecast through the synchronous client, run in the threadpool."""
    return await run_in_threadpool(fetch_forecast, city)


@router.get("/current/{city}", response_model=CurrentConditions)
async def get_current_conditions(city: str) -> CurrentConditions:
    """Current conditions in a city."""
    url = f"{get_settings().weather_api_url}/current"
    resp = requests.get(url, params={"q": city}, timeout=5)
    if resp.status_code == status.HTTP_404_NOT_FOUND:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"unknown city {city!r}")
    resp.raise_for_status()
    return CurrentConditions.model_validate(resp.json())


@router.get("/sun/{city}", response_model=SunTimes)
def get_sun_times(city: str) -> SunTimes:
    """Today's sunrise and sunset in a city."""
    url = f"{get_settings().weather_api_url}/astronomy"
    resp = requests.get(url, params={"q": city}, timeout=5)
    resp.raise_for_status()
    return SunTimes.model_validate(resp.json())


@router.get("/alerts/{region}", response_model=list[WeatherAlert])
async def get_alerts(region: str, http: httpx.AsyncClient = Depends(get_http_client)) -> list[WeatherAlert]:
    """Active weather alerts for a region; retries once when the upstream rate-limits us."""
    resp = await http.get(f"/alerts/{region}")
    if resp.status_code == status.HTTP_429_TOO_MANY_REQUESTS:
        time.sleep(_retry_after(resp))
        resp = await http.get(f"/alerts/{region}")
    resp.raise_for_status()
    return [WeatherAlert.model_validate(item) for item in resp.json()["alerts"]]


@router.get("/air-quality/{city}", response_model=AirQuality)
async def get_air_quality(city: str, http: httpx.AsyncClient = Depends(get_http_client)) -> AirQuality:
    """Air quality index for a city; retries once when the upstream rate-limits us."""
    resp = await http.get("/air-quality", params={"q": city})
    if resp.status_code == status.HTTP_429_TOO_MANY_REQUESTS:
        await asyncio.sleep(_retry_after(resp))
        resp = await http.get("/air-quality", params={"q": city})
    resp.raise_for_status()
    return AirQuality.model_validate(resp.json())


@router.get("/locations", response_model=GeocodeResult)
async def find_location(
    q: Annotated[str, Query(min_length=2, max_length=100)],
    geocoder: GeocodingClient = Depends(get_geocoder),
) -> GeocodeResult:
    """Resolve a place name to coordinates."""
    result = geocoder.lookup(q)
    if result is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no place matches {q!r}")
    return result


@router.get("/stations/{station_code}/latest", response_model=StationSnapshot)
async def get_latest_snapshot(station_code: str) -> StationSnapshot:
    """The last observation a station reported."""
    snapshot = read_latest_snapshot(station_code)
    if snapshot is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no recent data for {station_code}")
    return StationSnapshot.model_validate(snapshot)


@router.get("/batch", response_model=list[ForecastOut])
async def get_forecasts_batch(
    cities: Annotated[list[str], Query(min_length=1, max_length=MAX_BATCH_CITIES)],
    http: httpx.AsyncClient = Depends(get_http_client),
) -> list[ForecastOut]:
    """One-day forecasts for several cities."""
    forecasts: list[ForecastOut] = []
    for city in cities:
        resp = await http.get("/forecast", params={"q": city, "days": 1})
        resp.raise_for_status()
        forecasts.append(ForecastOut.model_validate(resp.json()))
    return forecasts


@router.get("/batch/concurrent", response_model=list[ForecastOut])
async def get_forecasts_concurrently(
    cities: Annotated[list[str], Query(min_length=1, max_length=MAX_BATCH_CITIES)],
    http: httpx.AsyncClient = Depends(get_http_client),
) -> list[ForecastOut]:
    """One-day forecasts for several cities, fetched concurrently."""
    forecasts = await asyncio.gather(*(fetch_forecast_async(http, city, days=1) for city in cities))
    return list(forecasts)
