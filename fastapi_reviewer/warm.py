"""The warm worker: a process forked as early as a run can tell it will likely parse a few files
next to a large cache load (a pre-commit run on a warm project).  It imports libcst (~0.15 s) and
the collector while the main process imports the rest of the tool, discovers the files, reads their
stamps and loads the cache; the edited files are then parsed there (``parsing.collect_facts``).
Kept free of heavy imports so that the fork happens early.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi_reviewer.cache import FactsCache
    from fastapi_reviewer.facts.model import ModuleFacts
    from fastapi_reviewer.findings import FileError
    from fastapi_reviewer.parsing import Job, Produced

STAMPS = "stamps.pickle"  # stamps.py writes it into the cache folder
DEFAULT_CACHE_DIR = ".fastapi_review_cache"  # Settings.cache_dir's default (config.py)
# a stamps file this big records a few hundred files: a project whose cache load is worth overlapping
MIN_STAMPS_BYTES = 20_000


def available_cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


# a small FastAPI module touching the common node types, parsed once by the worker while it waits
WARM_UP_SOURCE = '''from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field

router = APIRouter(prefix="/items", tags=["items"])
LIMIT: int = 10
NAMES = ["a", "b"]


class Item(BaseModel):
    name: str = Field(..., max_length=20)
    price: float | None = None

    @property
    def label(self) -> str:
        return f"{self.name}: {self.price!r}"


def get_db() -> Any:
    db = object()
    try:
        yield db
    finally:
        del db


@router.get("/{item_id}", response_model=Item)
async def read_item(item_id: int, db: Annotated[Any, Depends(get_db)], q: str | None = None) -> Item:
    items = [i for i in range(LIMIT) if i % 2 == 0]
    lookup = {k: v for k, v in zip(NAMES, items)}
    with open("x") as fh:
        data = fh.read()
    for i in items:
        await asyncio.sleep(0)
        if i > item_id and not q:
            break
    else:
        time.sleep(0.1)
    try:
        value = lookup[q or "a"] * 2 + (-1) ** 2
    except (KeyError, TypeError) as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    lam = lambda x: x + 1  # noqa: E731
    async with asyncio.timeout(1):
        pass
    async for _ in aiter([]):
        pass
    while value > 0:
        value -= 1
    assert value == 0, "done"
    global LIMIT
    return Item(name=data[:3], price=lam(value) if value else None)
'''


def worth_starting(cache_root: Path, jobs: int) -> bool:
    """A warm project (its stamps were recorded by an earlier run) on more than one CPU."""
    if (jobs or available_cpus()) < 2:
        return False
    try:
        return (cache_root / STAMPS).stat().st_size >= MIN_STAMPS_BYTES
    except OSError:
        return False


def _warm_worker_main(conn: Connection) -> None:
    """The warm worker: import what parsing needs, then parse the one batch it is sent (if any)."""
    try:
        from fastapi_reviewer.cache import dumps
        from fastapi_reviewer.facts.extract import extract
        from fastapi_reviewer.parsing import _parse_chunk

        # the first file a process parses pays for lazy set-up (libcst's import, the walk's
        # per-node-type tables, the collector's caches, the codec): ~0.15 s, paid here meanwhile
        # (unless the files are already waiting: then they pay for it themselves, sooner)
        if not conn.poll(0):
            try:
                dumps(extract("<warm-up>", WARM_UP_SOURCE.encode(), "warm_up", False))
            except Exception:  # noqa: BLE001, S110 - only a warm-up: the jobs are what counts
                pass

        request = conn.recv()
        if request is not None:
            jobs, cache_dir = request
            conn.send(_parse_chunk(jobs, cache_dir))
    except (EOFError, OSError, KeyboardInterrupt):
        pass
    finally:
        conn.close()


class WarmWorker:
    """A process forked when a run starts, importing libcst (~0.15 s) while this process discovers
    the files and reads their stamps, so that the few files a pre-commit run must parse start at
    once.  Used for a small batch next to a large cache load; otherwise stopped (``close``)."""

    def __init__(self) -> None:
        self.process = None
        self.conn: Connection | None = None
        self.todo: list[Job] = []
        self.cache: FactsCache | None = None
        if not sys.platform.startswith("linux"):
            return
        try:
            context = multiprocessing.get_context("fork")
            self.conn, child = context.Pipe()
            self.process = context.Process(target=_warm_worker_main, args=(child,), daemon=True)
            self.process.start()
            child.close()
        except OSError:
            self.process = self.conn = None

    def start(self, todo: list[Job], cache: FactsCache | None) -> bool:
        if self.process is None or self.conn is None or not self.process.is_alive():
            return False
        try:
            self.conn.send((todo, str(cache.root) if cache is not None else None))
        except OSError:
            return False
        self.todo, self.cache = todo, cache
        return True

    def finish(self, progress: Callable[[int, int], None] | None, lazy: bool = False) -> list[ModuleFacts | FileError]:
        assert self.conn is not None
        from fastapi_reviewer.parsing import _parse_here, load_results

        try:
            produced: Produced = self.conn.recv()
        except (EOFError, OSError):  # the worker died: parse here
            return _parse_here(self.todo, self.cache, progress, lazy)
        finally:
            self.close()
        results = load_results(self.todo, produced, lazy, self.cache)
        if progress:
            progress(len(results), len(self.todo))
        return results

    def close(self) -> None:
        """Stop the worker (it may still be importing: a signal, no waiting)."""
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        if self.process is not None:
            if self.process.is_alive():
                self.process.terminate()
            self.process = None
