from __future__ import annotations

from pathlib import Path

from markdown_it import MarkdownIt

from fastapi_reviewer.findings import Severity
from fastapi_reviewer.report import markdown


def to_html(text: str) -> str:
    """CommonMark + GFM tables, as GitHub renders a comment (close enough for escaping checks)."""
    return MarkdownIt("commonmark", {"html": True}).enable("table").enable("strikethrough").render(text)


def test_golden(report, rules, golden) -> None:
    golden("markdown.txt", markdown.render(report, rules, Path(".")))


def test_golden_with_advice(make_report, rules, advice, golden) -> None:
    golden("markdown-advice.txt", markdown.render(make_report(advice=advice), rules, Path(".")))


def test_summary_tables(report, rules) -> None:
    out = markdown.render(report, rules, Path("."))
    assert "**5 findings** in 2 files (4 analysed). 1 file could not be analysed." in out
    assert "| 🔴 error | 3 |" in out and "| 🟠 warning | 2 |" in out
    assert "| FR101 | blocking-http-call | error | 2 |" in out
    html = to_html(out)
    assert html.count("<table>") == 2


def test_findings_grouped_by_file_with_locations(report, rules) -> None:
    out = markdown.render(report, rules, Path("."))
    weather = out.index("#### `app/api/weather.py`")
    main = out.index("#### `app/main.py`")
    assert weather < out.index("`app/api/weather.py:12:12`") < main < out.index("`app/main.py:5:1`")
    assert "Trace: `get_weather` → `fetch_forecast` → `requests.get`" in out
    assert "`app/services/forecast.py:6` `fetch_forecast` calls `requests.get`" in out
    assert "](" not in out  # no links
    assert "### Files that could not be analysed" in out and "`app/broken.py:3`" in out


def test_user_text_is_escaped(make_report, make_finding, rules) -> None:
    msg = "<img src=x onerror=alert(1)> [click](https://evil) **bold** | pipe `tick` @team $x$\n- item"
    f = make_finding(
        "FR101", "blocking-http-call", "async-blocking", Severity.error, "a.py", 1, 1, 2, msg, hint="<b>hint</b>"
    )
    report = make_report([f])
    report.errors = []
    html = to_html(markdown.render(report, rules, Path(".")))
    assert "<img" not in html and "<b>hint" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<a " not in html and "<strong>bold" not in html
    assert "[click](https://evil)" in html and "**bold**" in html
    assert "<code>tick</code>" in html  # code spans stay code: their content is literal
    assert "&lt;b&gt;hint&lt;/b&gt;" in html
    assert html.count("<li>") == 1  # the "- item" line did not start a list


def test_escape_roundtrip_is_literal() -> None:
    for text in ["a_b*c*", "# head", "1. one", "<x>&amp;", "[a](b)", "| x |", "`code`", "\\n"]:
        rendered = to_html(markdown.escape(text))
        inner = rendered.removeprefix("<p>").removesuffix("</p>\n")
        unescaped = inner.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
        assert unescaped == text, (text, rendered)


def test_code_span_with_backticks() -> None:
    assert markdown.code("a`b") == "``a`b``"
    assert to_html(markdown.code("`x`")) == "<p><code>`x`</code></p>\n"


def test_advice_section(make_report, rules, advice) -> None:
    advice["items"][0]["explanation"] += " <script>alert(1)</script> ![img](http://x/y.png)"
    advice["items"].append({"fingerprint": "nosuchfinding", "explanation": "orphan", "priority": "low"})
    advice["items"].append("not a dict")
    out = markdown.render(make_report(advice=advice), rules, Path("."))
    assert "### Advice" in out
    assert "Two calls block the event loop; fix those first." in out
    assert "#### **high** · FR101 `app/api/weather.py:12:12`" in out
    assert "#### **low** · finding `nosuchfinding`" in out
    html = to_html(out)
    assert "<script>" not in html and "<img" not in html
    # code in the advice stays code
    assert '<pre><code class="language-python">async with httpx.AsyncClient() as c:' in html
    assert "<code>fetch_forecast</code>" in html


def test_no_advice_section_without_advice(report, rules) -> None:
    assert "### Advice" not in markdown.render(report, rules, Path("."))


def test_no_findings(make_report, rules) -> None:
    report = make_report([])
    report.errors = []
    out = markdown.render(report, rules, Path("."))
    assert "**No findings** in 4 files." in out
    assert "### Findings" not in out and "|" not in out


def test_long_reports_are_cut_to_the_limit(make_report, make_finding, rules) -> None:
    findings = [
        make_finding(
            "FR101",
            "blocking-http-call",
            "async-blocking",
            Severity.error,
            f"app/m{i:04}.py",
            3,
            1,
            9,
            "requests.get blocks the event loop " * 4,
        )
        for i in range(2000)
    ]
    out = markdown.render(make_report(findings), rules, Path("."), max_chars=20_000)
    assert len(out) <= 20_000
    assert "more findings not shown here; see the full report.*" in out
    shown = out.count("- 🔴 **FR101**")
    assert 10 < shown < 2000
    assert f"*… {2000 - shown} more findings not shown" in out
