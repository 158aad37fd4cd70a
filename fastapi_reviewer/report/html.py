"""A self-contained HTML report (``--output-format html``): one file, no network.

The page has a header with the counts and two inline SVG bar charts (by severity, by category),
the LLM advice summary when there is one, the findings grouped by file (switchable to grouped by
rule), each with an excerpt of its source (the finding's lines highlighted), hint, call chain and
advice, filters by severity and by rule, and the files that could not be analysed.

All CSS and JS are inline and allowed by a Content-Security-Policy that names their hashes and
allows nothing else (no fetches, fonts, images or other scripts), so even text that escaped
escaping could not run. Everything from the analysed code, the findings or the LLM is HTML-escaped.
Without JS the page still shows every finding grouped by file; the controls need JS and appear
only with it.
"""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from fastapi_reviewer.catalog import Rule
from fastapi_reviewer.findings import FileError, Finding, Report
from fastapi_reviewer.report._fmt_common import (
    SEVERITIES,
    ExcerptLine,
    SourceCache,
    excerpt,
    plural,
    posix,
    severity_value,
    shows_trace,
    stable_fingerprint,
)
from fastapi_reviewer.report._fmt_prose import inline_to_html, prose_to_html

CONTEXT_LINES = 3

CSS = """
:root {
  --bg: #ffffff; --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --card: #f6f8fa; --code: #f6f8fa;
  --hl: #fff8c5; --mark: #ffd33d66; --error: #cf222e; --warning: #bc4c00; --info: #0969da; --bar: #8c959f;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0d1117; --fg: #e6edf3; --muted: #9198a1; --line: #3d444d; --card: #151b23; --code: #0d1117;
    --hl: #3a3000; --mark: #bb800966; --error: #ff7b72; --warning: #f0883e; --info: #58a6ff; --bar: #6e7681;
  }
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
code, pre, .loc { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
  font-size: 12.5px; }
a { color: var(--info); }
.page { max-width: 1100px; margin: 0 auto; padding: 24px; }
header.top h1 { margin: 0 0 4px; font-size: 24px; }
.meta { color: var(--muted); margin: 0 0 16px; }
.totals { display: flex; gap: 12px; flex-wrap: wrap; margin: 0 0 16px; padding: 0; list-style: none; }
.totals li { border: 1px solid var(--line); border-radius: 6px; padding: 6px 12px; }
.totals strong { font-size: 18px; margin-right: 4px; }
.charts { display: flex; gap: 32px; flex-wrap: wrap; }
.charts figure { margin: 0; }
.charts figcaption { font-weight: 600; margin-bottom: 4px; }
.chart text { fill: var(--fg); font-size: 12px; }
.chart .bar { fill: var(--bar); }
.chart .bar.sev-error { fill: var(--error); } .chart .bar.sev-warning { fill: var(--warning); }
.chart .bar.sev-info { fill: var(--info); }
.controls { position: sticky; top: 0; z-index: 1; background: var(--bg); border-bottom: 1px solid var(--line);
  display: flex; gap: 20px; flex-wrap: wrap; align-items: center; padding: 10px 0; margin: 16px 0; }
.controls fieldset { border: 0; margin: 0; padding: 0; display: flex; gap: 10px; align-items: center; }
.controls legend { float: left; font-weight: 600; margin-right: 6px; padding: 0; }
.controls label { cursor: pointer; white-space: nowrap; }
#shown { color: var(--muted); margin-left: auto; }
.group > h2 { font-size: 16px; margin: 24px 0 8px; display: flex; gap: 8px; align-items: baseline; }
.group > h2 .count { color: var(--muted); font-weight: normal; font-size: 13px; }
.rule-about { color: var(--muted); margin: 0 0 8px; }
.rule-about summary { cursor: pointer; }
.finding { border: 1px solid var(--line); border-left: 4px solid var(--bar); border-radius: 6px;
  background: var(--card); padding: 10px 14px; margin: 0 0 10px; }
.finding.sev-error { border-left-color: var(--error); } .finding.sev-warning { border-left-color: var(--warning); }
.finding.sev-info { border-left-color: var(--info); }
.finding-head { display: flex; gap: 8px; flex-wrap: wrap; align-items: baseline; }
.badge { border-radius: 10px; padding: 0 8px; font-size: 12px; font-weight: 600; color: #fff; background: var(--bar); }
.badge.sev-error { background: var(--error); } .badge.sev-warning { background: var(--warning); }
.badge.sev-info { background: var(--info); }
.finding-head .code { font-weight: 700; }
.finding-head .loc, .finding-head .func { color: var(--muted); }
.message { margin: 6px 0; font-weight: 500; }
.excerpt { background: var(--code); border: 1px solid var(--line); border-radius: 6px; margin: 8px 0; padding: 6px 0;
  overflow-x: auto; tab-size: 4; }
.excerpt .line { display: block; padding: 0 10px; white-space: pre; }
.excerpt .line.hl { background: var(--hl); }
.excerpt .ln { display: inline-block; min-width: 3.5em; color: var(--muted); user-select: none; text-align: right;
  padding-right: 1em; }
.excerpt mark { background: var(--mark); color: inherit; border-radius: 2px; }
.no-source { color: var(--muted); font-style: italic; }
.hint, .trace-title { margin: 6px 0 2px; }
.trace { margin: 2px 0 6px; padding-left: 24px; }
.step-src { margin: 2px 0 4px; padding: 2px 8px; background: var(--code); border: 1px solid var(--line);
  border-radius: 4px; overflow-x: auto; }
.advice, .advice-summary { border: 1px dashed var(--info); border-radius: 6px; padding: 6px 12px; margin: 8px 0; }
.advice .priority { font-weight: 600; }
.advice-code { background: var(--code); border: 1px solid var(--line); border-radius: 6px; padding: 8px; overflow-x: auto; }
.empty { color: var(--muted); font-style: italic; }
table.errors { border-collapse: collapse; }
table.errors td, table.errors th { border: 1px solid var(--line); padding: 4px 8px; text-align: left; }
footer { color: var(--muted); margin-top: 32px; font-size: 12px; }
""".strip()

JS = """
(function () {
  "use strict";
  var cards = Array.prototype.slice.call(document.querySelectorAll("article.finding"));
  var views = { file: document.getElementById("by-file"), rule: document.getElementById("by-rule") };
  var groups = Array.prototype.slice.call(document.querySelectorAll(".group"));
  var severities = Array.prototype.slice.call(document.querySelectorAll("input[name=severity]"));
  var ruleSelect = document.getElementById("rule-filter");
  var shownEl = document.getElementById("shown");
  var emptyEl = document.getElementById("no-match");

  function groupBy(mode) {
    cards.forEach(function (card) {
      var slot = document.getElementById(mode === "rule" ? card.dataset.ruleSlot : card.dataset.fileSlot);
      if (slot) { slot.appendChild(card); }
    });
    views.file.hidden = mode !== "file";
    views.rule.hidden = mode !== "rule";
    apply();
  }

  function apply() {
    var allowed = {};
    severities.forEach(function (box) { allowed[box.value] = box.checked; });
    var rule = ruleSelect.value;
    var shown = 0;
    cards.forEach(function (card) {
      var ok = allowed[card.dataset.severity] === true && (rule === "" || card.dataset.rule === rule);
      card.hidden = !ok;
      if (ok) { shown += 1; }
    });
    groups.forEach(function (group) {
      var visible = group.querySelectorAll("article.finding:not([hidden])").length;
      group.hidden = visible === 0;
      var count = group.querySelector(".count");
      if (count) { count.textContent = visible + (visible === 1 ? " finding" : " findings"); }
    });
    shownEl.textContent = "Showing " + shown + " of " + cards.length + (cards.length === 1 ? " finding" : " findings");
    emptyEl.hidden = shown !== 0 || cards.length === 0;
  }

  document.querySelectorAll("input[name=group-by]").forEach(function (radio) {
    radio.addEventListener("change", function () { if (radio.checked) { groupBy(radio.value); } });
  });
  severities.forEach(function (box) { box.addEventListener("change", apply); });
  ruleSelect.addEventListener("change", apply);
  document.getElementById("controls").hidden = false;
  var checked = document.querySelector("input[name=group-by]:checked");
  groupBy(checked ? checked.value : "file");
})();
""".strip()


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def _safe_url(url: str) -> str | None:
    return url if url.startswith(("https://", "http://")) else None


def _bar_chart(title: str, rows: list[tuple[str, int, str]]) -> str:
    """A horizontal bar chart as inline SVG; rows are (label, value, css class)."""
    label_w, bar_w, row_h, count_w = 120, 200, 22, 40
    width = label_w + bar_w + count_w
    height = max(1, len(rows)) * row_h
    biggest = max((v for _, v, _ in rows), default=0) or 1
    parts = [
        (
            f'<svg class="chart" role="img" aria-label="{_e(title)}" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
        ),
        f"<title>{_e(title)}</title>",
    ]
    for i, (label, value, cls) in enumerate(rows):
        y = i * row_h
        w = round(bar_w * value / biggest) if value else 0
        parts.append(
            f'<g class="row" data-label="{_e(label)}" data-value="{value}">'
            f'<text x="0" y="{y + 15}">{_e(label)}</text>'
            f'<rect class="bar {_e(cls)}" x="{label_w}" y="{y + 4}" width="{w}" height="{row_h - 8}" rx="2"></rect>'
            f'<text x="{label_w + w + 6}" y="{y + 15}">{value}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _charts(findings: list[Finding]) -> str:
    sev_counts = {s: 0 for s in SEVERITIES}
    cat_counts: dict[str, int] = {}
    for f in findings:
        sev = severity_value(f.severity)
        sev_counts[sev] = sev_counts.get(sev, 0) + 1
        cat_counts[f.category] = cat_counts.get(f.category, 0) + 1
    sev_rows = [(s, n, f"sev-{s}") for s, n in sev_counts.items()]
    cat_rows = [(c, n, "category") for c, n in sorted(cat_counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    out = ['<div class="charts">']
    out.append(
        f'<figure id="chart-severity"><figcaption>By severity</figcaption>{_bar_chart("Findings by severity", sev_rows)}</figure>'
    )
    if cat_rows:
        out.append(
            f'<figure id="chart-category"><figcaption>By category</figcaption>{_bar_chart("Findings by category", cat_rows)}</figure>'
        )
    out.append("</div>")
    return "\n".join(out)


def _excerpt_html(lines: list[ExcerptLine], path: str) -> str:
    if not lines:
        return f'<p class="no-source">Source not available: <code>{_e(path)}</code></p>'
    out = ['<pre class="excerpt"><code>']
    for ln in lines:
        if ln.mark:
            lo, hi = ln.mark
            body = f"{_e(ln.text[:lo])}<mark>{_e(ln.text[lo:hi])}</mark>{_e(ln.text[hi:])}"
        else:
            body = _e(ln.text)
        cls = "line hl" if ln.in_range else "line"
        out.append(f'<span class="{cls}" data-line="{ln.number}"><span class="ln">{ln.number}</span>{body}</span>')
    out.append("</code></pre>")
    return "".join(out)


def _advice_html(item: dict[str, Any]) -> str:
    parts = ['<div class="advice"><div class="advice-title">Advice']
    priority = item.get("priority")
    if priority not in (None, ""):
        parts.append(f' · <span class="priority">{_e(priority)}</span>')
    parts.append("</div>")
    explanation = item.get("explanation")
    if isinstance(explanation, str) and explanation.strip():
        parts.append(f'<div class="explanation">{prose_to_html(explanation)}</div>')
    fix = item.get("fix")
    if isinstance(fix, str) and fix.strip():
        parts.append(f'<div class="fix"><strong>Fix:</strong>{prose_to_html(fix)}</div>')
    parts.append("</div>")
    return "".join(parts)


def _card(
    index: int,
    finding: Finding,
    rules: dict[str, Rule],
    source: SourceCache,
    file_slot: str,
    rule_slot: str,
    advice: list[dict[str, Any]],
) -> str:
    sev = severity_value(finding.severity)
    rule = rules.get(finding.code)
    name = rule.name if rule else finding.name
    loc = f"{posix(finding.path)}:{finding.line}:{finding.column}"
    out = [
        (
            f'<article class="finding sev-{_e(sev)}" id="finding-{index}" data-severity="{_e(sev)}" '
            f'data-rule="{_e(finding.code)}" data-path="{_e(posix(finding.path))}" '
            f'data-file-slot="{file_slot}" data-rule-slot="{rule_slot}" data-fingerprint="{_e(stable_fingerprint(finding))}">'
        ),
        '<div class="finding-head">',
        f'<span class="badge sev-{_e(sev)}">{_e(sev)}</span>',
        f'<span class="code">{_e(finding.code)}</span>',
        f'<span class="name">{_e(name)}</span>',
        f'<span class="loc">{_e(loc)}</span>',
    ]
    if finding.function:
        out.append(f'<span class="func">in <code>{_e(finding.function)}</code></span>')
    out.append("</div>")
    out.append(f'<p class="message">{inline_to_html(finding.message)}</p>')
    out.append(_excerpt_html(excerpt(source, finding, context=CONTEXT_LINES), posix(finding.path)))
    if finding.hint:
        out.append(f'<p class="hint"><strong>Hint:</strong> {inline_to_html(finding.hint)}</p>')
    if shows_trace(finding):
        out.append('<p class="trace-title"><strong>Call chain:</strong></p><ol class="trace">')
        for step in finding.trace:
            lines = source.lines(step.path) or []
            text = lines[step.line - 1].strip() if 0 < step.line <= len(lines) else ""
            code_line = f'<pre class="step-src"><code>{_e(text)}</code></pre>' if text else ""
            out.append(
                f'<li><code class="step-loc">{_e(posix(step.path))}:{step.line}</code> '
                f"<code>{_e(step.function)}</code> calls <code>{_e(step.call)}</code>{code_line}</li>"
            )
        out.append("</ol>")
    for item in advice:
        out.append(_advice_html(item))
    url = _safe_url(finding.url or (rule.url if rule else ""))
    if url:
        out.append(f'<p class="docs"><a href="{_e(url)}" rel="noopener noreferrer">Rule documentation</a></p>')
    out.append("</article>")
    return "\n".join(out)


def _errors_html(errors: Iterable[FileError]) -> str:
    errors = list(errors)
    if not errors:
        return ""
    rows = "".join(
        f"<tr><td><code>{_e(posix(e.path))}{':' + str(e.line) if e.line else ''}</code></td><td>{_e(e.message)}</td></tr>"
        for e in errors
    )
    return (
        f'<section id="errors"><h2>Files that could not be analysed ({len(errors)})</h2>'
        f'<table class="errors"><thead><tr><th>File</th><th>Error</th></tr></thead><tbody>{rows}</tbody></table></section>'
    )


def _advice_index(advice: dict[str, Any] | None) -> dict[str, list[dict[str, Any]]]:
    index: dict[str, list[dict[str, Any]]] = {}
    items = advice.get("items") if advice else None
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and item.get("fingerprint"):
            index.setdefault(str(item["fingerprint"]), []).append(item)
    return index


def render(report: Report, rules: dict[str, Rule], root: Path) -> str:
    """The report as one self-contained HTML page; source excerpts are read from ``root / path``."""
    findings = report.findings
    source = SourceCache(root)
    advice_by_fp = _advice_index(report.advice)

    paths: list[str] = []
    for f in findings:
        if f.path not in paths:
            paths.append(f.path)
    file_slot = {p: f"file-{i}" for i, p in enumerate(paths)}
    per_rule: dict[str, list[Finding]] = {}
    for f in findings:
        per_rule.setdefault(f.code, []).append(f)
    rule_order = sorted(per_rule, key=lambda c: (-max(x.severity.rank for x in per_rule[c]), c))
    rule_slot = {c: f"rule-{i}" for i, c in enumerate(rule_order)}

    cards: dict[str, list[str]] = {p: [] for p in paths}
    for i, f in enumerate(findings, start=1):
        item_advice = advice_by_fp.get(stable_fingerprint(f), [])
        cards[f.path].append(_card(i, f, rules, source, file_slot[f.path], rule_slot[f.code], item_advice))

    sev_counts = {s: 0 for s in SEVERITIES}
    for f in findings:
        sev_counts[severity_value(f.severity)] = sev_counts.get(severity_value(f.severity), 0) + 1

    body: list[str] = ['<div class="page">', '<header class="top">', "<h1>fastapi-review report</h1>"]
    n_files = len(paths)
    meta = f"{plural(len(findings), 'finding')} in {plural(n_files, 'file')} · {plural(report.summary.files, 'file')} analysed"
    if report.errors:
        meta += f" · {plural(len(report.errors), 'file')} could not be analysed"
    body.append(f'<p class="meta" id="summary">{_e(meta)}</p>')
    body.append('<ul class="totals">')
    for sev, n in sev_counts.items():
        body.append(f'<li class="total sev-{_e(sev)}" data-severity="{_e(sev)}"><strong>{n}</strong>{_e(sev)}</li>')
    body.append("</ul>")
    body.append(_charts(findings))
    body.append("</header>")

    if report.advice:
        summary = report.advice.get("summary")
        if isinstance(summary, str) and summary.strip():
            body.append(
                f'<section id="advice" class="advice-summary"><h2>Advice</h2>{prose_to_html(summary)}</section>'
            )

    if not findings:
        body.append('<p class="empty" id="no-findings">No findings.</p>')

    # controls: shown by the script (they do nothing without it)
    body.append('<nav id="controls" class="controls" hidden>')
    body.append("<fieldset><legend>Group by</legend>")
    body.append('<label><input type="radio" name="group-by" value="file" checked> file</label>')
    body.append('<label><input type="radio" name="group-by" value="rule"> rule</label></fieldset>')
    body.append("<fieldset><legend>Severity</legend>")
    for sev, n in sev_counts.items():
        body.append(
            f'<label><input type="checkbox" name="severity" value="{_e(sev)}" id="sev-{_e(sev)}" checked> '
            f"{_e(sev)} ({n})</label>"
        )
    body.append("</fieldset>")
    body.append('<label>Rule <select id="rule-filter"><option value="">all rules</option>')
    for code in rule_order:
        name = rules[code].name if code in rules else per_rule[code][0].name
        body.append(f'<option value="{_e(code)}">{_e(code)} {_e(name)} ({len(per_rule[code])})</option>')
    body.append("</select></label>")
    body.append(f'<span id="shown">{plural(len(findings), "finding")}</span>')
    body.append("</nav>")
    body.append('<p class="empty" id="no-match" hidden>No findings match the filters.</p>')

    body.append("<main>")
    body.append('<section id="by-file" class="view">')
    for p in paths:
        count = plural(len(cards[p]), "finding")
        body.append(
            f'<section class="group" data-group="{_e(posix(p))}"><h2><code>{_e(posix(p))}</code>'
            f'<span class="count">{count}</span></h2><div class="cards" id="{file_slot[p]}">'
        )
        body.extend(cards[p])
        body.append("</div></section>")
    body.append("</section>")
    body.append('<section id="by-rule" class="view" hidden>')
    for code in rule_order:
        rule = rules.get(code)
        first = per_rule[code][0]
        name = rule.name if rule else first.name
        body.append(
            f'<section class="group" data-group="{_e(code)}"><h2><span>{_e(code)}</span> <span>{_e(name)}</span>'
            f'<span class="count">{plural(len(per_rule[code]), "finding")}</span></h2>'
        )
        if rule:
            body.append(
                f'<details class="rule-about"><summary>{_e(rule.summary)}</summary>'
                f"<p>{_e(rule.docs.what.strip())}</p><p>{_e(rule.docs.why.strip())}</p></details>"
            )
        body.append(f'<div class="cards" id="{rule_slot[code]}"></div></section>')
    body.append("</section>")
    body.append("</main>")
    body.append(_errors_html(report.errors))
    body.append(f"<footer>Generated by {_e(report.tool.name)} {_e(report.tool.version)}.</footer>")
    body.append("</div>")

    csp = (
        f"default-src 'none'; style-src {_csp_hash(CSS)}; script-src {_csp_hash(JS)}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    head = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_e(csp)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="{_e(report.tool.name)} {_e(report.tool.version)}">',
        "<title>fastapi-review report</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
    ]
    tail = [f"<script>{JS}</script>", "</body>", "</html>"]
    return "\n".join(head + [b for b in body if b] + tail) + "\n"
