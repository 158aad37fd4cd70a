"""Ingestion tasks: pull observations, station metadata and alerts from the upstream API."""

import logging
import statistics
from datetime import datetime, timezone
from typing import Any

import requests
from celery import Task, chord
from celery.result import AsyncResult
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from ..cache import write_latest_snapshot
from ..config import get_settings
from ..db import SyncSessionLocal
from ..models import Observation, Station
from .celery_app import celery_app

logger = logging.getLogger(__name__)


def _api(path: str) -> str:
    return f"{get_settings().weather_api_url}{path}"


def _store_observations(station_code: str, readings: list[dict[str, Any]]) -> int:
    """Insert new readings for a station (duplicates are skipped); returns how many were sent."""
    if not readings:
        return 0
    with SyncSessionLocal.begin() as db:
        station = db.scalar(select(Station).where(Station.code == station_code))
        if station is None:
            raise ValueError(f"unknown station {station_code!r}")
        rows = [
            {**reading, "station_id": station.id, "observed_at": datetime.fromisoformat(reading["observed_at"])}
            for reading in readings
        ]
        db.execute(insert(Observation).values(rows).on_conflict_do_nothing())
        station.last_seen_at = datetime.now(timezone.utc)
    return len(rows)


@celery_app.task(
    autoretry_for=(requests.RequestException,),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=5,
)
def ingest_observations(station_code: str) -> int:
    """Pull the latest observations of one station."""
    resp = requests.get(_api(f"/stations/{station_code}/observations"), timeout=10)
    resp.raise_for_status()
    readings = resp.json()["observations"]
    stored = _store_observations(station_code, readings)
    if readings:
        write_latest_snapshot(station_code, {"station_code": station_code, **readings[-1]})
    return stored


@celery_app.task
def refresh_station_metadata(station_code: str) -> None:
    """Update a station's name and elevation from the upstream registry."""
    resp = requests.get(_api(f"/stations/{station_code}"), timeout=10)
    resp.raise_for_status()
    meta = resp.json()
    with SyncSessionLocal.begin() as db:
        station = db.scalar(select(Station).where(Station.code == station_code))
        if station is None:
            logger.warning("metadata for unknown station %s ignored", station_code)
            return
        station.name = meta["name"]
        station.elevation_m = meta.get("elevation_m")


@celery_app.task(autoretry_for=(requests.RequestException,), retry_backoff=True, max_retries=5)
def sync_region_alerts(region: str) -> int:
    """Apply the temperature thresholds of a region's active alerts to its stations."""
    try:
        resp = requests.get(_api(f"/alerts/{region}"), timeout=10)
        resp.raise_for_status()
        alerts = resp.json()["alerts"]
        codes = {alert["station_code"] for alert in alerts}
        with SyncSessionLocal.begin() as db:
            stations = {s.code: s for s in db.scalars(select(Station).where(Station.code.in_(codes)))}
            for alert in alerts:
                station = stations.get(alert["station_code"])
                if station is not None:
                    station.min_temp_c = alert.get("min_temp_c")
                    station.max_temp_c = alert.get("max_temp_c")
        return len(alerts)
    except Exception:
        logger.exception("alert sync failed for region %s", region)
        return 0


@celery_app.task(bind=True, max_retries=3, default_retry_delay=60)
def backfill_history(self: Task, station_code: str, day: str) -> int:
    """Load one past day of observations for a station (``day`` is an ISO date)."""
    try:
        resp = requests.get(_api(f"/stations/{station_code}/history"), params={"date": day}, timeout=30)
        resp.raise_for_status()
    except requests.RequestException as exc:
        logger.warning("history for %s on %s unavailable: %s", station_code, day, exc)
        self.retry(exc=exc)
    return _store_observations(station_code, resp.json()["observations"])


@celery_app.task
def compute_station_stats(readings: list[float]) -> dict[str, float]:
    """Summary statistics of a series of temperature readings."""
    if not readings:
        return {"count": 0, "mean": 0.0, "min": 0.0, "max": 0.0, "stdev": 0.0}
    return {
        "count": len(readings),
        "mean": statistics.fmean(readings),
        "min": min(readings),
        "max": max(readings),
        "stdev": statistics.pstdev(readings),
    }


@celery_app.task
def merge_station_stats(results: list[dict[str, float]], codes: list[str]) -> dict[str, dict[str, float]]:
    """Chord callback: pair each station code with its statistics."""
    return dict(zip(codes, results, strict=True))


@celery_app.task
def build_daily_digest(readings_by_station: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    """Statistics for every station, one subtask per station."""
    digest: dict[str, dict[str, float]] = {}
    for code, readings in readings_by_station.items():
        digest[code] = compute_station_stats.delay(readings).get(timeout=60)
    return digest


def schedule_daily_digest(readings_by_station: dict[str, list[float]]) -> AsyncResult:
    """Start the per-station statistics in parallel; the chord callback merges them.

    Called by the nightly scheduler, which stores the returned result id.
    """
    codes = list(readings_by_station)
    header = [compute_station_stats.s(readings_by_station[code]) for code in codes]
    return chord(header)(merge_station_stats.s(codes))
