"""time.sleep in coroutines: module import, from-import, aliases; what stays (comprehension, sync code)."""
import time
import asyncio


async def poll(job):
    while not job.done:
        await asyncio.sleep(0.5)


async def backoff(attempt: int):
    await asyncio.sleep(2 ** attempt)
    await asyncio.sleep(1)
    await asyncio.sleep(1); print("slept")
    value = await asyncio.sleep(0)
    return value


async def in_a_comprehension(jobs):
    return [time.sleep(1) for _ in jobs]  # unfixable: `await` would make it an async comprehension


def sync_backoff():
    time.sleep(1)
