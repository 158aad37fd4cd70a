"""The LLM step end to end: select, render, pack, consult the cache, ask, check the answers."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from fastapi_reviewer.advisor.cache import ReplyCache, cache_key
from fastapi_reviewer.advisor.client import Requester, RequestFailed, one_line
from fastapi_reviewer.advisor.excerpt import SourceCache
from fastapi_reviewer.advisor.models import PRIORITY_RANK, Advice, AdviceItem, AdviceResult
from fastapi_reviewer.advisor.project import collect_project_facts
from fastapi_reviewer.advisor.prompt import Batch, Plan, PromptBuilder, TemplateError, load_templates
from fastapi_reviewer.advisor.select import select_findings
from fastapi_reviewer.advisor.settings import LLMSettings
from fastapi_reviewer.catalog import Rule
from fastapi_reviewer.findings import Report

PREFIX = "LLM advice"


def build_plan(report: Report, root: Path, settings: LLMSettings, rules: dict[str, Rule], routes: int | None) -> Plan:
    user_dir = settings.resolved_template_dir(root)
    if user_dir is not None and not user_dir.is_dir():
        raise TemplateError(f"template_dir {user_dir} is not a directory")
    selection = select_findings(report.findings, settings.stage, settings.max_findings)
    env = load_templates(user_dir)
    builder = PromptBuilder(env, settings, collect_project_facts(root, routes), rules, SourceCache(root))
    return builder.plan(selection)


def dry_run_text(plan: Plan, settings: LLMSettings, template_version: str) -> str:
    """Exactly the messages that would be sent, one block per request."""
    total = sum(b.tokens for b in plan.batches)
    lines = [
        "# fastapi-review LLM dry run: nothing was sent.",
        (
            f"# server: {settings.resolved_base_url()}  model: {settings.model}  stage: {settings.stage}"
            f"  templates: v{template_version}"
        ),
        (
            f"# {len(plan.batches)} request(s), {sum(len(b.findings) for b in plan.batches)} finding(s),"
            f" ~{total} prompt tokens (budget {settings.token_budget}, {settings.request_tokens} per request)"
        ),
        "# reply format: JSON schema 'Advice' (falls back to JSON mode, then to plain JSON text)",
    ]
    out = "\n".join(lines) + "\n"
    for i, batch in enumerate(plan.batches, start=1):
        out += f"\n===== request {i} of {len(plan.batches)} (~{batch.tokens} tokens) =====\n"
        for message in batch.messages():
            out += f"----- {message['role']} -----\n{message['content']}"
            if not message["content"].endswith("\n"):
                out += "\n"
    return out


def check_items(advice: Advice, batch: Batch) -> tuple[list[AdviceItem], int]:
    """Items tied to a finding of this request, with lines inside the code that was sent."""
    known = {pf.id: pf for pf in batch.findings}
    kept: list[AdviceItem] = []
    seen: set[str] = set()
    ignored = 0
    for item in advice.items:
        pf = known.get(item.fingerprint)
        if pf is None or item.fingerprint in seen:
            ignored += 1
            continue
        if item.lines is not None:
            start, end = item.lines
            if pf.excerpt is not None:
                inside = pf.excerpt.contains(start, end)
            else:
                inside = pf.finding.line <= start <= end <= max(pf.finding.end_line, pf.finding.line)
            if not inside:
                ignored += 1
                continue
        seen.add(item.fingerprint)
        kept.append(item)
    return kept, ignored


def _progress(total: int) -> tuple[AbstractContextManager[Any], Callable[[], None]]:
    """A rich progress bar on stderr when it is a terminal; otherwise nothing."""
    if total == 0 or not sys.stderr.isatty():
        return nullcontext(), lambda: None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(
        TextColumn("[bold]LLM review[/bold]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task = progress.add_task("requests", total=total)
    return progress, lambda: progress.advance(task)


async def run(
    report: Report,
    root: Path,
    settings: LLMSettings,
    rules: dict[str, Rule],
    template_version: str,
    routes: int | None = None,
) -> AdviceResult:
    result = AdviceResult()
    try:
        plan = build_plan(report, root, settings, rules, routes)
    except TemplateError as exc:
        result.warnings.append(f"{PREFIX} skipped: prompt template error: {one_line(str(exc))}")
        return result
    selection = plan.selection
    assert selection is not None
    if selection.dropped_by_limit:
        result.warnings.append(
            f"{PREFIX}: {len(selection.dropped_by_limit)} finding(s) not sent (limit of {settings.max_findings}"
            " per run; raise max-findings to include them)"
        )
    if plan.dropped_by_budget:
        result.warnings.append(
            f"{PREFIX}: {len(plan.dropped_by_budget)} finding(s) not sent (did not fit the token budget of"
            f" {settings.token_budget} per run / {settings.request_tokens} per request)"
        )
    result.findings_sent = [fid for b in plan.batches for fid in b.ids]
    if settings.dry_run:
        result.dry_run_text = dry_run_text(plan, settings, template_version)
        return result
    if not plan.batches:
        if report.findings and not selection.chosen:
            result.warnings.append(
                f"{PREFIX}: nothing to review at the {settings.stage} stage"
                f" ({len(selection.excluded_by_stage)} lower-severity finding(s) left out)"
            )
        return result

    cache = ReplyCache(settings.resolved_cache_dir(root), enabled=settings.cache)
    keys = [cache_key(settings.model, b.system, b.user, template_version) for b in plan.batches]
    replies: list[Advice | None] = [cache.get(k) for k in keys]
    result.cache_hits = sum(1 for r in replies if r is not None)
    pending = [i for i, r in enumerate(replies) if r is None]
    failures: list[RequestFailed] = []

    if pending:
        api_key = settings.api_key()
        base_url = settings.resolved_base_url()
        if api_key is None:
            failures.append(
                RequestFailed(
                    f"no API key: set ${settings.api_key_env}, or point base-url at a local server", fatal=True
                )
            )
        else:
            import openai

            client = openai.AsyncOpenAI(api_key=api_key, base_url=base_url, timeout=settings.timeout, max_retries=0)
            requester = Requester(client, settings, base_url)
            semaphore = asyncio.Semaphore(settings.concurrency)
            abort = asyncio.Event()
            progress, advance = _progress(len(pending))

            async def one(index: int) -> None:
                async with semaphore:
                    if abort.is_set():
                        return
                    try:
                        advice = await requester.ask(plan.batches[index].messages())
                    except RequestFailed as exc:
                        failures.append(exc)
                        if exc.fatal:
                            abort.set()
                        return
                    finally:
                        advance()
                    replies[index] = advice
                    warning = cache.put(keys[index], advice, settings.model)
                    if warning and warning not in result.warnings:
                        result.warnings.append(warning)

            try:
                with progress:
                    await asyncio.gather(*(one(i) for i in pending))
            finally:
                result.requests_sent = requester.sent
                await client.close()

    answered = [i for i, r in enumerate(replies) if r is not None]
    if failures:
        reasons: list[str] = []
        for failure in failures:
            if failure.reason not in reasons:
                reasons.append(failure.reason)
        failed = len(plan.batches) - len(answered)
        for reason in reasons:
            if answered:
                result.warnings.append(
                    f"{PREFIX} incomplete: {failed} of {len(plan.batches)} request(s) failed: {reason}"
                )
            else:
                result.warnings.append(f"{PREFIX} unavailable: {reason} (static report unaffected)")
    if not answered:
        return result

    items: list[AdviceItem] = []
    summaries: list[str] = []
    ignored = 0
    for i in answered:
        reply = replies[i]
        assert reply is not None
        kept, dropped = check_items(reply, plan.batches[i])
        items += kept
        ignored += dropped
        if reply.summary.strip() and reply.summary.strip() not in summaries:
            summaries.append(reply.summary.strip())
    if ignored:
        result.warnings.append(
            f"{PREFIX}: ignored {ignored} item(s) that named an unknown finding or lines outside the code sent"
        )
    order = {fid: n for n, fid in enumerate(result.findings_sent)}
    items.sort(key=lambda it: (PRIORITY_RANK[it.priority], order.get(it.fingerprint, len(order))))
    result.advice = Advice(summary="\n\n".join(summaries), items=items)
    return result
