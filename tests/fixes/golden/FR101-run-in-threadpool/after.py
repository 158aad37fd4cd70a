from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool as in_threads
import requests

app = FastAPI()
session = requests.Session()


@app.get("/a")
async def offloaded(url: str):
    return await in_threads(requests.get, url, timeout=3)


@app.get("/b")
async def blocking(url: str):
    data = (await in_threads(session.get, url, timeout=3)).json()
    return data
