"""Station registry and observation history."""

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..db import get_session
from ..models import Observation, Station
from ..schemas import ObservationOut, StationCreate, StationOut, StationUpdate

router = APIRouter(prefix="/stations", tags=["stations"])

MAX_PAGE_SIZE = 200


async def _get_station_or_404(session: AsyncSession, station_id: int) -> Station:
    station = await session.get(Station, station_id)
    if station is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"station {station_id} not found")
    return station


@router.get("", response_model=list[StationOut])
async def list_stations(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
    session: AsyncSession = Depends(get_session),
) -> Sequence[Station]:
    """Stations, ordered by id, one page at a time."""
    result = await session.execute(select(Station).order_by(Station.id).limit(limit).offset(offset))
    return result.scalars().all()


@router.post("", response_model=StationOut, status_code=status.HTTP_201_CREATED)
async def create_station(payload: StationCreate, session: AsyncSession = Depends(get_session)) -> Station:
    """Register a station."""
    station = Station(**payload.model_dump())
    session.add(station)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"station {payload.code} exists") from None
    await session.refresh(station)
    return station


@router.post("/import", response_model=StationOut, status_code=status.HTTP_201_CREATED)
async def import_partner_station(payload: dict, session: AsyncSession = Depends(get_session)) -> Station:
    """Register a station from a record in the partner network's format."""
    station = Station(
        code=payload["station_id"].upper(),
        name=payload["name"],
        latitude=payload["lat"],
        longitude=payload["lon"],
        elevation_m=payload.get("elevation"),
    )
    session.add(station)
    await session.commit()
    await session.refresh(station)
    return station


@router.get("/{station_id}", response_model=StationOut)
async def get_station(station_id: int, session: AsyncSession = Depends(get_session)) -> Station:
    """One station."""
    return await _get_station_or_404(session, station_id)


@router.patch("/{station_id}", response_model=StationOut)
async def update_station(
    station_id: int, payload: StationUpdate, session: AsyncSession = Depends(get_session)
) -> Station:
    """Change a station's name, elevation or active flag."""
    station = await _get_station_or_404(session, station_id)
    for field, value in payload.dict(exclude_unset=True).items():
        setattr(station, field, value)
    await session.commit()
    return station


@router.put("/{station_id}/thresholds", response_model=StationOut)
async def set_alert_thresholds(
    station_id: int, request: Request, session: AsyncSession = Depends(get_session)
) -> Station:
    """Set the temperatures outside which a station raises alerts."""
    data = await request.json()
    station = await _get_station_or_404(session, station_id)
    station.min_temp_c = data["min_temp_c"]
    station.max_temp_c = data["max_temp_c"]
    await session.commit()
    return station


@router.get("/{station_id}/summary")
async def station_summary(station_id: int, session: AsyncSession = Depends(get_session)):
    """Observation count and temperature range of a station."""
    station = await _get_station_or_404(session, station_id)
    stmt = select(
        func.count(Observation.id), func.min(Observation.temperature_c), func.max(Observation.temperature_c)
    ).where(Observation.station_id == station_id)
    count, coldest, warmest = (await session.execute(stmt)).one()
    return {"station": station.code, "observations": count, "min_temp_c": coldest, "max_temp_c": warmest}


@router.get("/{station_id}/observations", response_model=list[ObservationOut])
async def list_observations(station_id: int, session: AsyncSession = Depends(get_session)) -> Sequence[Observation]:
    """A station's observations, newest first."""
    await _get_station_or_404(session, station_id)
    stmt = (
        select(Observation)
        .where(Observation.station_id == station_id)
        .order_by(Observation.observed_at.desc())
    )
    result = await session.execute(stmt)
    return result.scalars().all()
