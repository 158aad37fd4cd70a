"""Report generation in the worker."""

import logging
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from ..config import get_settings
from ..db import SyncSessionLocal
from ..models import Observation, Report, Station
from ..services.reports import period_bounds, report_path, write_observations_csv
from .celery_app import celery_app

logger = logging.getLogger(__name__)


@celery_app.task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def generate_report(station_code: str, start: str, end: str) -> dict[str, int]:
    """Write a CSV report of one station's observations and record it; dates are ISO strings."""
    period_start, period_end = date.fromisoformat(start), date.fromisoformat(end)
    lower, upper = period_bounds(period_start, period_end)
    with SyncSessionLocal() as db:
        station = db.scalar(select(Station).where(Station.code == station_code))
        if station is None:
            raise ValueError(f"unknown station {station_code!r}")
        stmt = (
            select(Observation)
            .where(Observation.station_id == station.id)
            .where(Observation.observed_at >= lower, Observation.observed_at < upper)
            .order_by(Observation.observed_at)
        )
        observations = db.scalars(stmt, execution_options={"yield_per": 1000})
        destination = report_path(get_settings().reports_dir, station.code, period_start, period_end)
        row_count = write_observations_csv(observations, destination)
        report = Report(
            station_id=station.id,
            period_start=period_start,
            period_end=period_end,
            path=str(destination),
            row_count=row_count,
        )
        db.add(report)
        db.commit()
        logger.info("report %s for %s: %d rows", report.id, station.code, row_count)
        return {"report_id": report.id, "row_count": row_count}
