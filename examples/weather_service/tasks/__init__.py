"""Celery tasks. Start a worker with ``celery -A weather_service.tasks:celery_app worker``."""

from .celery_app import celery_app

__all__ = ["celery_app"]
