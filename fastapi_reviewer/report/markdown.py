"""GitHub-flavoured Markdown (``--output-format markdown``) for a PR comment or ``$GITHUB_STEP_SUMMARY``.

A headline, a summary table by severity and one by rule, then the findings grouped by file
(``path:line:col`` as code, never as links), each with its message, call chain and hint; the LLM
advice (``report.advice``) when present; and the files that could not be analysed.

Everything that comes from the analysed code or from the LLM is escaped, so a message cannot
inject HTML, links, images or formatting. Advice text keeps its paragraphs and its code (fenced
blocks and inline code spans stay code); the rest of it is escaped like any other text.

The output stays under ``max_chars`` (GitHub refuses comments over 65,536 characters): past that,
the remaining findings are counted, not listed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from fastapi_reviewer.catalog import Rule
from fastapi_reviewer.findings import Finding, Report
from fastapi_reviewer.report._fmt_common import (
    SEVERITIES,
    plural,
    posix,
    severity_value,
    shows_trace,
    stable_fingerprint,
)

DEFAULT_MAX_CHARS = 60_000

ICONS = {"error": "🔴", "warning": "🟠", "info": "🔵"}

# ASCII punctuation that means something to CommonMark, GFM (tables, strikethrough, autolinks),
# GitHub (math, mentions) or HTML; '<', '>', '&' become entities, the rest are backslash-escaped.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~$@^])")
_LINE_START = re.compile(r"^([ \t]*\d*)([-=+:.)])", re.MULTILINE)
_FENCE = re.compile(
    r"^(?P<fence>`{3,}|~{3,})[^\n]*\n(?P<body>.*?)(?:^(?P=fence)[`~]*[ \t]*$|\Z)", re.DOTALL | re.MULTILINE
)
_INLINE_CODE = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.DOTALL)


def escape(text: str, line_start: bool = True) -> str:
    """Escape text so Markdown renders it literally (no HTML, links, emphasis, tables, math).

    With ``line_start`` (the default), list and heading markers that begin a line are escaped too,
    for text that may begin a line of the output.
    """
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    if not line_start:
        return text
    return _LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text)


def inline(text: str) -> str:
    """:func:`escape` for a single-line context (a list item, a table cell)."""
    return escape(" ".join(text.split()))


def code(text: str) -> str:
    """An inline code span holding ``text`` literally, whatever backticks it contains."""
    text = " ".join(text.split())
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def code_block(body: str, lang: str = "") -> str:
    longest = max((len(run) for run in re.findall(r"^`{3,}", body, re.MULTILINE)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{lang}\n{body.rstrip()}\n{fence}"


def safe_markdown(text: str) -> str:
    """Untrusted Markdown (LLM advice) reduced to paragraphs, inline code and fenced code blocks.

    Prose is escaped; code spans and fenced blocks keep their content literally (re-fenced so their
    content cannot close them early).
    """
    out: list[str] = []
    pos = 0
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    for m in _FENCE.finditer(text):
        out.append(_safe_prose(text[pos : m.start()]))
        info = m.group(0).split("\n", 1)[0].lstrip("`~").strip().split()
        lang = info[0] if info and re.fullmatch(r"[A-Za-z0-9_+-]+", info[0]) else ""
        out.append("\n" + code_block(m.group("body"), lang) + "\n")
        pos = m.end()
    out.append(_safe_prose(text[pos:]))
    joined = "".join(out)
    return re.sub(r"\n{3,}", "\n\n", joined).strip("\n")


def _with_code_spans(text: str) -> str:
    """Escape ``text`` but keep its inline code spans as code (their content is literal anyway)."""
    spans: list[str] = []

    def keep(m: re.Match[str]) -> str:
        spans.append(code(m.group(2)))
        return f"\x00{len(spans) - 1}\x00"

    escaped = escape(_INLINE_CODE.sub(keep, text.replace("\x00", "\ufffd")))
    return re.sub("\x00(\\d+)\x00", lambda m: spans[int(m.group(1))], escaped)


def _safe_prose(text: str) -> str:
    # a single newline inside a paragraph stays a line break
    return re.sub(r"(?<!\n)\n(?!\n)", "  \n", _with_code_spans(text))


def text_inline(text: str) -> str:
    """One line of untrusted text: escaped, whitespace collapsed, inline code spans kept as code."""
    return _with_code_spans(" ".join(text.split()))


def _location(finding: Finding) -> str:
    return f"{posix(finding.path)}:{finding.line}:{finding.column}"


def _summary(report: Report, rules: dict[str, Rule]) -> list[str]:
    findings = report.findings
    files = report.summary.files
    if not findings:
        head = f"**No findings** in {plural(files, 'file')}."
    else:
        n_files = len({f.path for f in findings})
        head = f"**{plural(len(findings), 'finding')}** in {plural(n_files, 'file')} ({files} analysed)."
    if report.errors:
        head += f" {plural(len(report.errors), 'file')} could not be analysed."
    lines = ["## fastapi-review", "", head, ""]
    if not findings:
        return lines
    counts = {s: 0 for s in SEVERITIES}
    for f in findings:
        counts[severity_value(f.severity)] = counts.get(severity_value(f.severity), 0) + 1
    lines += ["| Severity | Findings |", "|:--|--:|"]
    lines += [f"| {ICONS.get(sev, '')} {sev} | {n} |" for sev, n in counts.items()]
    lines.append("")
    per_rule: dict[str, list[Finding]] = {}
    for f in findings:
        per_rule.setdefault(f.code, []).append(f)
    order = sorted(per_rule, key=lambda c: (-max(x.severity.rank for x in per_rule[c]), c))
    lines += ["| Rule | Name | Severity | Findings |", "|:--|:--|:--|--:|"]
    for c in order:
        first = per_rule[c][0]
        sev = severity_value(first.severity)
        name = rules[c].name if c in rules else first.name
        lines.append(f"| {inline(c)} | {inline(name)} | {sev} | {len(per_rule[c])} |")
    lines.append("")
    return lines


def _finding(finding: Finding, rules: dict[str, Rule]) -> list[str]:
    sev = severity_value(finding.severity)
    name = rules[finding.code].name if finding.code in rules else finding.name
    para = [
        f"{ICONS.get(sev, '')} **{inline(finding.code)}** {inline(name)} · {sev} · {code(_location(finding))}",
        text_inline(finding.message),
    ]
    if shows_trace(finding):
        chain = " → ".join([code(finding.trace[0].function)] + [code(s.call) for s in finding.trace])
        para.append(f"Trace: {chain}")
    if finding.hint:
        para.append(f"Hint: {text_inline(finding.hint)}")
    out = ["- " + "  \n  ".join(para)]
    for step in finding.trace if shows_trace(finding) else []:
        out.append(f"  - {code(f'{posix(step.path)}:{step.line}')} {code(step.function)} calls {code(step.call)}")
    return out


def _advice(advice: dict[str, Any], findings: Iterable[Finding]) -> list[str]:
    by_fp: dict[str, list[Finding]] = {}
    for f in findings:
        by_fp.setdefault(stable_fingerprint(f), []).append(f)
    lines = ["### Advice", ""]
    summary = advice.get("summary")
    if isinstance(summary, str) and summary.strip():
        lines += [safe_markdown(summary), ""]
    items = advice.get("items")
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        fp = str(item.get("fingerprint", ""))
        matched = by_fp.get(fp, [])
        if matched:
            target = ", ".join(f"{inline(f.code)} {code(_location(f))}" for f in matched)
        else:
            target = f"finding {code(fp)}" if fp else "general"
        priority = item.get("priority")
        prefix = f"**{inline(str(priority))}** · " if priority not in (None, "") else ""
        lines += [f"#### {prefix}{target}", ""]
        explanation = item.get("explanation")
        if isinstance(explanation, str) and explanation.strip():
            lines += [safe_markdown(explanation), ""]
        fix = item.get("fix")
        if isinstance(fix, str) and fix.strip():
            lines += ["**Fix:**", "", safe_markdown(fix), ""]
    return lines


def render(report: Report, rules: dict[str, Rule], root: Path, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """The report as Markdown, at most ``max_chars`` characters long (more findings are counted)."""
    head = _summary(report, rules)
    tail: list[str] = []
    if report.advice:
        tail += _advice(report.advice, report.findings)
    if report.errors:
        tail += ["### Files that could not be analysed", ""]
        for e in report.errors:
            where = f"{posix(e.path)}:{e.line}" if e.line else posix(e.path)
            tail.append(f"- {code(where)} {text_inline(e.message)}")
        tail.append("")
    version = f"<sub>fastapi-review {escape(report.tool.version, line_start=False)}</sub>"
    tail += [version, ""]

    budget = max_chars - len("\n".join(head + tail)) - 200
    body: list[str] = []
    if report.findings:
        body += ["### Findings", ""]
    current: str | None = None
    shown = 0
    for finding in report.findings:
        block: list[str] = []
        if finding.path != current:
            block += ([""] if current is not None else []) + [f"#### {code(posix(finding.path))}", ""]
        block += _finding(finding, rules)
        size = len("\n".join(block)) + 1
        if size > budget:
            break
        budget -= size
        body += block
        current = finding.path
        shown += 1
    if shown < len(report.findings):
        rest = len(report.findings) - shown
        body += ["", f"*… {plural(rest, 'more finding')} not shown here; see the full report.*"]
    if body:
        body.append("")
    return "\n".join(head + body + tail).rstrip("\n") + "\n"
