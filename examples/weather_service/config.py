"""Service configuration, read from ``WEATHER_*`` environment variables once per process."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, SecretStr


class Settings(BaseModel):
    """Runtime settings. ``WEATHER_DATABASE_URL`` sets ``database_url``, and so on."""

    model_config = ConfigDict(frozen=True)

    debug: bool = False
    database_url: str = "postgresql+asyncpg://localhost/weather"
    sync_database_url: str = "postgresql+psycopg://localhost/weather"
    redis_url: str = "redis://localhost:6379/0"
    celery_broker_url: str = "redis://localhost:6379/1"
    celery_result_backend: str = "redis://localhost:6379/2"
    weather_api_url: str = "https://api.weather-upstream.example/v1"
    geocoding_api_url: str = "https://geo.weather-upstream.example/v1"
    partner_webhook_url: str = "https://partner.example/hooks/weather-reports"
    reports_dir: Path = Path("/var/lib/weather-service/reports")
    jwt_secret: SecretStr


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings; ``WEATHER_JWT_SECRET`` is required."""
    prefix = "WEATHER_"
    values = {
        key.removeprefix(prefix).lower(): value
        for key, value in os.environ.items()
        if key.startswith(prefix)
    }
    return Settings.model_validate(values)
