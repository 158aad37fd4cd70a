"""Request and response models (Pydantic v2)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class StationBase(BaseModel):
    code: str = Field(min_length=3, max_length=12, pattern=r"^[A-Za-z0-9_-]+$")
    name: str = Field(min_length=1, max_length=120)
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    elevation_m: float | None = None

    @field_validator("code")
    @classmethod
    def normalise_code(cls, value: str) -> str:
        return value.upper()


class StationCreate(StationBase):
    pass


class StationUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    elevation_m: float | None = None
    active: bool | None = None


class StationOut(StationBase):
    model_config = ConfigDict(from_attributes=True)

    id: int
    active: bool
    min_temp_c: float | None = None
    max_temp_c: float | None = None


class ObservationOut(BaseModel):
    id: int
    station_id: int
    observed_at: datetime
    temperature_c: float
    humidity_pct: float | None = None
    wind_speed_ms: float | None = None
    pressure_hpa: float | None = None

    class Config:
        orm_mode = True


class ForecastDay(BaseModel):
    day: date
    min_temp_c: float
    max_temp_c: float
    precipitation_mm: float = 0.0
    summary: str = ""


class ForecastOut(BaseModel):
    city: str
    issued_at: datetime
    days: list[ForecastDay]


class CurrentConditions(BaseModel):
    city: str
    observed_at: datetime
    temperature_c: float
    humidity_pct: float | None = None
    wind_speed_ms: float | None = None
    description: str = ""


class SunTimes(BaseModel):
    city: str
    sunrise: datetime
    sunset: datetime


class WeatherAlert(BaseModel):
    id: str
    region: str
    severity: Literal["minor", "moderate", "severe", "extreme"]
    headline: str
    expires_at: datetime


class AirQuality(BaseModel):
    city: str
    aqi: int = Field(ge=0)
    dominant_pollutant: str | None = None


class GeocodeResult(BaseModel):
    name: str
    country: str
    latitude: float
    longitude: float


class StationSnapshot(BaseModel):
    station_code: str
    observed_at: datetime
    temperature_c: float
    humidity_pct: float | None = None


class ReportRequest(BaseModel):
    station_code: str = Field(min_length=3, max_length=12)
    start: date
    end: date

    @model_validator(mode="after")
    def check_period(self) -> ReportRequest:
        if self.end < self.start:
            raise ValueError("end must not be before start")
        if (self.end - self.start).days > 366:
            raise ValueError("a report covers at most one year")
        return self


class ReportOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    station_id: int
    period_start: date
    period_end: date
    row_count: int
    created_at: datetime


class ReportTaskOut(BaseModel):
    task_id: str
    status: str


class PublishResult(BaseModel):
    report_id: int
    delivered: bool
    upstream_status: int


class ObservationCount(BaseModel):
    total: int


class StaleCount(BaseModel):
    cutoff: datetime
    count: int


class PurgeResult(BaseModel):
    cutoff: datetime
    deleted: int


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    redis: bool
