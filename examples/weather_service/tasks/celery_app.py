"""The Celery application."""

from celery import Celery

from ..config import get_settings

settings = get_settings()

celery_app = Celery(
    "weather",
    broker=settings.celery_broker_url,
    backend=settings.celery_result_backend,
    include=["weather_service.tasks.ingest", "weather_service.tasks.reports"],
)
celery_app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    result_expires=3600,
    timezone="UTC",
)
