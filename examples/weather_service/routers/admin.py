"""Maintenance endpoints for operators (admin scope required)."""

import logging
from datetime import datetime, timedelta, timezone
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from ..db import get_session, get_sync_db
from ..models import Observation
from ..schemas import ObservationCount, PurgeResult, StaleCount
from ..security import require_admin

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(require_admin)])

RetentionDays = Annotated[int, Query(ge=1, le=3650)]


def _cutoff(days: int) -> datetime:
    return datetime.now(timezone.utc) - timedelta(days=days)


@router.get("/observations/count", response_model=ObservationCount)
async def count_observations(session: AsyncSession = Depends(get_session)) -> ObservationCount:
    """Total number of stored observations."""
    total = await session.scalar(select(func.count()).select_from(Observation))
    return ObservationCount(total=total or 0)


@router.get("/observations/stale", response_model=StaleCount)
async def count_stale_observations(days: RetentionDays = 90, db: Session = Depends(get_sync_db)) -> StaleCount:
    """How many observations are older than the retention period."""
    cutoff = _cutoff(days)
    stale = db.query(Observation).filter(Observation.observed_at < cutoff).count()
    return StaleCount(cutoff=cutoff, count=stale)


@router.delete("/observations/stale", response_model=PurgeResult)
def purge_stale_observations(days: RetentionDays = 90, db: Session = Depends(get_sync_db)) -> PurgeResult:
    """Delete observations older than the retention period."""
    cutoff = _cutoff(days)
    deleted = db.query(Observation).filter(Observation.observed_at < cutoff).delete(synchronize_session=False)
    db.commit()
    logger.warning("purged %d observations older than %s", deleted, cutoff.isoformat())
    return PurgeResult(cutoff=cutoff, deleted=deleted)
