"""Rendering the prompts (jinja2, StrictUndefined) and packing findings into requests within the token budgets.

jinja2 is imported inside ``load_templates`` only: this module is reached from ``advise`` alone.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi_reviewer.advisor.excerpt import Excerpt, SourceCache, build_excerpt
from fastapi_reviewer.advisor.project import DISPLAY, TRACKED, ProjectFacts
from fastapi_reviewer.advisor.redact import redact
from fastapi_reviewer.advisor.select import Selection, finding_id
from fastapi_reviewer.advisor.settings import LLMSettings
from fastapi_reviewer.catalog import Rule
from fastapi_reviewer.findings import Finding

if TYPE_CHECKING:
    import jinja2

SYSTEM_TEMPLATE = "system.md.j2"
REVIEW_TEMPLATE = "review.md.j2"
CHARS_PER_TOKEN = 4
WHY_MAX_CHARS = 240


class TemplateError(Exception):
    """A template could not be loaded or rendered (a user template that uses an unknown variable, say)."""


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def builtin_prompts_dir() -> Path:
    """``prompts/``: inside the wheel as ``fastapi_reviewer/prompts``, at the repository root in a checkout."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "prompts", package.parent / "prompts"):
        if (candidate / SYSTEM_TEMPLATE).is_file():
            return candidate
    raise TemplateError(f"built-in prompt templates not found next to {package}")


def load_templates(user_dir: Path | None) -> jinja2.Environment:
    """A jinja2 environment that looks in ``user_dir`` first and falls back to ours, file by file."""
    import jinja2

    search = [str(user_dir)] if user_dir is not None else []
    search.append(str(builtin_prompts_dir()))
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(search),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def one_line_why(rule: Rule | None) -> str:
    """The rule's "why" as one line: the first sentence, or the first ~240 characters."""
    if rule is None:
        return ""
    text = " ".join(rule.docs.why.split())
    first = re.split(r"(?<=[.!?])\s+", text, maxsplit=1)[0]
    if len(first) <= WHY_MAX_CHARS:
        return first
    cut = first[:WHY_MAX_CHARS].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"


@dataclass
class PromptFinding:
    finding: Finding
    id: str
    excerpt: Excerpt | None
    why: str

    def view(self, same_excerpt_as: str | None) -> dict[str, Any]:
        f = self.finding
        return {
            "fingerprint": self.id,
            "code": f.code,
            "name": f.name,
            "category": f.category,
            "severity": f.severity.value,
            "path": f.path,
            "line": f.line,
            "end_line": f.end_line,
            "column": f.column,
            "function": f.function,
            "message": redact(f.message),
            "hint": redact(f.hint) if f.hint else None,
            "why": self.why,
            "url": f.url,
            "trace": [
                {"path": s.path, "line": s.line, "function": s.function, "call": redact(s.call)} for s in f.trace
            ],
            "excerpt": None
            if self.excerpt is None
            else {"start": self.excerpt.start, "end": self.excerpt.end, "scope": self.excerpt.scope, "text": self.excerpt.text},
            "same_excerpt_as": same_excerpt_as,
        }


@dataclass
class Omitted:
    excluded_by_stage: int
    dropped_by_limit: int
    dropped_by_budget: int


@dataclass
class Batch:
    """One request: its messages and the findings it carries."""

    findings: list[PromptFinding]
    system: str = ""
    user: str = ""

    @property
    def tokens(self) -> int:
        return estimate_tokens(self.system) + estimate_tokens(self.user)

    @property
    def ids(self) -> list[str]:
        return [pf.id for pf in self.findings]

    def messages(self) -> list[dict[str, str]]:
        return [{"role": "system", "content": self.system}, {"role": "user", "content": self.user}]


@dataclass
class Plan:
    batches: list[Batch]
    dropped_by_budget: list[PromptFinding] = field(default_factory=list)
    selection: Selection | None = None


class PromptBuilder:
    def __init__(
        self,
        env: jinja2.Environment,
        settings: LLMSettings,
        facts: ProjectFacts,
        rules: dict[str, Rule],
        sources: SourceCache,
    ) -> None:
        self.env = env
        self.settings = settings
        self.facts = facts
        self.rules = rules
        self.sources = sources
        self._system: str | None = None

    def _render(self, name: str, context: dict[str, Any]) -> str:
        import jinja2

        try:
            return self.env.get_template(name).render(**context).rstrip() + "\n"
        except jinja2.TemplateError as exc:
            where = getattr(exc, "filename", None) or name
            line = getattr(exc, "lineno", None)
            raise TemplateError(f"{where}{f':{line}' if line else ''}: {exc}") from exc

    def system(self) -> str:
        if self._system is None:
            self._system = self._render(SYSTEM_TEMPLATE, {"stage": self.settings.stage})
        return self._system

    def prepare(self, finding: Finding) -> PromptFinding:
        return PromptFinding(
            finding=finding,
            id=finding_id(finding),
            excerpt=build_excerpt(finding, self.sources),
            why=one_line_why(self.rules.get(finding.code)),
        )

    def user(self, findings: list[PromptFinding], total: int, omitted: Omitted) -> str:
        files: list[dict[str, Any]] = []
        by_path: dict[str, dict[str, Any]] = {}
        first_with_excerpt: dict[tuple[str, int, int], str] = {}
        for pf in findings:
            shared: str | None = None
            if pf.excerpt is not None:
                key = (pf.excerpt.path, pf.excerpt.start, pf.excerpt.end)
                shared = first_with_excerpt.get(key)
                if shared is None:
                    first_with_excerpt[key] = pf.id
            group = by_path.get(pf.finding.path)
            if group is None:
                group = by_path[pf.finding.path] = {"path": pf.finding.path, "findings": []}
                files.append(group)
            group["findings"].append(pf.view(shared))
        declared = {d.name for d in self.facts.dependencies}
        context = {
            "stage": self.settings.stage,
            "project": {
                "dependencies": [d.model_dump() for d in self.facts.dependencies],
                "missing": [DISPLAY[n] for n in TRACKED if DISPLAY[n] not in declared],
                "routes": self.facts.routes,
            },
            "files": files,
            "counts": {
                "total": total,
                "in_request": len(findings),
                "excluded_by_stage": omitted.excluded_by_stage,
                "dropped_by_limit": omitted.dropped_by_limit,
                "dropped_by_budget": omitted.dropped_by_budget,
                "max_findings": self.settings.max_findings,
                "token_budget": self.settings.token_budget,
            },
        }
        return self._render(REVIEW_TEMPLATE, context)

    def plan(self, selection: Selection) -> Plan:
        """Group the chosen findings by file and pack them into requests within both token budgets."""
        prepared = [self.prepare(f) for f in selection.chosen]
        # files in order of their most severe finding; findings within a file by severity, then line
        order: dict[str, int] = {}
        for i, pf in enumerate(prepared):
            order.setdefault(pf.finding.path, i)
        ordered = sorted(
            prepared,
            key=lambda pf: (order[pf.finding.path], -pf.finding.severity.rank, pf.finding.line, pf.finding.column),
        )
        system = self.system()
        system_tokens = estimate_tokens(system)
        # estimate with the "left out" note at its longest, so the final prompts are never larger
        worst = Omitted(
            excluded_by_stage=len(selection.excluded_by_stage),
            dropped_by_limit=len(selection.dropped_by_limit),
            dropped_by_budget=max(len(prepared), 1),
        )

        def cost(batch: list[PromptFinding]) -> int:
            return system_tokens + estimate_tokens(self.user(batch, selection.total, worst))

        budget = self.settings.token_budget
        per_request = self.settings.request_tokens
        groups: list[list[PromptFinding]] = []
        dropped: list[PromptFinding] = []
        current: list[PromptFinding] = []
        used = 0  # tokens of the requests already closed

        def fits(batch: list[PromptFinding]) -> bool:
            tokens = cost(batch)
            return tokens <= per_request and used + tokens <= budget

        def close() -> None:
            nonlocal current, used
            if current:
                used += cost(current)
                groups.append(current)
                current = []

        file_groups: list[list[PromptFinding]] = []
        for pf in ordered:
            if file_groups and file_groups[-1][0].finding.path == pf.finding.path:
                file_groups[-1].append(pf)
            else:
                file_groups.append([pf])
        for file_group in file_groups:
            # a file's findings travel together when they can: with the open request, else in a new one
            if current and fits(current + file_group):
                current += file_group
                continue
            close()
            if fits(file_group):
                current = list(file_group)
                continue
            # too big for one request: split it, finding by finding
            for pf in file_group:
                if current and fits(current + [pf]):
                    current.append(pf)
                    continue
                close()
                if fits([pf]):
                    current = [pf]
                else:
                    dropped.append(pf)
        close()

        final = Omitted(
            excluded_by_stage=len(selection.excluded_by_stage),
            dropped_by_limit=len(selection.dropped_by_limit),
            dropped_by_budget=len(dropped),
        )
        batches = [Batch(findings=g, system=system, user=self.user(g, selection.total, final)) for g in groups]
        return Plan(batches=batches, dropped_by_budget=dropped, selection=selection)
