"""Sync HTTP calls in coroutines, offloaded to a thread (an unsafe fix)."""
import httpx
import requests


async def forecast(city: str) -> dict:
    response = requests.get("https://api.example.com/forecast", params={"city": city}, timeout=5)
    return response.json()


async def status(url: str) -> int:
    return requests.head(url, timeout=2).status_code


async def post(payload: dict) -> None:
    with httpx.Client() as client:
        client.post("https://api.example.com/events", json=payload)


async def stream(url: str) -> None:
    with httpx.stream("GET", url) as response:  # unfixable: a streaming response is read on the loop anyway
        response.read()
