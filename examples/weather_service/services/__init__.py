"""Clients for upstream APIs and report builders."""

from .forecast import fetch_forecast, fetch_forecast_async

__all__ = ["fetch_forecast", "fetch_forecast_async"]
