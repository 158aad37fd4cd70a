from __future__ import annotations

import json

from fastapi_reviewer.advisor import Advice, AdviceItem, advice_to_json, render_advice_markdown
from fastapi_reviewer.findings import Report


def _advice(report: Report) -> Advice:
    fr101 = next(f for f in report.findings if f.code == "FR101")
    fr401 = next(f for f in report.findings if f.code == "FR401")
    return Advice(
        summary="Two event-loop stalls; one fragile task.",
        items=[
            AdviceItem(fingerprint=fr401.fingerprint, explanation="Add retries.", fix="", priority="low"),
            AdviceItem(
                fingerprint=fr101.fingerprint,
                explanation="requests.get blocks the loop.",
                fix="async with httpx.AsyncClient() as client:\n    response = await client.get(url)\n# ```tricky```",
                priority="high",
                lines=[18, 19],
            ),
            AdviceItem(fingerprint="ffffffffffffffffffff", explanation="Orphan.", fix="x = 1", priority="medium"),
        ],
    )


def test_markdown_lists_items_by_priority_with_locations(report: Report) -> None:
    md = render_advice_markdown(_advice(report), report)
    lines = md.splitlines()
    assert lines[0] == "## Reviewer's notes"
    assert "Two event-loop stalls; one fragile task." in lines
    headings = [line for line in lines if line.startswith("### ")]
    assert headings == [
        "### HIGH · FR101 blocking-http-call · app/weather.py:18 in `get_weather`",
        "### MEDIUM · finding `ffffffffffffffffffff`",
        "### LOW · FR401 task-without-retry · app/tasks.py:9 in `sync_reports`",
    ]
    assert "Suggested fix (replaces lines 18-19):" in lines
    # the snippet contains a triple backtick, so the fence is longer
    start = lines.index("````python")
    assert lines[start + 1 : start + 4] == [
        "async with httpx.AsyncClient() as client:",
        "    response = await client.get(url)",
        "# ```tricky```",
    ]
    assert lines[start + 4] == "````"
    # an empty fix prints no code block
    low = md.split("### LOW")[1]
    assert "Add retries." in low and "```" not in low


def test_markdown_without_items(report: Report) -> None:
    md = render_advice_markdown(Advice(summary="All good.", items=[]), report)
    assert md == "## Reviewer's notes\n\nAll good.\n\n_No notes on individual findings._\n"


def test_json_section(report: Report) -> None:
    data = advice_to_json(_advice(report))
    assert json.loads(json.dumps(data)) == data
    assert data["version"] == 1
    assert data["summary"] == "Two event-loop stalls; one fragile task."
    assert [i["priority"] for i in data["items"]] == ["high", "medium", "low"]
    assert data["items"][0]["lines"] == [18, 19]
    assert data["items"][2]["lines"] is None
    assert set(data["items"][0]) == {"fingerprint", "priority", "explanation", "fix", "lines"}
    # it fits the report's json contract
    report.advice = data
    assert json.loads(report.model_dump_json())["advice"]["items"][0]["fix"].startswith("async with httpx")


def test_reply_model_is_lenient_with_small_models() -> None:
    item = AdviceItem.model_validate(
        {"fingerprint": " abc ", "explanation": "e", "fix": "f", "priority": "High", "lines": [20, 14]}
    )
    assert (item.fingerprint, item.priority, item.lines) == ("abc", "high", [14, 20])
    assert AdviceItem.model_validate({"fingerprint": "a", "explanation": "e", "fix": "", "priority": "low", "lines": 7}).lines == [7, 7]
    assert AdviceItem.model_validate({"fingerprint": "a", "explanation": "e", "fix": "", "priority": "low", "lines": []}).lines is None
