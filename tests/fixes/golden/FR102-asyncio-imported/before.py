import asyncio
import time

from fastapi import FastAPI

app = FastAPI()


@app.get("/slow")
async def slow(seconds: float = 1.0):
    if seconds > 0:
        time.sleep(seconds)
    await asyncio.sleep(0)
    return {"slept": seconds}
