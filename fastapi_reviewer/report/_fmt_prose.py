"""Untrusted prose (LLM advice) to safe HTML: paragraphs, line breaks, inline code and code blocks only.

Everything else is escaped, so the text cannot add markup, links, images or scripts.
"""

from __future__ import annotations

import html
import re

_FENCE = re.compile(
    r"^(?P<fence>`{3,}|~{3,})[^\n]*\n(?P<body>.*?)(?:^(?P=fence)[`~]*[ \t]*$|\Z)", re.DOTALL | re.MULTILINE
)
_INLINE_CODE = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.DOTALL)


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def inline_to_html(text: str) -> str:
    """Escaped text whose inline code spans (`x`) become ``<code>``."""
    parts: list[str] = []
    pos = 0
    for m in _INLINE_CODE.finditer(text):
        parts.append(_esc(text[pos : m.start()]))
        parts.append(f"<code>{_esc(m.group(2).strip())}</code>")
        pos = m.end()
    parts.append(_esc(text[pos:]))
    return "".join(parts)


def _paragraphs(text: str) -> list[str]:
    out: list[str] = []
    for para in re.split(r"\n\s*\n", text):
        para = para.strip("\n")
        if not para.strip():
            continue
        lines = [inline_to_html(line.strip()) for line in para.split("\n")]
        out.append("<p>" + "<br>".join(lines) + "</p>")
    return out


def prose_to_html(text: str) -> str:
    """Safe HTML for untrusted Markdown-ish prose: ``<p>``, ``<br>``, ``<code>`` and ``<pre><code>``."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    out: list[str] = []
    pos = 0
    for m in _FENCE.finditer(text):
        out += _paragraphs(text[pos : m.start()])
        info = m.group(0).split("\n", 1)[0].lstrip("`~").strip().split()
        lang = info[0] if info and re.fullmatch(r"[A-Za-z0-9_+-]+", info[0]) else ""
        cls = f' class="language-{_esc(lang)}"' if lang else ""
        out.append(f'<pre class="advice-code"><code{cls}>{_esc(m.group("body").rstrip())}</code></pre>')
        pos = m.end()
    out += _paragraphs(text[pos:])
    return "\n".join(out)
