"""Turning files into facts: from the cache when the content is known, else parsed in parallel."""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from fastapi_reviewer.cache import FactsCache, cache_key
from fastapi_reviewer.facts.model import ModuleFacts
from fastapi_reviewer.findings import FileError

# Below this many files to parse, a process pool costs more than it saves.
POOL_THRESHOLD = 24
CHUNK = 8


@dataclass
class Job:
    path: str  # absolute
    display: str  # as reported
    module: str
    is_package: bool
    data: bytes
    key: str


@dataclass
class ParseStats:
    parsed: int = 0
    cached: int = 0


def _parse_one(job: Job) -> ModuleFacts | FileError:
    from fastapi_reviewer.facts.extract import ParseFailure, extract

    try:
        return extract(job.display, job.data, job.module, job.is_package)
    except ParseFailure as exc:
        return FileError(path=job.display, line=exc.line, message=exc.message)
    except RecursionError:
        return FileError(path=job.display, message="cannot parse: nesting too deep")
    except Exception as exc:  # noqa: BLE001 - a bug of ours must not stop the scan of other files
        return FileError(path=job.display, message=f"internal error while reading the file: {type(exc).__name__}: {exc}")


def _parse_chunk(jobs: list[Job]) -> list[ModuleFacts | FileError]:
    return [_parse_one(job) for job in jobs]


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def collect_facts(
    files: list[tuple[Path, str, str, bool]],
    jobs: int,
    cache: FactsCache | None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[ModuleFacts], list[FileError], ParseStats]:
    """files: (absolute path, display path, module name, is_package)."""
    facts: list[ModuleFacts] = []
    errors: list[FileError] = []
    stats = ParseStats()
    todo: list[Job] = []
    for path, display, module, is_package in files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            errors.append(FileError(path=display, message=f"cannot read: {exc.strerror or exc}"))
            continue
        key = cache_key(data, module, is_package)
        hit = cache.get(key) if cache is not None else None
        if hit is not None:
            hit.path = display
            facts.append(hit)
            stats.cached += 1
            continue
        todo.append(Job(str(path), display, module, is_package, data, key))
    workers = jobs or default_jobs()
    if len(todo) < POOL_THRESHOLD or workers == 1:
        results = []
        for i, job in enumerate(todo):
            results.append(_parse_one(job))
            if progress:
                progress(i + 1, len(todo))
    else:
        results = _parse_parallel(todo, workers, progress)
    for job, result in zip(todo, results):
        if isinstance(result, FileError):
            errors.append(result)
            continue
        facts.append(result)
        stats.parsed += 1
        if cache is not None:
            cache.put(job.key, result)
    return facts, errors, stats


def _parse_parallel(todo: list[Job], workers: int, progress: Callable[[int, int], None] | None) -> list[ModuleFacts | FileError]:
    # the biggest files first, so one large module does not finish alone at the end
    order = sorted(range(len(todo)), key=lambda i: -len(todo[i].data))
    chunks = [[order[i] for i in range(start, min(start + CHUNK, len(order)))] for start in range(0, len(order), CHUNK)]
    method = "fork" if sys.platform.startswith("linux") else None
    context = multiprocessing.get_context(method)
    results: list[ModuleFacts | FileError | None] = [None] * len(todo)
    done = 0
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [(chunk, pool.submit(_parse_chunk, [todo[i] for i in chunk])) for chunk in chunks]
        for chunk, future in futures:
            for i, result in zip(chunk, future.result()):
                results[i] = result
            done += len(chunk)
            if progress:
                progress(done, len(todo))
    return [r for r in results if r is not None]
