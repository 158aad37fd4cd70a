"""The advisor's entry points (``fastapi_reviewer.advisor`` re-exports them lazily)."""

from __future__ import annotations

import asyncio
import concurrent.futures
from pathlib import Path

from fastapi_reviewer.advisor import TEMPLATE_VERSION
from fastapi_reviewer.advisor.models import AdviceResult
from fastapi_reviewer.advisor.settings import LLMSettings
from fastapi_reviewer.catalog import Rule
from fastapi_reviewer.findings import Report


async def advise_async(
    report: Report,
    root: Path,
    settings: LLMSettings,
    rules: dict[str, Rule],
    *,
    routes: int | None = None,
) -> AdviceResult:
    """``advise`` for callers that already run an event loop."""
    if not (settings.enabled or settings.dry_run):
        return AdviceResult()
    try:
        from fastapi_reviewer.advisor.engine import run

        return await run(report, Path(root), settings, rules, TEMPLATE_VERSION, routes=routes)
    except Exception as exc:  # noqa: BLE001 - the LLM step must never break a scan
        message = " ".join(f"{type(exc).__name__}: {exc}".split())[:240]
        return AdviceResult(warnings=[f"LLM advice unavailable: internal error ({message})"])


def advise(
    report: Report,
    root: Path,
    settings: LLMSettings,
    rules: dict[str, Rule],
    *,
    routes: int | None = None,
) -> AdviceResult:
    """Ask the model for advice on the report's findings.

    ``root``: the directory finding paths are relative to (the scan's working directory); dependency files
    (pyproject.toml, requirements*.txt) are read from it and a relative ``cache_dir``/``template_dir`` is
    resolved against it. ``rules``: the catalog by code (``load_catalog().by_code()``), for each rule's "why".
    ``routes``: the number of path operations if the caller knows it; otherwise counted under ``root``.

    Returns without doing anything unless ``settings.enabled`` or ``settings.dry_run``. With ``dry_run`` it
    sends nothing, needs no key, and returns the exact messages in ``dry_run_text``.
    """
    coro = advise_async(report, root, settings, rules, routes=routes)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    # called from inside a running loop (a notebook, an async test): run on a private loop in a thread
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
