"""The command line: `fastapi-review [check] PATH...`, `rule CODE`, `rules`, `clean`, `--version`.

Exit codes: 0 no findings at or above --fail-on, 1 findings (or files that could not be read),
2 usage, configuration or internal error.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import threading
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Optional

# our models are internal (config, findings): no third-party pydantic plugin applies to them, and
# discovering plugins scans every installed distribution's entry points (~12 ms a run)
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
# start-up makes hundreds of thousands of objects (typer, pydantic, our modules) and few cycles:
# in a process of its own (the console script, `python -m fastapi_reviewer`) the cyclic collector
# stays off (~15 ms of every start-up); a program importing us keeps it.  The scan's phases pause
# it anyway and sweep what they leave themselves (parsing.py); switched on again after a scan, its
# first pass would walk everything the project phase made (~10 ms of a pre-commit run, then ~10
# more at the next import), for a process that prints and ends.
_OWN_PROCESS = bool(sys.argv) and (os.path.basename(sys.argv[0]) == "fastapi-review" or sys.argv[0].endswith(os.path.join("fastapi_reviewer", "__main__.py")))
if _OWN_PROCESS:
    gc.disable()

import typer  # noqa: E402

from fastapi_reviewer import __version__

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
COMMANDS = {"check", "rule", "rules", "clean", "version"}

app = typer.Typer(
    add_completion=False,
    no_args_is_help=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="A code reviewer for FastAPI services: blocking calls on the event loop, missing Pydantic models, "
    "unpooled connections, fragile Celery tasks.",
)


class Color(str, Enum):
    auto = "auto"
    always = "always"
    never = "never"


class FailOn(str, Enum):
    error = "error"
    warning = "warning"
    info = "info"


def _err(message: str) -> None:
    """A one-line error on stderr, plain text (no rich: it must never be wrapped or styled oddly)."""
    sys.stderr.write(f"fastapi-review: error: {message}\n")


def _split(values: Optional[list[str]]) -> Optional[list[str]]:
    if not values:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"fastapi-review {__version__}\n")
        raise typer.Exit(EXIT_CLEAN)


@app.callback()
def _main(
    version: bool = typer.Option(False, "--version", "-V", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    """fastapi-review: review a FastAPI codebase like a senior FastAPI data-service engineer."""


def _console(stream, color: str, force_plain: bool = False):  # type: ignore[no-untyped-def]
    from rich.console import Console

    if force_plain or color == "never":
        return Console(file=stream, no_color=True, highlight=False, soft_wrap=True, force_terminal=False, emoji=False)
    if color == "always":
        return Console(file=stream, force_terminal=True, highlight=False, soft_wrap=True, emoji=False)
    return Console(file=stream, highlight=False, soft_wrap=True, emoji=False)


@app.command()
def check(
    paths: Optional[list[Path]] = typer.Argument(None, help="Files or folders to review (default: the current folder)."),
    select: Optional[list[str]] = typer.Option(None, "--select", help="Rules to enable: codes, prefixes (FR1), kebab names, categories, ALL. Comma-separated or repeated."),
    ignore: Optional[list[str]] = typer.Option(None, "--ignore", help="Rules to disable (same forms as --select)."),
    extend_select: Optional[list[str]] = typer.Option(None, "--extend-select", help="Rules to enable on top of the selection."),
    output_format: Optional[list[str]] = typer.Option(None, "--format", "--output-format", help="text, concise, json, sarif, github, gitlab, junit, markdown, html; FORMAT=FILE writes that format to FILE. Repeatable."),
    output_file: Optional[Path] = typer.Option(None, "--output-file", "-o", help="Write the (first) format to this file instead of stdout."),
    fail_on: Optional[FailOn] = typer.Option(None, "--fail-on", help="Lowest severity that makes the exit code 1 (default: info, i.e. any finding)."),
    exit_zero: bool = typer.Option(False, "--exit-zero", help="Exit 0 even when there are findings."),
    color: Optional[Color] = typer.Option(None, "--color", help="Colour the text output (NO_COLOR / FORCE_COLOR are honoured in auto)."),
    config: Optional[Path] = typer.Option(None, "--config", help="Read settings from this file instead of the nearest pyproject.toml."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Parse every file; neither read nor write the cache."),
    cache_dir: Optional[str] = typer.Option(None, "--cache-dir", help="Cache folder (default: .fastapi_review_cache in the project root)."),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", min=0, help="Parallel parser processes (default: one per CPU)."),
    statistics: bool = typer.Option(False, "--statistics", help="Print a count of findings per rule."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only the summary (text) and errors."),
    force_exclude: bool = typer.Option(False, "--force-exclude", help="Apply exclude settings to files named on the command line too (pre-commit)."),
    no_show_source: bool = typer.Option(False, "--no-show-source", help="Do not print the code line under each finding."),
    show_timings: bool = typer.Option(False, "--show-timings", help="Print the time each phase took (stderr)."),
    baseline: Optional[Path] = typer.Option(None, "--baseline", metavar="FILE", help="Report only findings not recorded in this baseline file; say how many known ones remain and how many were fixed.", rich_help_panel="Adoption"),
    write_baseline: Optional[Path] = typer.Option(None, "--write-baseline", metavar="FILE", help="Record every current finding in FILE (a baseline for --baseline) and exit 0.", rich_help_panel="Adoption"),
    diff_base: Optional[str] = typer.Option(None, "--diff-base", metavar="REF", help="Report only findings on lines added or changed since this git revision (REF... : since its merge base with HEAD).", rich_help_panel="Adoption"),
    fix: bool = typer.Option(False, "--fix", help="Apply safe fixes, then review again and report what remains.", rich_help_panel="Fixes"),
    unsafe_fixes: bool = typer.Option(False, "--unsafe-fixes", help="Also apply unsafe fixes (implies --fix unless --diff).", rich_help_panel="Fixes"),
    diff: bool = typer.Option(False, "--diff", help="Print the fixes as a unified diff and write nothing (exit 1 if there is anything to fix).", rich_help_panel="Fixes"),
    refactor: Optional[list[str]] = typer.Option(None, "--refactor", metavar="NAME", help="Opt-in rewrite applied with --fix / --diff: annotated-depends. Repeatable.", rich_help_panel="Fixes"),
    no_llm: bool = typer.Option(False, "--no-llm", help="Never call the LLM, whatever the configuration says (the pre-commit hook passes it).", rich_help_panel="LLM advice"),
    llm: bool = typer.Option(False, "--llm", help="Ask an OpenAI-compatible LLM, speaking as the reviewer, for advice on the findings.", rich_help_panel="LLM advice"),
    llm_dry_run: bool = typer.Option(False, "--llm-dry-run", help="Print exactly what would be sent to the LLM; send nothing.", rich_help_panel="LLM advice"),
    model: Optional[str] = typer.Option(None, "--model", help="LLM model name.", rich_help_panel="LLM advice"),
    base_url: Optional[str] = typer.Option(None, "--base-url", help="OpenAI-compatible server (default: $OPENAI_BASE_URL).", rich_help_panel="LLM advice"),
    stage: Optional[str] = typer.Option(None, "--stage", help="Product stage the advice is for: mvp, growth, enterprise.", rich_help_panel="LLM advice"),
    llm_max_findings: Optional[int] = typer.Option(None, "--llm-max-findings", min=0, help="Findings sent per run, most severe first.", rich_help_panel="LLM advice"),
    llm_token_budget: Optional[int] = typer.Option(None, "--llm-token-budget", min=200, help="Prompt tokens per run.", rich_help_panel="LLM advice"),
    llm_timeout: Optional[float] = typer.Option(None, "--llm-timeout", help="Seconds per LLM request.", rich_help_panel="LLM advice"),
    llm_no_cache: bool = typer.Option(False, "--llm-no-cache", help="Do not reuse cached LLM replies.", rich_help_panel="LLM advice"),
) -> None:
    """Review PATHS and print findings (the default command)."""
    from fastapi_reviewer.config import ConfigError, load_settings
    from fastapi_reviewer.discovery import DiscoveryError

    targets = paths or [Path(".")]
    overrides = {
        "select": _split(select),
        "ignore": _split(ignore),
        "extend_select": _split(extend_select),
        "format": output_format or None,
        "output_file": str(output_file) if output_file else None,
        "fail_on": fail_on.value if fail_on else None,
        "exit_zero": True if exit_zero else None,
        "color": color.value if color else None,
        "cache": False if no_cache else None,
        "cache_dir": cache_dir,
        "jobs": jobs,
        "statistics": True if statistics else None,
        "quiet": True if quiet else None,
        "force_exclude": True if force_exclude else None,
        "show_source": False if no_show_source else None,
        "llm": {
            "enabled": True if llm else None,
            "dry_run": True if llm_dry_run else None,
            "model": model,
            "base_url": base_url,
            "stage": stage,
            "max_findings": llm_max_findings,
            "token_budget": llm_token_budget,
            "timeout": llm_timeout,
            "cache": False if llm_no_cache else None,
        },
    }
    if no_llm:
        overrides["llm"].update(enabled=False, dry_run=False)
    adoption = _Adoption(baseline, write_baseline, diff_base, fix or (unsafe_fixes and not diff), unsafe_fixes, diff, tuple(_split(refactor) or ()))
    from fastapi_reviewer.errors import BaselineError, DiffBaseError  # light: the engine is imported after the fork

    try:
        for target in targets:
            if not target.exists():
                raise DiscoveryError(f"{target}: no such file or directory")
        adoption.validate()
        settings, config_path = load_settings(config, targets[0], overrides)
        code = _run_check(targets, settings, config_path, show_timings, adoption)
    except (ConfigError, DiscoveryError, BaselineError, DiffBaseError) as exc:
        _err(str(exc))
        raise typer.Exit(EXIT_ERROR) from None
    except KeyboardInterrupt:
        _err("interrupted")
        raise typer.Exit(EXIT_ERROR) from None
    except typer.Exit:
        raise
    except Exception as exc:  # noqa: BLE001 - an internal error is reported, never a traceback
        if os.environ.get("FASTAPI_REVIEW_DEBUG"):
            raise
        _err(f"internal error: {type(exc).__name__}: {exc} (set FASTAPI_REVIEW_DEBUG=1 for a traceback)")
        raise typer.Exit(EXIT_ERROR) from None
    raise typer.Exit(code)


# the warm worker forked by main() before the arguments are parsed, if the run looked like one
_SPECULATIVE: list = []  # type: ignore[type-arg]


def _speculative_warm_worker(args: list[str]) -> None:
    """A check run on a warm project (stamps in the cache folder of the targets' project: the
    default, `--cache-dir`, or pyproject.toml's `cache-dir`) forks the parsing worker (warm.py)
    before typer parses the arguments: typer imports pydantic
    first (~0.1 s), and the worker's head start is what keeps it off a pre-commit run's critical
    path.  A guess on the raw arguments: options' values that are not existing paths are ignored;
    the settings decide later whether the worker is used (else it is stopped)."""
    if not args or args[0] != "check" or "--no-cache" in args:
        return
    from fastapi_reviewer.discovery import find_root
    from fastapi_reviewer.warm import DEFAULT_CACHE_DIR, WarmWorker, worth_starting

    try:
        cache_dir = _option(args, "--cache-dir")
        jobs = int(_option(args, "--jobs") or 0)
        paths = [Path(a) for a in args[1:] if not a.startswith("-") and a != cache_dir and os.path.exists(a)] or [Path.cwd()]
        root = find_root(paths)
        if cache_dir is None:
            cache_dir = _configured_cache_dir(root) or DEFAULT_CACHE_DIR
        if worth_starting(root / cache_dir, jobs):
            _SPECULATIVE.append(WarmWorker())
    except (OSError, ValueError):
        pass


def _option(args: list[str], name: str) -> str | None:
    """The value of a long option in raw arguments (`--name value` or `--name=value`)."""
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(name + "="):
            return arg[len(name) + 1 :]
    return None


def _configured_cache_dir(root: Path) -> str | None:
    """`cache-dir` in the project's [tool.fastapi-review] table (read only if the file names it)."""
    try:
        text = (root / "pyproject.toml").read_bytes()
    except OSError:
        return None
    if b"cache-dir" not in text:
        return None
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    try:
        value = tomllib.loads(text.decode()).get("tool", {}).get("fastapi-review", {}).get("cache-dir")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def _early_warm_worker(targets: list[Path], settings):  # type: ignore[no-untyped-def]
    """On a warm project, fork the parsing worker before the engine is even imported (warm.py);
    the one main() forked on a guess is used when the settings agree with the guess."""
    speculative = _SPECULATIVE.pop() if _SPECULATIVE else None
    if not settings.cache or not targets:
        if speculative is not None:
            speculative.close()
        return None
    from fastapi_reviewer.discovery import find_root
    from fastapi_reviewer.warm import WarmWorker, worth_starting

    try:
        cache_root = Path(settings.cache_dir)
        if not cache_root.is_absolute():
            cache_root = find_root(targets) / cache_root
    except (OSError, ValueError):
        cache_root = None
    if cache_root is None or not worth_starting(cache_root, settings.jobs):
        if speculative is not None:
            speculative.close()
        return None
    return speculative if speculative is not None and speculative.process is not None else WarmWorker()


def _run_check(targets: list[Path], settings, config_path: Optional[Path], show_timings: bool = False, adoption: Optional[_Adoption] = None) -> int:  # type: ignore[no-untyped-def]
    warm = _early_warm_worker(targets, settings)
    try:
        from fastapi_reviewer.engine import scan

        gc.freeze()  # what start-up made lives as long as the process: out of the collector's sight
        if not _OWN_PROCESS:
            gc.enable()

        progress = _progress_callback(lambda: _console(sys.stderr, settings.color), settings.quiet)
        try:
            result = scan(targets, settings, config_dir=config_path.parent if config_path else None, progress=progress.update, warm_worker=warm)
        finally:
            progress.close()
    finally:
        if warm is not None:
            warm.close()
    from fastapi_reviewer.report import render_plain

    report = result.report
    if not result.discovery.files or report.summary.files == 0:
        sys.stderr.write(f"fastapi-review: no Python files found in {', '.join(str(t) for t in targets)}\n")
        return EXIT_CLEAN
    if adoption is not None and adoption.active(settings):
        def rescan():  # type: ignore[no-untyped-def]
            return scan(targets, settings, config_dir=config_path.parent if config_path else None)

        early, result, report = adoption.run(result, settings, config_path, rescan)
        if early is not None:
            return early
    if show_timings:
        for phase, seconds in result.timings.items():
            sys.stderr.write(f"timing {phase:<24} {seconds * 1000:9.1f} ms\n")
        sys.stderr.write(f"timing {'files parsed / cached':<24} {result.stats.parsed} / {result.stats.cached}\n")
    # the catalog the scan used (read from the cache folder): parsing the rule files is ~10 ms
    rules = {r.code: r for r in (result.catalog.rules if result.catalog is not None else _catalog_rules())}
    root = Path.cwd()
    # the route count only matters to the advisor (and would build the app model of a cached run)
    routes = len(result.app.routes) if (settings.llm.enabled or settings.llm.dry_run) else 0
    advice_markdown = _advise(settings, report, rules, root, routes, result.discovery.root)
    formats = list(settings.format)
    for i, spec in enumerate(formats):
        name, _, target = spec.partition("=")
        if not target and i == 0 and settings.output_file:
            target = settings.output_file
        if name == "text":
            from fastapi_reviewer.report.text import render as render_text  # rich: only for this format

            if target:
                with open(target, "w", encoding="utf-8") as fh:
                    render_text(_console(fh, "never", force_plain=True), report, rules, root, settings.show_source, settings.statistics, settings.quiet)
            else:
                console = _console(sys.stdout, settings.color)
                render_text(console, report, rules, root, settings.show_source, settings.statistics, settings.quiet)
                if advice_markdown:
                    from rich.markdown import Markdown
                    from rich.rule import Rule as Heading

                    console.print(Heading("Reviewer's advice"))
                    console.print(Markdown(advice_markdown))
            continue
        text = render_plain(name, report, rules, root)
        if target:
            Path(target).write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
            sys.stdout.flush()
        if settings.statistics and name == "concise":
            from fastapi_reviewer.report.text import statistics_plain

            sys.stdout.write(statistics_plain(report))
    threshold = settings.fail_on.rank
    # a file we could not read is unreviewed code: that fails the run like a finding does
    failing = bool(report.errors) or any(f.severity.rank >= threshold for f in report.findings)
    if settings.exit_zero:
        return EXIT_CLEAN
    return EXIT_FINDINGS if failing else EXIT_CLEAN


@dataclass
class _Adoption:
    """Baselines, changed-code mode and fixes: what happens between the scan and the report."""

    baseline: Optional[Path] = None
    write_baseline: Optional[Path] = None
    diff_base: Optional[str] = None
    fix: bool = False
    unsafe_fixes: bool = False
    diff: bool = False
    refactor: tuple[str, ...] = ()

    def validate(self) -> None:
        from fastapi_reviewer.config import ConfigError

        if self.write_baseline is not None and (self.baseline or self.diff_base or self.fix or self.diff):
            raise ConfigError("--write-baseline records every finding: it cannot be combined with --baseline, --diff-base, --fix or --diff")
        if self.refactor:  # fixes imports libcst.codemod (~0.5 s): only when a refactoring is named
            from fastapi_reviewer.fixes import REFACTORS
        for name in self.refactor:
            if name not in REFACTORS:
                raise ConfigError(f"--refactor: unknown refactoring {name!r}; expected one of {', '.join(sorted(REFACTORS))}")
        if self.refactor and not (self.fix or self.diff):
            raise ConfigError("--refactor needs --fix or --diff")

    def active(self, settings) -> bool:  # type: ignore[no-untyped-def]
        return bool(self.baseline or settings.baseline or self.write_baseline or self.diff_base or self.fix or self.diff)

    def baseline_path(self, settings, config_path: Optional[Path]) -> Optional[Path]:  # type: ignore[no-untyped-def]
        if self.baseline is not None:
            return self.baseline
        if settings.baseline:
            path = Path(settings.baseline)
            return path if path.is_absolute() or config_path is None else config_path.parent / path
        return None

    def run(self, result, settings, config_path, rescan):  # type: ignore[no-untyped-def]
        """(exit code to stop with, or None; the scan result; the report to print)."""
        from fastapi_reviewer.baseline import load_baseline, write_baseline

        cwd = Path.cwd()
        if self.write_baseline is not None:
            count = write_baseline(self.write_baseline, result.report.findings, cwd, result.discovery.root)
            sys.stderr.write(f"fastapi-review: wrote {count} finding(s) to the baseline {self.write_baseline}\n")
            if result.report.errors:
                sys.stderr.write(f"fastapi-review: warning: {len(result.report.errors)} file(s) could not be parsed: they still fail the run, a baseline cannot hold them\n")
            return EXIT_CLEAN, result, result.report
        path = self.baseline_path(settings, config_path)
        known = load_baseline(path) if path is not None else None
        report, notes = self._narrow(result, settings, known, cwd)
        if self.fix or self.diff:
            from fastapi_reviewer.engine import display_path
            from fastapi_reviewer.fixes import run_fixes

            paths = {display_path(p, cwd) for p in result.discovery.report}
            run = run_fixes(report.findings, cwd, unsafe=self.unsafe_fixes, refactors=self.refactor, refactor_paths=paths)
            for problem in run.problems:
                sys.stderr.write(f"fastapi-review: warning: {problem}\n")
            more = f" ({run.hidden_unsafe} more with --unsafe-fixes)" if run.hidden_unsafe else ""
            done = f"{run.fixes} fix(es)" + (f" and {run.refactorings} refactoring(s)" if run.refactorings else "")
            if self.diff:
                sys.stdout.write(run.diff())
                sys.stdout.flush()
                sys.stderr.write(f"fastapi-review: would apply {done} in {len(run.files)} file(s){more}\n")
                return (EXIT_FINDINGS if run.files else EXIT_CLEAN), result, report
            run.write(cwd)
            if run.files:
                result = rescan()
                report, notes = self._narrow(result, settings, known, cwd)
            sys.stderr.write(f"fastapi-review: applied {done} in {len(run.files)} file(s); {len(report.findings)} finding(s) remain{more}\n")
        for note in notes:
            sys.stderr.write(f"fastapi-review: {note}\n")
        return None, result, report

    def _narrow(self, result, settings, known, cwd: Path):  # type: ignore[no-untyped-def]
        from fastapi_reviewer.catalog import load_catalog
        from fastapi_reviewer.changed_lines import changed_lines, def_spans, split
        from fastapi_reviewer.engine import display_path, enabled_rules
        from fastapi_reviewer.findings import Report

        report = result.report
        findings, errors, notes = list(report.findings), list(report.errors), []
        if self.diff_base:
            changed = changed_lines(self.diff_base, result.discovery.root)
            findings, hidden = split(findings, changed, cwd, def_spans(result))
            errors = [e for e in errors if (cwd / e.path).resolve() in changed.lines]  # unreadable before: not this change's
            notes.append(f"--diff-base {self.diff_base} ({changed.commit[:12]}): {len(findings)} finding(s) on changed lines reported, {len(hidden)} on unchanged code not shown")
        if known is not None:
            scope = {display_path(p, cwd) for p in result.discovery.report}
            codes = set(enabled_rules(load_catalog(), settings))
            comparison = known.compare(findings, cwd, result.discovery.root, scope, codes)
            findings = comparison.new
            notes.append(comparison.summary(str(known.path)))
        return Report.build(report.tool.version, report.summary.files, findings, errors), notes


def _advise(settings, report, rules, root: Path, routes: int, project_root: Path) -> Optional[str]:  # type: ignore[no-untyped-def]
    """The LLM step: fills report.advice, returns the Markdown to print; never changes the exit code."""
    llm = settings.llm
    if not (llm.enabled or llm.dry_run):
        return None
    from fastapi_reviewer.advisor import advice_to_json, advise, render_advice_markdown

    if not llm.cache_dir.is_absolute():
        cache_root = Path(settings.cache_dir)
        cache_root = cache_root if cache_root.is_absolute() else project_root / cache_root
        llm = llm.model_copy(update={"cache_dir": cache_root / "llm"})
    result = advise(report, root, llm, rules, routes=routes)
    for warning in result.warnings:
        sys.stderr.write(f"fastapi-review: warning: {warning}\n")
    if result.dry_run_text is not None:
        stdout_formats = [f for f in settings.format if "=" not in f]
        stream = sys.stdout if not stdout_formats or stdout_formats[0] in ("text", "concise") else sys.stderr
        stream.write(result.dry_run_text)
        if not result.dry_run_text.endswith("\n"):
            stream.write("\n")
        return None
    if result.advice is None:
        return None
    report.advice = advice_to_json(result.advice)
    return render_advice_markdown(result.advice, report)


class _Progress:
    """A rich progress bar on stderr for long cold scans; silent otherwise (and then rich's console
    is not even made: importing it is ~20 ms of a pre-commit run)."""

    MIN_FILES = 150

    def __init__(self, console, enabled: bool) -> None:  # type: ignore[no-untyped-def]
        self.console = console  # a function making the console
        self.enabled = enabled
        self.bar = None
        self.task = None
        self.threads: set[threading.Thread] = set()

    def update(self, done: int, total: int) -> None:
        if not self.enabled or total < self.MIN_FILES:
            return
        if self.bar is None:
            from rich.progress import Progress

            before = set(threading.enumerate())
            self.bar = Progress(console=self.console(), transient=True)
            self.bar.start()
            self.threads = set(threading.enumerate()) - before  # rich's refresh thread
            self.task = self.bar.add_task("parsing", total=total)
        self.bar.update(self.task, completed=done)
        if done >= total:
            # parsing is over: the bar's refresh thread ends now, before the checks (the engine
            # forks a rule family only when no other thread is alive, see forked.py)
            self.close()
            self.enabled = False

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None
            for thread in self.threads:  # only the bar's own: a pool's threads end with the pool
                thread.join(timeout=1.0)
            self.threads = set()


def _progress_callback(console, quiet: bool) -> _Progress:  # type: ignore[no-untyped-def]
    return _Progress(console, enabled=not quiet and sys.stderr.isatty())


def _catalog_rules():  # type: ignore[no-untyped-def]
    from fastapi_reviewer.catalog import load_catalog

    return load_catalog().rules


class RulesFormat(str, Enum):
    text = "text"
    json = "json"


@app.command("rule")
def rule_command(
    key: str = typer.Argument(..., help="A rule code (FR101) or name (blocking-http-call)."),
    output_format: RulesFormat = typer.Option(RulesFormat.text, "--format", "--output-format", help="text (Markdown) or json."),
) -> None:
    """Print a rule's documentation."""
    from fastapi_reviewer.catalog import load_catalog

    found = load_catalog().find(key)
    if found is None:
        _err(f"unknown rule {key!r} (see `fastapi-review rules`)")
        raise typer.Exit(EXIT_ERROR)
    if output_format == RulesFormat.json:
        sys.stdout.write(json.dumps(_rule_json(found), indent=2) + "\n")
    else:
        sys.stdout.write(found.markdown())


def _rule_json(rule) -> dict:  # type: ignore[no-untyped-def]
    return {
        "code": rule.code,
        "name": rule.name,
        "category": rule.category,
        "severity": rule.severity.value,
        "summary": rule.summary,
        "explanation": rule.markdown(),
        "url": rule.url,
    }


@app.command("rules")
def rules_command(
    output_format: RulesFormat = typer.Option(RulesFormat.text, "--format", "--output-format", help="text (a table) or json."),
) -> None:
    """List every rule."""
    rules = _catalog_rules()
    if output_format == RulesFormat.json:
        sys.stdout.write(json.dumps([_rule_json(r) for r in rules], indent=2) + "\n")
        return
    from rich.table import Table

    table = Table(show_header=True, header_style="bold", box=None)
    for column in ("code", "name", "category", "severity", "summary"):
        table.add_column(column)
    for r in rules:
        table.add_row(r.code, r.name, r.category, r.severity.value, r.summary)
    _console(sys.stdout, "auto").print(table)


@app.command("clean")
def clean_command(
    path: Path = typer.Argument(Path("."), help="The project whose cache to remove."),
    cache_dir: Optional[str] = typer.Option(None, "--cache-dir", help="The cache folder, if not the default."),
) -> None:
    """Remove the cache folder."""
    from fastapi_reviewer.cache import clean
    from fastapi_reviewer.discovery import find_root

    if not path.exists():
        _err(f"{path}: no such file or directory")
        raise typer.Exit(EXIT_ERROR)
    folder = Path(cache_dir) if cache_dir else find_root([path]) / ".fastapi_review_cache"
    removed = clean(folder)
    sys.stdout.write(f"removed {removed} cached file(s) from {folder}\n")


@app.command("version")
def version_command() -> None:
    """Print the version."""
    sys.stdout.write(f"fastapi-review {__version__}\n")


def main(argv: Optional[list[str]] = None) -> None:
    """Entry point: `check` is the default command, so `fastapi-review src/` works."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or (args[0] not in COMMANDS and args[0] not in {"--help", "-h", "--version", "-V"}):
        args.insert(0, "check")
    if argv is None:  # a process of its own (the console script): worth a head start
        _speculative_warm_worker(args)
    try:
        app(args=args, prog_name="fastapi-review")
    except SystemExit as exc:
        if argv is None and (exc.code is None or isinstance(exc.code, int)):
            _end_process(exc.code or 0)
        raise
    finally:
        while _SPECULATIVE:  # forked on a guess, never used (a usage error, another command)
            _SPECULATIVE.pop().close()
        if argv is None:
            # the process ends here: hide the heap from the cyclic collector, whose passes at
            # interpreter shutdown otherwise take seconds once a large project's facts are loaded
            gc.freeze()


def _end_process(code: int) -> None:
    """End a process of our own without the interpreter's tear-down: freeing a large project's
    facts object by object takes longer than a pre-commit run's analysis (~50 ms on 2,000 files).
    Everything the run writes is written and closed by now (reports, cache entries; the worker
    processes are stopped); the standard streams are flushed here."""
    while _SPECULATIVE:
        _SPECULATIVE.pop().close()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`| head`): nothing more can be written
            pass
    os._exit(code)
