"""Turning files into facts: from the cache when the content is known, else parsed in parallel.

Where the time goes, and what this module does about it (bench/RESULTS.md has the figures):

- parsing: libcst's parser is most of a cold run; files fan out over a ``fork`` process pool of
  ``--jobs`` workers in chunks, the biggest files first.  Fewer than ``POOL_THRESHOLD`` files to
  parse stay in-process (no pool start-up), unless many cached facts are to be loaded too (a
  pre-commit run on a warm project): then the edited files go to the ``WarmWorker`` the CLI forked
  before importing the engine (warm.py), which has imported libcst meanwhile, and are parsed there
  while this process loads the cache: the two halves of the run side by side.
- the workers pickle the facts once and write the cache entry themselves; the main process gets
  the bytes and only unpickles them (it must have the facts), so no second pickling there.
- the cyclic garbage collector: a libcst tree is ~10,000 objects per file and the facts of a
  project a few hundred thousand; with the collector on, its generational passes over them cost
  as much as the work itself.  Parsing runs with it paused; extraction leaves no cycles (a file's
  tree and working state go by reference counting, tests/test_extract.py), and a young-generation
  pass per chunk sweeps the few the standard library leaves (``ast.literal_eval``); bulk loads of
  facts run with it paused and the loaded facts are then moved out of its sight (``gc.freeze``),
  so the project phase does not walk them again and again.
"""

from __future__ import annotations

import gc
import multiprocessing
import sys
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from fastapi_reviewer.cache import FactsCache, cache_key, dumps, loads
from fastapi_reviewer.facts.model import ModuleFacts
from fastapi_reviewer.warm import WarmWorker, available_cpus

if TYPE_CHECKING:
    from fastapi_reviewer.findings import FileError

# Below this many files to parse, a process pool costs more than it saves...
POOL_THRESHOLD = 24
# ...unless this many cached facts are to be loaded meanwhile: one forked worker then parses
# (importing libcst, ~0.15 s, and parsing) while this process loads the cache.
OVERLAP_HITS = 200
CHUNK = 8


@dataclass
class Job:
    path: str  # absolute
    display: str  # as reported
    module: str
    is_package: bool
    key: str
    size: int = 0
    data: bytes = b""  # read where the file is parsed (a worker), not kept by the main process


@dataclass
class ParseStats:
    parsed: int = 0
    cached: int = 0


class Failure(NamedTuple):
    """A file that could not be read or parsed, as a worker reports it: made into the report's
    FileError by this process (the workers do not import pydantic, so that the warm worker, forked
    before anything imports it, is ready sooner)."""

    path: str
    line: int | None
    message: str

    def error(self) -> FileError:
        from fastapi_reviewer.findings import FileError

        return FileError(path=self.path, line=self.line, message=self.message)


def _parse_one(job: Job) -> ModuleFacts | Failure:
    from fastapi_reviewer.facts.extract import ParseFailure, extract

    if not job.data:
        try:
            with open(job.path, "rb") as fh:
                job.data = fh.read()
        except OSError as exc:
            return Failure(job.display, None, f"cannot read: {exc.strerror or exc}")
        job.key = cache_key(job.data, job.module, job.is_package)  # what is parsed is what is cached
    try:
        return extract(job.display, job.data, job.module, job.is_package)
    except ParseFailure as exc:
        return Failure(job.display, exc.line, exc.message)
    except RecursionError:
        return Failure(job.display, None, "cannot parse: nesting too deep")
    except Exception as exc:  # noqa: BLE001 - a bug of ours must not stop the scan of other files
        return Failure(job.display, None, f"internal error while reading the file: {type(exc).__name__}: {exc}")


class _GcPaused:
    """The cyclic collector off for a block, then on again if it was (and a young pass if asked)."""

    def __init__(self, collect: bool = False) -> None:
        self.collect = collect

    def __enter__(self) -> None:
        self.was = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self.collect:
            # everything made in the block is still in the youngest generation: a pass over it
            # frees the cycles the collector left behind, without looking at anything older
            gc.collect(0)
        if self.was:
            gc.enable()


# what a chunk's parse gives back: the pack its entries went to (None: not cached), and per file
# its key and entry bytes, or its error
Produced = tuple[str | None, list[tuple[str, bytes] | Failure]]


def _parse_jobs(jobs: list[Job], cache: FactsCache | None) -> Produced:
    """Parse ``jobs`` into facts as cache-entry bytes, written to the cache as one pack."""
    from fastapi_reviewer.facts.fastparse import fast_nodes

    out: list[tuple[str, bytes] | Failure] = []
    with _GcPaused(collect=True), fast_nodes():  # libcst's fast constructors once per chunk
        for job in jobs:
            result = _parse_one(job)
            job.data = b""
            out.append(result if isinstance(result, Failure) else (job.key, dumps(result)))
    pack = cache.write_pack([item for item in out if not isinstance(item, Failure)]) if cache is not None else None
    return pack, out


def _parse_chunk(jobs: list[Job], cache_dir: str | None) -> Produced:
    """In a worker: ``_parse_jobs`` on the cache folder (the main process indexes the pack)."""
    return _parse_jobs(jobs, FactsCache.at(cache_dir) if cache_dir is not None else None)


def _worker_init() -> None:
    # what the parent imported (libcst, our modules) lives as long as the worker: out of the
    # collector's sight
    gc.freeze()


def default_jobs() -> int:
    return available_cpus()


def collect_facts(
    files: list[tuple[Path, str, str, bool]],
    jobs: int,
    cache: FactsCache | None,
    progress: Callable[[int, int], None] | None = None,
    prepared: dict[Path, tuple[str, int]] | None = None,
    warm_worker: WarmWorker | None = None,
    lazy: bool = False,
) -> tuple[list[ModuleFacts], list[FileError], ParseStats]:
    """files: (absolute path, display path, module name, is_package); prepared: facts key and size
    of files already seen (runcache.read_inputs); lazy: leave the insides of the functions packed
    until read (a run that reports on a few files, see facts/lazy.py).

    The files to parse go to the workers first; the cached facts of the others are loaded while
    the workers parse (a pre-commit run: a worker imports libcst and parses the few edited files
    while this process loads the rest of the project from the cache)."""
    from fastapi_reviewer.findings import FileError

    facts: list[ModuleFacts] = []
    errors: list[FileError] = []
    stats = ParseStats()
    todo: list[Job] = []
    hits: list[Job] = []
    for path, display, module, is_package in files:
        known = prepared.get(path) if prepared is not None else None
        if known is not None:
            key, size = known
        else:
            try:
                with open(path, "rb") as fh:
                    data = fh.read()
            except OSError as exc:
                errors.append(FileError(path=display, message=f"cannot read: {exc.strerror or exc}"))
                continue
            key, size = cache_key(data, module, is_package), len(data)
            del data  # memory: the sources of a 6,000-file project are not held while it is parsed
        job = Job(str(path), display, module, is_package, key, size)
        if cache is not None and cache.has(key):
            hits.append(job)
        else:
            todo.append(job)
    workers = jobs or default_jobs()
    pool: _Pool | WarmWorker | None = None
    if workers > 1 and todo and len(todo) < POOL_THRESHOLD and len(hits) >= OVERLAP_HITS and warm_worker is not None and warm_worker.start(todo, cache):
        pool = warm_worker  # libcst already imported there
    elif workers > 1 and (len(todo) >= POOL_THRESHOLD or (todo and len(hits) >= OVERLAP_HITS)):
        pool = _Pool(todo, workers if len(todo) >= POOL_THRESHOLD else 1, cache)
    unusable: list[Job] = []
    loaded: list[ModuleFacts | None] = [None] * len(hits)
    with _GcPaused():
        if cache is not None:
            for i, blob in cache.read_many([job.key for job in hits]):
                job = hits[i]
                hit = loads(blob, lazy, (job.path, job.key, job.module, job.is_package)) if blob is not None else None
                if hit is not None and hit.module == job.module:
                    hit.path = job.display
                    loaded[i] = hit
        for job, hit in zip(hits, loaded):
            if hit is not None:
                facts.append(hit)
                stats.cached += 1
            else:
                unusable.append(job)
        del loaded
        # out of the collector's sight before it is switched back on: its first pass would
        # otherwise walk every object just loaded (~0.2 s for 2,000 modules), for nothing
        gc.freeze()
    results = pool.finish(progress, lazy) if pool is not None else _parse_here(todo, cache, progress, lazy)
    results.extend(_parse_here(unusable, cache, None, lazy))
    for result in results:
        if isinstance(result, FileError):
            errors.append(result)
            continue
        facts.append(result)
        stats.parsed += 1
    if cache is not None:  # the index: this run's new packs, the days of the entries it used
        every = (*hits, *todo)
        cache.save({job.path for job in every}, {job.key for job in every})
    # the facts live until the end of the run and hold no cycles: keep the collector off them
    gc.freeze()
    return facts, errors, stats


def _parse_here(todo: list[Job], cache: FactsCache | None, progress: Callable[[int, int], None] | None, lazy: bool = False) -> list[ModuleFacts | FileError]:
    """In this process, chunk by chunk like a worker: every run sees the same compact, read-only
    facts (cache.py) whether a file was parsed here, in a worker or read from the cache."""
    results: list[ModuleFacts | FileError] = []
    for start in range(0, len(todo), CHUNK):
        chunk = todo[start : start + CHUNK]
        results.extend(load_results(chunk, _parse_jobs(chunk, cache), lazy, cache))
        if progress:
            progress(len(results), len(todo))
    return results


def load_results(jobs: list[Job], produced: Produced, lazy: bool = False, cache: FactsCache | None = None) -> list[ModuleFacts | FileError]:
    """A chunk's answer for ``jobs`` (``_parse_jobs``) -> facts, frozen out of the collector's
    sight as they arrive (see collect_facts); its pack noted for the cache's index."""
    pack, items = produced
    if pack is not None and cache is not None:
        cache.add(pack, [(item[0], job.path) for job, item in zip(jobs, items) if not isinstance(item, Failure)])
    results: list[ModuleFacts | FileError] = []
    with _GcPaused():
        for job, item in zip(jobs, items):
            if isinstance(item, Failure):
                results.append(item.error())
                continue
            loaded = loads(item[1], lazy, (job.path, item[0], job.module, job.is_package))  # the key of what the worker read
            results.append(loaded if loaded is not None else Failure(job.display, None, "internal error: unreadable facts").error())
        gc.freeze()
    return results


class _Pool:
    """Files parsed by a fork pool: submitted at once, gathered by ``finish``."""

    def __init__(self, todo: list[Job], workers: int, cache: FactsCache | None) -> None:
        self.todo = todo
        self.cache = cache
        # the biggest files first, so one large module does not finish alone at the end
        order = sorted(range(len(todo)), key=lambda i: -todo[i].size)
        chunks = [order[i : i + CHUNK] for i in range(0, len(order), CHUNK)]
        method = "fork" if sys.platform.startswith("linux") else None
        context = multiprocessing.get_context(method)
        cache_dir = str(cache.root) if cache is not None else None
        self.executor = ProcessPoolExecutor(max_workers=min(workers, len(chunks)), mp_context=context, initializer=_worker_init)
        self.futures: list[tuple[list[int], Future[Produced]] | None] = [
            (chunk, self.executor.submit(_parse_chunk, [todo[i] for i in chunk], cache_dir)) for chunk in chunks
        ]

    def finish(self, progress: Callable[[int, int], None] | None, lazy: bool = False) -> list[ModuleFacts | FileError]:
        todo = self.todo
        results: list[ModuleFacts | FileError | None] = [None] * len(todo)
        done = 0
        with self.executor:
            futures = self.futures
            for k in range(len(futures)):
                chunk, future = futures[k]  # type: ignore[misc]
                produced = future.result()
                futures[k] = None  # memory: neither the future (the chunk's bytes) nor the sources stay
                for i, result in zip(chunk, load_results([todo[i] for i in chunk], produced, lazy, self.cache)):
                    todo[i].data = b""
                    results[i] = result
                done += len(chunk)
                if progress:
                    progress(done, len(todo))
        return [r for r in results if r is not None]
