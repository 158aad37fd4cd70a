"""Place-name lookups against the geocoding API."""

from functools import lru_cache

import httpx

from ..config import get_settings
from ..schemas import GeocodeResult


class GeocodingClient:
    """A small client for the geocoding API; one instance per process."""

    def __init__(self, base_url: str, timeout: float = 5.0) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=timeout)

    def lookup(self, query: str) -> GeocodeResult | None:
        """The best match for a place name, or None."""
        resp = self.http.get("/search", params={"q": query, "limit": 1})
        resp.raise_for_status()
        hits = resp.json().get("results", [])
        return GeocodeResult.model_validate(hits[0]) if hits else None


@lru_cache
def get_geocoder() -> GeocodingClient:
    """Dependency: the process-wide geocoding client."""
    return GeocodingClient(get_settings().geocoding_api_url)
