"""time.sleep in coroutines: module import, from-import, aliases; what stays (comprehension, sync code)."""
import time
from time import sleep
from time import sleep as nap
import time as t


async def poll(job):
    while not job.done:
        time.sleep(0.5)


async def backoff(attempt: int):
    sleep(2 ** attempt)
    nap(1)
    t.sleep(1); print("slept")
    value = time.sleep(0)
    return value


async def in_a_comprehension(jobs):
    return [time.sleep(1) for _ in jobs]  # unfixable: `await` would make it an async comprehension


def sync_backoff():
    time.sleep(1)
