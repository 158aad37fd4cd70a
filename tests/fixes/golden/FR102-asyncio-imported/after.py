import asyncio

from fastapi import FastAPI

app = FastAPI()


@app.get("/slow")
async def slow(seconds: float = 1.0):
    if seconds > 0:
        await asyncio.sleep(seconds)
    await asyncio.sleep(0)
    return {"slept": seconds}
