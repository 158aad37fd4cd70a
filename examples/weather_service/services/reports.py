"""CSV report files."""

import csv
import uuid
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

from ..models import Observation

CSV_COLUMNS = ("observed_at", "temperature_c", "humidity_pct", "wind_speed_ms", "pressure_hpa")


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """UTC bounds for a report period; ``end`` is inclusive."""
    lower = datetime.combine(start, time.min, tzinfo=timezone.utc)
    upper = datetime.combine(end + timedelta(days=1), time.min, tzinfo=timezone.utc)
    return lower, upper


def report_path(reports_dir: Path, station_code: str, start: date, end: date) -> Path:
    return reports_dir / f"{station_code.lower()}_{start:%Y%m%d}_{end:%Y%m%d}.csv"


def write_observations_csv(observations: Iterable[Observation], destination: Path) -> int:
    """Write observations to ``destination`` as CSV and return the row count.

    The file is written under a temporary name and renamed, so readers never see half a report.
    The reports directory is provisioned with the deployment (``WEATHER_REPORTS_DIR``).
    """
    partial = destination.with_name(f".{destination.name}.{uuid.uuid4().hex}.part")
    rows = 0
    with open(partial, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(CSV_COLUMNS)
        for obs in observations:
            writer.writerow(
                [
                    obs.observed_at.isoformat(),
                    obs.temperature_c,
                    obs.humidity_pct,
                    obs.wind_speed_ms,
                    obs.pressure_hpa,
                ]
            )
            rows += 1
    partial.replace(destination)
    return rows
