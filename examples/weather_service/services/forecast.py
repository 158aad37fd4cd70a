"""Forecasts from the upstream weather API."""

import logging

import httpx
import requests
from fastapi import Request

from ..config import get_settings
from ..schemas import ForecastOut

logger = logging.getLogger(__name__)


def get_http_client(request: Request) -> httpx.AsyncClient:
    """Dependency: the shared AsyncClient (base URL = the weather API) created in the lifespan."""
    return request.app.state.http


def fetch_forecast(city: str, days: int = 3) -> ForecastOut:
    """Fetch a forecast with the synchronous client (CLI tools, Celery tasks)."""
    url = f"{get_settings().weather_api_url}/forecast"
    resp = requests.get(url, params={"q": city, "days": str(days)}, timeout=10)
    resp.raise_for_status()
    return ForecastOut.model_validate(resp.json())


async def fetch_forecast_async(http: httpx.AsyncClient, city: str, days: int = 3) -> ForecastOut:
    """Fetch a forecast through the shared AsyncClient."""
    resp = await http.get("/forecast", params={"q": city, "days": days})
    resp.raise_for_status()
    logger.debug("forecast for %s: %d bytes", city, len(resp.content))
    return ForecastOut.model_validate(resp.json())
