"""The scan, end to end: discover -> facts -> index -> checks -> suppressions -> report."""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fastapi_reviewer import __version__
from fastapi_reviewer.cache import FactsCache
from fastapi_reviewer.catalog import Catalog, CatalogError, Rule, load_catalog
from fastapi_reviewer.checks.base import Check, CheckContext
from fastapi_reviewer.config import ConfigError, Settings
from fastapi_reviewer.discovery import Discovery, discover, module_name
from fastapi_reviewer.fastapi_model import AppModel, build_app_model
from fastapi_reviewer.findings import Finding, Report, fingerprint
from fastapi_reviewer.forked import Forked
from fastapi_reviewer.index import ProjectIndex
from fastapi_reviewer.parsing import ParseStats, collect_facts
from fastapi_reviewer.suppress import PerFileIgnores, noqa_silences
from fastapi_reviewer.warm import WarmWorker, available_cpus


def all_checks() -> list[Check]:
    """Every `check` function in fastapi_reviewer/checks/ (one module per rule family)."""
    import importlib
    import pkgutil

    from fastapi_reviewer import checks

    found: list[Check] = []
    for info in sorted(pkgutil.iter_modules(checks.__path__), key=lambda i: i.name):
        if info.name.startswith("_") or info.name == "base":
            continue
        module = importlib.import_module(f"fastapi_reviewer.checks.{info.name}")
        if callable(getattr(module, "check", None)):
            found.append(module.check)
    return found


@dataclass
class ScanResult:
    report: Report
    discovery: Discovery
    index: ProjectIndex
    app: AppModel
    stats: ParseStats
    suppressed: int
    timings: dict[str, float]  # seconds per phase: discover, facts, index, checks (per family), report
    catalog: Catalog | None = None  # the rule catalog the scan used (the CLI describes findings with it)


class _CachedScanResult(ScanResult):
    """A scan answered by the run cache: index and app are built from the cached facts on first use."""

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        if name in ("index", "app"):
            self.index, self.app = self._build()
            gc.unfreeze()
            return getattr(self, name)
        raise AttributeError(name)


# the rule family checked in a forked copy of the process (forked.py) on large projects: the Celery
# family's model (celery_model.py) is read by no other family, so building it there costs this
# process nothing (bench/RESULTS.md: ~0.2 s of a cold 2,000-module run, ~25 ms of a pre-commit run)
FORKED_FAMILY = "tasks"
FORK_MIN_MODULES = 200  # below this, the whole phase takes a few milliseconds: not worth a fork
# nor in a run that names files (pre-commit): its other families then take a few milliseconds, and
# the child's copy-on-write start would be waited for (~85 ms waited against ~60 ms in-process)


def _family(check: Check) -> str:
    return check.__module__.rsplit(".", 1)[-1]


def _fork_task_family(families: list[Check], ctx: CheckContext) -> dict[Check, Forked[list[Finding]]]:
    """The Celery family started in a fork that builds the Celery model; {} when there is no such
    family or no fork here (platform, threads): then every family runs in this process."""
    from fastapi_reviewer.celery_model import build_celery_model

    for check in families:
        if _family(check) == FORKED_FAMILY:

            def run(check: Check = check) -> list[Finding]:
                build_celery_model(ctx.index)
                return list(check(ctx))

            child = Forked(run)
            return {check: child} if child.forked else {}
    return {}


def _project_phase(facts: list, catalog: Catalog) -> tuple[ProjectIndex, AppModel]:  # type: ignore[type-arg]
    index = ProjectIndex(facts, catalog.types)
    return index, build_app_model(index)


def display_path(path: Path, cwd: Path) -> str:
    """The path relative to ``cwd`` when below it (as posix), else as it is; string work only."""
    full, base = str(path), str(cwd)
    prefix = base if base.endswith(os.sep) else base + os.sep
    if full.startswith(prefix) and full != prefix:
        full = full[len(prefix) :]
    elif full == base:
        return "."
    return full.replace(os.sep, "/") if os.sep != "/" else full


def enabled_rules(catalog: Catalog, settings: Settings) -> dict[str, Rule]:
    def expand(selectors: list[str], key: str) -> set[str]:
        codes: set[str] = set()
        for sel in selectors:
            matched = catalog.select(sel)
            if not matched:
                raise ConfigError(f"{key}: unknown rule selector {sel!r}")
            codes.update(r.code for r in matched)
        return codes

    chosen = expand(settings.select, "select") | expand(settings.extend_select, "extend-select")
    chosen -= expand(settings.ignore, "ignore")
    rules: dict[str, Rule] = {}
    for code in sorted(chosen):
        rule = catalog.by_code()[code]
        override = settings.severity.get(rule.code) or settings.severity.get(rule.name)
        rules[code] = rule.model_copy(update={"severity": override}) if override else rule
    for key in settings.severity:
        if catalog.find(key) is None:
            raise ConfigError(f"severity: unknown rule {key!r}")
    for pattern, selectors in settings.per_file_ignores.items():
        expand(selectors, f"per-file-ignores.{pattern}")
    return rules


def scan(
    targets: list[Path],
    settings: Settings,
    cwd: Path | None = None,
    config_dir: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    checks: list[Check] | None = None,
    warm_worker: WarmWorker | None = None,
) -> ScanResult:
    """warm_worker: a parsing worker the caller started ahead (warm.py; the CLI does), used for a
    few files to parse next to a large cache load and stopped once the facts are in (the caller
    still closes it if the scan fails earlier: ``close`` can be called again)."""
    cwd = (cwd or Path.cwd()).resolve()
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(phase: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[phase] = timings.get(phase, 0.0) + now - clock
        clock = now

    found = discover(targets, settings.exclude, settings.extend_exclude, settings.force_exclude, settings.respect_gitignore)
    lap("discover")
    entries = []
    for path in found.files:
        module, is_package = module_name(path, found.root, resolved=True)  # discovery resolved it
        entries.append((path, display_path(path, cwd), module, is_package))
    cache_root = Path(settings.cache_dir)
    if not cache_root.is_absolute():
        cache_root = found.root / cache_root
    cache = FactsCache(cache_root) if settings.cache else None
    try:
        if cache is not None:
            from fastapi_reviewer.runcache import load_catalog_cached

            catalog = load_catalog_cached(cache)
        else:
            catalog = load_catalog()
    except CatalogError as exc:
        raise ConfigError(f"rule catalog: {exc}") from exc
    rules = enabled_rules(catalog, settings)
    prepared = run = None
    try:
        if cache is not None and checks is None:  # every input unchanged: the last run's report (runcache.py)
            from fastapi_reviewer.runcache import RunKey, read_inputs
            from fastapi_reviewer.stamps import FileStamps

            prepared = read_inputs(entries, FileStamps(cache))
            run = RunKey(entries, prepared, settings, cwd, config_dir, found.root, {display_path(p, cwd) for p in found.report}, [str(t) for t in targets])
            saved = run.load(cache)
            if saved is not None:
                lap("facts")
                result = _CachedScanResult(saved[0], found, None, None, ParseStats(cached=len(prepared)), saved[1], timings, catalog)  # type: ignore[arg-type]
                result._build = lambda: _project_phase(collect_facts(entries, settings.jobs, cache, None, prepared)[0], catalog)
                del result.index, result.app  # built on first use (__getattr__)
                return result
        # a run that reports on a few files reads few function bodies: they stay packed (facts/lazy.py)
        lazy = len(found.report) < len(found.files)
        facts, errors, stats = collect_facts(entries, settings.jobs, cache, progress, prepared, warm_worker, lazy)
    finally:
        if warm_worker is not None:
            warm_worker.close()
    lap("facts")
    # the project phase makes hundreds of thousands of short-lived, acyclic objects (symbols,
    # traces, call sites): the cyclic collector would walk them again and again (~20 % of the
    # phase); it runs once at the end instead
    gc_was_enabled = gc.isenabled()
    gc.disable()
    forked: dict[Check, Forked[list[Finding]]] = {}
    try:
        index = ProjectIndex(facts, catalog.types)
        app = build_app_model(index)
        reported = {display_path(p, cwd) for p in found.report}
        ctx = CheckContext(
            index=index,
            app=app,
            catalog=catalog,
            enabled=rules,
            extend_blocking_calls=settings.extend_blocking_calls,
            pydantic_major=settings.pydantic_version,
            root=found.root,
            scope=frozenset(reported) if len(reported) < len(facts) else None,
        )
        families = checks or all_checks()
        if any(rule.category == "task" for rule in rules.values()):
            from fastapi_reviewer.celery_model import build_celery_model, imports_celery

            # (a project without Celery has an empty model, built at once: no fork for it)
            big = len(facts) >= FORK_MIN_MODULES and (settings.jobs or available_cpus()) > 1 and available_cpus() > 1
            if ctx.scope is None and big and imports_celery(index):
                forked = _fork_task_family(families, ctx)
            if not forked:
                build_celery_model(index)  # memoised for the checks
        index.release_call_sites()
        lap("index")
        by_path = {m.path: m for m in facts}
        ignores = PerFileIgnores(settings.per_file_ignores, catalog)
        ignores_base = config_dir.resolve() if config_dir else found.root
        findings: list[Finding] = []
        suppressed = 0
        lines = SourceLines(cwd)
        rel_paths: dict[str, str] = {}
        # the forked families last: their findings are awaited once this process is done
        for check in [c for c in families if c not in forked] + list(forked):
            family = _family(check)
            for finding in forked[check].result() if check in forked else check(ctx):
                if finding.path not in reported:
                    continue
                module = by_path[finding.path]
                rel = rel_paths.get(finding.path)
                if rel is None:
                    rel = rel_paths[finding.path] = display_path((cwd / finding.path).resolve(), ignores_base)
                if noqa_silences(module, finding) or ignores.silences(rel, finding.code):
                    suppressed += 1
                    continue
                finding.fingerprint = fingerprint(finding.code, finding.path, finding.function, lines.get(finding.path, finding.line))
                findings.append(finding)
            lap(f"checks.{family}")
        report = Report.build(__version__, len(reported), findings, [e for e in errors if e.path in reported])
        lap("report")
        if run is not None and cache is not None:
            run.save(cache, report, suppressed)
    finally:
        for child in forked.values():
            child.close()  # a scan that failed half-way leaves no child behind
        gc.unfreeze()  # collect_facts hid the facts from the cyclic collector for the run (parsing.py)
        if gc_was_enabled:
            gc.enable()
    return ScanResult(report=report, discovery=found, index=index, app=app, stats=stats, suppressed=suppressed, timings=timings, catalog=catalog)


class SourceLines:
    """Lines of reported files, read once each (fingerprints and baselines need the finding's line)."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self.files: dict[str, list[str]] = {}

    def get(self, path: str, line: int) -> str:
        if path not in self.files:
            try:
                self.files[path] = (self.cwd / path).read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                self.files[path] = []
        rows = self.files[path]
        return rows[line - 1] if 0 < line <= len(rows) else ""
