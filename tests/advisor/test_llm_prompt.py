"""What goes into the prompt: dry run, product stage, limits, token budget, user templates."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

from llm_fakes import SECRETS, FakeLLM, prompt_fingerprints

from fastapi_reviewer.advisor import TEMPLATE_VERSION, LLMSettings, advise
from fastapi_reviewer.catalog import Rule
from fastapi_reviewer.findings import Report

Settings = Callable[..., LLMSettings]


def _user_fingerprints(text: str) -> list[str]:
    import re

    return re.findall(r"fingerprint `([0-9a-f]+)`", text)


def test_dry_run_shows_exactly_what_would_be_sent(
    llm_server: FakeLLM, settings_for: Settings, project: Path, report: Report, rules: dict[str, Rule]
) -> None:
    # what a real run sends...
    advise(report, project, settings_for(llm_server, cache=False), rules)
    (sent,) = llm_server.requests
    system, user = sent["messages"][0]["content"], sent["messages"][1]["content"]

    # ...is what the dry run prints, byte for byte, and the dry run itself sends nothing and needs no key
    dry = advise(report, project, settings_for(base_url="https://api.example.invalid/v1", dry_run=True), rules)
    tokens = math.ceil(len(system) / 4) + math.ceil(len(user) / 4)
    expected = (
        "# fastapi-review LLM dry run: nothing was sent.\n"
        f"# server: https://api.example.invalid/v1  model: test-model  stage: growth  templates: v{TEMPLATE_VERSION}\n"
        f"# 1 request(s), 7 finding(s), ~{tokens} prompt tokens (budget 24000, 8000 per request)\n"
        "# reply format: JSON schema 'Advice' (falls back to JSON mode, then to plain JSON text)\n"
        "\n"
        f"===== request 1 of 1 (~{tokens} tokens) =====\n"
        "----- system -----\n"
        f"{system}"
        "----- user -----\n"
        f"{user}"
    )
    assert dry.dry_run_text == expected
    assert dry.requests_sent == 0 and dry.advice is None and dry.warnings == []
    assert len(llm_server.requests) == 1
    assert dry.findings_sent == prompt_fingerprints(sent)
    # a literal slice of the request, to pin the format of findings and excerpts
    fr401 = next(f for f in report.findings if f.code == "FR401")
    assert (
        f"#### FR401 task-without-retry (warning), fingerprint `{fr401.fingerprint}`\n"
        "\n"
        "- Where: line 9, in `sync_reports`\n"
        "- Message: task sync_reports does network I/O without a retry policy\n"
        "- Why it matters: Network calls fail; tasks need retries.\n"
        "- Code (function sync_reports):\n"
        "\n"
        "```python\n"
        " 8 | @shared_task\n"
        " 9 | def sync_reports(report_id):\n"
        '10 |     token = "***REDACTED***"\n'
        '11 |     client = boto3.client("s3")\n'
        "12 |     try:\n"
        '13 |         client.upload_file("/tmp/r.csv", "reports", f"{report_id}.csv")\n'
        "14 |     except Exception:\n"
        "15 |         pass\n"
        "```\n"
    ) in dry.dry_run_text
    for secret in SECRETS:
        assert secret not in dry.dry_run_text


def test_stage_changes_the_advice_asked_for_and_the_findings_selected(
    settings_for: Settings, project: Path, report: Report, rules: dict[str, Rule]
) -> None:
    texts = {
        stage: advise(report, project, settings_for(dry_run=True, stage=stage), rules).dry_run_text
        for stage in ("mvp", "growth", "enterprise")
    }
    codes = {
        stage: sorted(f.code for f in report.findings if f.fingerprint in set(_user_fingerprints(text)))
        for stage, text in texts.items()
    }
    # mvp: errors, plus warnings that stall or break a service; growth: errors and warnings; enterprise: all
    assert codes["mvp"] == ["FR101", "FR102", "FR401", "FR402"]
    assert codes["growth"] == ["FR101", "FR102", "FR201", "FR401", "FR402", "FR603", "FR603"]
    assert codes["enterprise"] == ["FR101", "FR102", "FR201", "FR203", "FR401", "FR402", "FR603", "FR603"]

    assert "## Product stage: mvp" in texts["mvp"]
    assert "cheapest change that removes a real risk" in texts["mvp"]
    assert "Do not propose monitoring stacks" in texts["mvp"]
    assert "Left out of this review: 4 lower-priority finding(s) for the mvp stage;" in texts["mvp"]
    assert "Security findings are never low" in texts["enterprise"]
    assert "Security findings are never low" not in texts["growth"]
    assert "Left out of this review" not in texts["enterprise"]
    assert "Product stage: enterprise." in texts["enterprise"]
    # the system prompts differ by stage, and so do the cache keys
    assert len({t.split("----- user -----")[0] for t in texts.values()}) == 3


def test_findings_are_sorted_by_severity_and_capped_by_max_findings(
    settings_for: Settings, project: Path, report: Report, rules: dict[str, Rule]
) -> None:
    result = advise(report, project, settings_for(dry_run=True, stage="enterprise", max_findings=3), rules)
    assert result.dry_run_text is not None
    sent = [f.code for fp in result.findings_sent for f in report.findings if f.fingerprint == fp]
    # the two errors first, then the most severe remaining warning (by path/line: tasks.py:5 FR603)
    assert sent == ["FR101", "FR102", "FR603"]
    assert result.warnings == [
        "LLM advice: 5 finding(s) not sent (limit of 3 per run; raise max-findings to include them)"
    ]
    assert "Left out of this review: 5 over the limit of 3 findings per run;" in result.dry_run_text


def test_token_budget_drops_what_does_not_fit_and_says_so(
    settings_for: Settings, project: Path, report: Report, rules: dict[str, Rule], system_tokens: int
) -> None:
    budget = system_tokens + 450  # room for one request with the first two or three findings only
    result = advise(report, project, settings_for(dry_run=True, token_budget=budget), rules)
    assert result.dry_run_text is not None
    kept = len(result.findings_sent)
    assert 1 <= kept < 7
    assert result.dry_run_text.count("===== request ") == 1
    assert result.warnings == [
        f"LLM advice: {7 - kept} finding(s) not sent (did not fit the token budget of {budget} per run / 8000 per request)"
    ]
    assert f"{7 - kept} that did not fit the prompt budget of {budget} tokens;" in result.dry_run_text
    # the prompt's own size respects the budget
    request_tokens = int(result.dry_run_text.split("===== request 1 of 1 (~")[1].split(" ")[0])
    assert request_tokens <= budget


def test_requests_are_split_by_file_groups_within_the_per_request_budget(
    settings_for: Settings, project: Path, report: Report, rules: dict[str, Rule], system_tokens: int
) -> None:
    limit = system_tokens + 560
    result = advise(report, project, settings_for(dry_run=True, request_tokens=limit), rules)
    text = result.dry_run_text
    assert text is not None and result.warnings == []
    blocks = text.split("===== request ")[1:]
    assert len(blocks) == 3
    files_per_request = [[p for p in ("app/weather.py", "app/tasks.py") if f"### File `{p}`" in b] for b in blocks]
    # each request holds one file; the weather.py group was too big for one request and was split
    assert files_per_request == [["app/weather.py"], ["app/weather.py"], ["app/tasks.py"]]
    for block in blocks:
        assert int(block.split("(~")[1].split(" ")[0]) <= limit
    # every selected finding is sent exactly once
    assert sorted(result.findings_sent) == sorted(set(result.findings_sent))
    assert len(result.findings_sent) == 7


def test_user_templates_override_ours_file_by_file(
    settings_for: Settings, project: Path, report: Report, rules: dict[str, Rule]
) -> None:
    mine = project / "my-prompts"
    mine.mkdir()
    (mine / "review.md.j2").write_text(
        "Stage {{ stage }}; {{ counts.in_request }} findings.\n"
        "{% for file in files %}{% for f in file.findings %}- {{ f.code }} {{ f.fingerprint }} line {{ f.line }}\n"
        "{% endfor %}{% endfor %}"
    )
    result = advise(report, project, settings_for(dry_run=True, template_dir="my-prompts"), rules)
    text = result.dry_run_text
    assert text is not None
    assert "----- user -----\nStage growth; 7 findings.\n- FR101 " in text
    assert "You are a senior reviewer of FastAPI data services" in text  # system.md.j2 falls back to ours


def test_broken_user_template_is_a_warning_not_an_error(
    settings_for: Settings, project: Path, report: Report, rules: dict[str, Rule]
) -> None:
    mine = project / "my-prompts"
    mine.mkdir()
    (mine / "system.md.j2").write_text("Reviewer for {{ team_name }}\n")  # StrictUndefined: no such variable
    result = advise(report, project, settings_for(dry_run=True, template_dir=mine), rules)
    assert result.dry_run_text is None and result.advice is None
    assert len(result.warnings) == 1
    assert result.warnings[0].startswith("LLM advice skipped: prompt template error: ")
    assert "team_name" in result.warnings[0]

    missing = advise(report, project, settings_for(dry_run=True, template_dir="nope"), rules)
    assert missing.warnings == [f"LLM advice skipped: prompt template error: template_dir {project / 'nope'} is not a directory"]


def test_nothing_selected_sends_nothing(
    settings_for: Settings, project: Path, report: Report, rules: dict[str, Rule]
) -> None:
    only_info = Report.build("0.1.0", 1, [f for f in report.findings if f.severity.value == "info"], [])
    result = advise(only_info, project, settings_for(base_url="https://llm.example.invalid/v1", stage="mvp"), rules)
    assert result.requests_sent == 0 and result.advice is None
    assert result.warnings == ["LLM advice: nothing to review at the mvp stage (1 lower-severity finding(s) left out)"]

    empty = advise(Report.build("0.1.0", 1, [], []), project, settings_for(base_url="https://x.invalid/v1"), rules)
    assert empty.warnings == [] and empty.requests_sent == 0 and empty.advice is None
