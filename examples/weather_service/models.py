"""SQLAlchemy ORM models."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, String, UniqueConstraint, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Station(Base):
    """A weather station that reports observations."""

    __tablename__ = "stations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(120))
    latitude: Mapped[float]
    longitude: Mapped[float]
    elevation_m: Mapped[float | None]
    active: Mapped[bool] = mapped_column(default=True)
    min_temp_c: Mapped[float | None]
    max_temp_c: Mapped[float | None]
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    observations: Mapped[list[Observation]] = relationship(
        back_populates="station", cascade="all, delete-orphan"
    )


class Observation(Base):
    """One reading from a station."""

    __tablename__ = "observations"
    __table_args__ = (UniqueConstraint("station_id", "observed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    observed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    temperature_c: Mapped[float]
    humidity_pct: Mapped[float | None]
    wind_speed_ms: Mapped[float | None]
    pressure_hpa: Mapped[float | None]

    station: Mapped[Station] = relationship(back_populates="observations")


class Report(Base):
    """A generated CSV report of one station's observations over a period."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    path: Mapped[str] = mapped_column(String(500))
    row_count: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
