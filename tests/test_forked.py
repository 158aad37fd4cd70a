"""A rule family checked in a forked process (forked.py, engine.py): the same findings as in-process,
and every way the child can fail ends in an in-process run, never in a lost or wrong result."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from fastapi_reviewer import engine
from fastapi_reviewer.config import Settings
from fastapi_reviewer.forked import Forked, can_fork

pytestmark = pytest.mark.skipif(not can_fork(), reason="fork is used on Linux only")

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "weather_service"


def test_the_result_comes_from_another_process() -> None:
    child = Forked(os.getpid)
    assert child.forked
    assert child.result() != os.getpid()
    assert not child.forked  # reaped


def test_a_large_result_is_read_whole() -> None:
    big = list(range(300_000))  # several pipe buffers
    assert Forked(lambda: big).result() == big


def test_an_error_in_the_child_is_raised_here_as_without_the_fork() -> None:
    calls = []

    def fails() -> int:
        calls.append(os.getpid())
        raise ValueError("boom")

    child = Forked(fails)
    with pytest.raises(ValueError, match="boom"):
        child.result()
    assert calls == [os.getpid()]  # the child's call was in another process: only ours is seen here


def test_a_child_that_dies_is_replaced_by_a_run_here() -> None:
    parent = os.getpid()

    def dies_in_the_child() -> str:
        if os.getpid() != parent:
            os._exit(3)
        return "here"

    assert Forked(dies_in_the_child).result() == "here"


def test_no_fork_while_another_thread_runs() -> None:
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        child = Forked(os.getpid)
        assert not child.forked
        assert child.result() == os.getpid()
    finally:
        stop.set()
        thread.join()


def test_close_reaps_a_child_never_asked() -> None:
    child = Forked(lambda: list(range(300_000)))  # blocked writing to a pipe nobody reads
    pid = child.pid
    child.close()
    assert pid is not None
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    child.close()  # twice: nothing to do


def _findings(settings: Settings) -> list[dict]:  # type: ignore[type-arg]
    result = engine.scan([EXAMPLE], settings, cwd=EXAMPLE)
    return [f.model_dump() for f in result.report.findings]


def test_the_task_family_in_a_fork_finds_what_it_finds_in_process(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    in_process = _findings(Settings(cache=False, jobs=1))  # --jobs 1: one process throughout
    assert any(f["category"] == "task" for f in in_process)  # the example has Celery findings to compare
    started = []
    real = engine.Forked

    def spy(fn):  # type: ignore[no-untyped-def]
        child = real(fn)
        started.append(child.forked)
        return child

    monkeypatch.setattr(engine, "FORK_MIN_MODULES", 0)
    monkeypatch.setattr(engine, "Forked", spy)
    monkeypatch.setattr(engine, "available_cpus", lambda: 2)
    assert _findings(Settings(cache=False, jobs=2)) == in_process
    assert started == [True]


def test_no_fork_below_the_size_threshold_or_with_one_job(monkeypatch: pytest.MonkeyPatch) -> None:
    started = []
    monkeypatch.setattr(engine, "Forked", lambda fn: started.append(fn))
    monkeypatch.setattr(engine, "available_cpus", lambda: 2)
    _findings(Settings(cache=False, jobs=2))  # a small project
    monkeypatch.setattr(engine, "FORK_MIN_MODULES", 0)
    _findings(Settings(cache=False, jobs=1))
    assert started == []


def test_no_fork_in_a_run_that_names_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """A pre-commit run's other families take a few milliseconds: the child's copy-on-write start
    would be waited for (measured: ~85 ms waited vs ~60 ms of Celery model and task rules here)."""
    started = []
    monkeypatch.setattr(engine, "Forked", lambda fn: started.append(fn))
    monkeypatch.setattr(engine, "available_cpus", lambda: 2)
    monkeypatch.setattr(engine, "FORK_MIN_MODULES", 0)
    tasks = sorted((EXAMPLE / "tasks").glob("*.py"))
    result = engine.scan(tasks, Settings(cache=False, jobs=2), cwd=EXAMPLE)
    assert any(f.category == "task" for f in result.report.findings) and started == []


def test_the_progress_bar_thread_is_gone_once_parsing_is_done() -> None:
    import io

    from rich.console import Console

    from fastapi_reviewer.cli import _Progress

    progress = _Progress(lambda: Console(file=io.StringIO(), force_terminal=True), enabled=True)
    progress.update(10, 200)
    assert progress.bar is not None and threading.active_count() > 1  # rich refreshes from a thread
    progress.update(200, 200)
    assert progress.bar is None and threading.active_count() == 1  # the checks may fork now
    progress.update(200, 200)  # a late call does not start it again
    assert progress.bar is None
    progress.close()


def test_closing_the_progress_bar_waits_for_its_own_thread_only() -> None:
    """A pool's threads, started after the bar, are not joined when the bar closes (they end with
    the pool): closing must not wait for them."""
    import io
    import time

    from rich.console import Console

    from fastapi_reviewer.cli import _Progress

    progress = _Progress(lambda: Console(file=io.StringIO(), force_terminal=True), enabled=True)
    progress.update(10, 200)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)  # like a pool's management thread
    other.start()
    try:
        started = time.perf_counter()
        progress.update(200, 200)
        assert time.perf_counter() - started < 0.5
        assert other.is_alive()
    finally:
        stop.set()
        other.join()
