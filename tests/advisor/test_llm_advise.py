"""The LLM step over real HTTP: the real openai client against a local OpenAI-compatible server."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from llm_fakes import SECRETS, FakeLLM, Reply, advice_for, completion, error, ok, prompt_fingerprints

from fastapi_reviewer.advisor import LLMSettings, advise, render_advice_markdown
from fastapi_reviewer.catalog import Rule
from fastapi_reviewer.findings import Finding, Report

Settings = Callable[..., LLMSettings]
# room for the user message that splits the fixture findings into three requests (one per file group, the
# weather.py group split in two)
SPLIT = 560


def by_code(findings: list[Finding], *codes: str) -> list[str]:
    """Fingerprints of the (single) finding of each code, in the order the codes are given."""
    found = [[f.fingerprint for f in findings if f.code == code] for code in codes]
    assert all(len(fps) == 1 for fps in found), found
    return [fps[0] for fps in found]


def test_prompt_carries_persona_findings_excerpts_and_no_secrets(
    llm_server: FakeLLM, settings_for: Settings, project: Path, report: Report, rules: dict[str, Rule]
) -> None:
    result = advise(report, project, settings_for(llm_server), rules, routes=2)

    assert result.warnings == []
    assert result.requests_sent == 1 and len(llm_server.requests) == 1
    body = llm_server.requests[0]
    assert llm_server.paths == ["/v1/chat/completions"]
    assert llm_server.auth == ["Bearer no-key-required"]  # a local server needs no key
    assert body["model"] == "test-model" and body["temperature"] == 0.2
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["name"] == "Advice"
    system, user = (m["content"] for m in body["messages"])
    assert [m["role"] for m in body["messages"]] == ["system", "user"]

    # the persona, for the default growth stage
    assert "You are a senior reviewer of FastAPI data services" in system
    assert "## Product stage: growth" in system
    assert "Traffic is growing" in system

    # project facts from pyproject.toml and the route count
    assert "- FastAPI: `>=0.110,<0.116` (declared in pyproject.toml)" in user
    assert "- Pydantic: `==2.7.1` (declared in pyproject.toml)" in user
    assert "- SQLAlchemy: `~=2.0` (declared in pyproject.toml)" in user
    assert "- Celery: `>=5.3` (declared in pyproject.toml)" in user
    assert "- Routes (path operations): 2" in user

    # every selected finding (growth: errors and warnings), grouped by file, with its metadata
    selected = [f for f in report.findings if f.severity.value in ("error", "warning")]
    assert prompt_fingerprints(body) == [f.fingerprint for f in sorted(selected, key=lambda f: (
        f.path != "app/weather.py", -f.severity.rank, f.line))]
    for f in selected:
        assert f"#### {f.code} {f.name} ({f.severity.value}), fingerprint `{f.fingerprint}`" in user
    assert user.index("### File `app/weather.py`") < user.index("### File `app/tasks.py`")
    assert "- Message: requests.get blocks the event loop inside async route get_weather" in user
    assert "1. `app/weather.py:18` `get_weather` calls `requests.get`" in user
    # the rule's why, in one line (first sentence only)
    assert "- Why it matters: A synchronous HTTP request inside a coroutine stops the event loop until the server answers.\n" in user
    assert "Every other request" not in user
    # excerpts: enclosing function with real line numbers, shared when two findings sit in one function
    assert '18 |     response = requests.get("https://api.example.com/w", params={"q": city}, headers=headers)' in user
    assert "- Code (function get_weather):" in user
    fr101, fr102 = by_code(report.findings, "FR101", "FR102")
    assert f"- Code: the same excerpt as finding `{fr101}` above." in user
    assert user.index(f"fingerprint `{fr101}`") < user.index("16 | async def get_weather") < user.index(f"fingerprint `{fr102}`")
    assert user.count("16 | async def get_weather(city: str):") == 1
    assert " 9 | def sync_reports(report_id):" in user
    assert "- Code (lines 1-15):" in user  # module-level finding at line 7: ±8 lines

    # the info finding is not selected at the growth stage, and the prompt says so
    (fr203,) = by_code(report.findings, "FR203")
    assert fr203 not in user
    assert "Left out of this review: 1 lower-priority finding(s) for the growth stage;" in user

    # nothing secret left the machine, and the placeholders show where it was
    sent = llm_server.all_text()
    for secret in SECRETS:
        assert secret not in sent
    assert 'OPENAI_API_KEY = \\"***REDACTED***\\"' in sent
    assert "Bearer ***REDACTED***" in user
    assert 'hard-coded secret: OPENAI_API_KEY = "***REDACTED***"' in user  # the finding message is redacted too

    assert result.advice is not None
    assert result.findings_sent == prompt_fingerprints(body)


def test_advice_is_tied_to_the_right_findings(
    llm_server: FakeLLM, settings_for: Settings, project: Path, report: Report, rules: dict[str, Rule]
) -> None:
    fr101, fr102, fr401 = by_code(report.findings, "FR101", "FR102", "FR401")
    llm_server.queue(ok({
        "summary": "Two event-loop stalls in get_weather; fix them first.",
        "items": [
            {"fingerprint": fr102, "explanation": "sleep stalls", "fix": "await asyncio.sleep(0.5)", "priority": "medium", "lines": [19, 19]},
            {"fingerprint": fr101, "explanation": "requests blocks", "fix": "async with httpx.AsyncClient() as c:\n    r = await c.get(url)", "priority": "HIGH", "lines": [18, 18]},
            {"fingerprint": "0000000000deadbeef00", "explanation": "made up", "fix": "", "priority": "high", "lines": None},
            {"fingerprint": fr401, "explanation": "lines outside the excerpt", "fix": "x", "priority": "low", "lines": [40, 42]},
            {"fingerprint": fr101, "explanation": "duplicate", "fix": "y", "priority": "low", "lines": None},
        ],
    }))
    result = advise(report, project, settings_for(llm_server), rules)

    assert result.advice is not None
    assert [(i.fingerprint, i.priority) for i in result.advice.items] == [(fr101, "high"), (fr102, "medium")]
    assert result.advice.items[0].lines == [18, 18]
    assert result.advice.summary == "Two event-loop stalls in get_weather; fix them first."
    assert result.warnings == [
        "LLM advice: ignored 3 item(s) that named an unknown finding or lines outside the code sent"
    ]

    md = render_advice_markdown(result.advice, report)
    assert "### HIGH · FR101 blocking-http-call · app/weather.py:18 in `get_weather`" in md
    assert "Suggested fix (replaces line 18):" in md
    assert "### MEDIUM · FR102 blocking-sleep · app/weather.py:19 in `get_weather`" in md
    assert md.index("FR101") < md.index("FR102")
    assert "deadbeef" not in md


def test_second_identical_run_is_served_from_the_cache(
    llm_server: FakeLLM, settings_for: Settings, project: Path, report: Report, rules: dict[str, Rule]
) -> None:
    settings = settings_for(llm_server)
    first = advise(report, project, settings, rules)
    second = advise(report, project, settings, rules)

    assert (first.requests_sent, first.cache_hits) == (1, 0)
    assert (second.requests_sent, second.cache_hits) == (0, 1)
    assert len(llm_server.requests) == 1
    assert second.advice == first.advice and second.advice is not None
    cached = list((settings.cache_dir).rglob("*.json"))
    assert len(cached) == 1 and not list(settings.cache_dir.rglob(".tmp-*"))
    assert json.loads(cached[0].read_text())["model"] == "test-model"

    # another model or another stage is another prompt: asked again
    third = advise(report, project, settings_for(llm_server, model="other-model"), rules)
    assert third.requests_sent == 1 and len(llm_server.requests) == 2
    # cache disabled: always asks
    fourth = advise(report, project, settings_for(llm_server, cache=False), rules)
    assert (fourth.requests_sent, fourth.cache_hits) == (1, 0)


def _rejects_json_schema(body: dict[str, Any]) -> Reply:
    if body.get("response_format", {}).get("type") == "json_schema":
        return error(400, "Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model.")
    return advice_for(body)


def test_server_without_json_schema_falls_back_to_json_mode(
    llm_server: FakeLLM, settings_for: Settings, project: Path, report: Report, rules: dict[str, Rule]
, system_tokens: int) -> None:
    llm_server.responder = _rejects_json_schema
    # several requests, sent one after the other: the fallback is learnt once per run
    settings = settings_for(llm_server, request_tokens=system_tokens + SPLIT, concurrency=1)
    planned = advise(report, project, settings.model_copy(update={"dry_run": True}), rules)
    batches = planned.dry_run_text.count("===== request ")
    result = advise(report, project, settings, rules)

    assert batches >= 3
    assert result.warnings == []
    formats = [r.get("response_format", {}).get("type") for r in llm_server.requests]
    assert formats == ["json_schema"] + ["json_object"] * batches
    assert result.advice is not None
    assert {i.fingerprint for i in result.advice.items} == set(result.findings_sent)


def test_server_without_any_response_format_falls_back_to_plain_text(
    llm_server: FakeLLM, settings_for: Settings, project: Path, report: Report, rules: dict[str, Rule]
) -> None:
    def no_formats(body: dict[str, Any]) -> Reply:
        if "response_format" in body:
            return error(422, f"response_format type {body['response_format']['type']!r} is not supported")
        reply = advice_for(body)
        # plain-text servers like to wrap JSON in prose and a fence
        content = reply.body["choices"][0]["message"]["content"]
        reply.body["choices"][0]["message"]["content"] = f"Here is the review:\n```json\n{content}\n```\nThanks!"
        return reply

    llm_server.responder = no_formats
    result = advise(report, project, settings_for(llm_server), rules)

    assert [r.get("response_format", {}).get("type") for r in llm_server.requests] == ["json_schema", "json_object", None]
    assert result.warnings == [] and result.advice is not None
    assert len(result.advice.items) == len(result.findings_sent)


def test_malformed_reply_gets_one_repair_request(
    llm_server: FakeLLM, settings_for: Settings, project: Path, report: Report, rules: dict[str, Rule]
) -> None:
    llm_server.queue(ok('Sure! {"summary": "cut off", "items": [{"fingerprint": '))
    result = advise(report, project, settings_for(llm_server), rules)

    assert result.warnings == [] and result.advice is not None
    assert result.requests_sent == 2
    repair = llm_server.requests[1]["messages"]
    assert [m["role"] for m in repair] == ["system", "user", "assistant", "user"]
    assert repair[2]["content"] == 'Sure! {"summary": "cut off", "items": [{"fingerprint": '
    assert repair[3]["content"].startswith("Your reply could not be used: ")
    assert "Invalid JSON" in repair[3]["content"] or "json_invalid" in repair[3]["content"]
    assert repair[:2] == llm_server.requests[0]["messages"]


def test_reply_missing_fields_is_repaired_with_the_validation_error(
    llm_server: FakeLLM, settings_for: Settings, project: Path, report: Report, rules: dict[str, Rule]
) -> None:
    llm_server.queue(ok({"summary": "s", "items": [{"fingerprint": "x", "priority": "urgent"}]}))
    result = advise(report, project, settings_for(llm_server), rules)

    assert result.advice is not None and result.requests_sent == 2
    repair = llm_server.requests[1]["messages"][3]["content"]
    assert "items.0.explanation: Field required" in repair
    assert "items.0.priority" in repair


def test_still_malformed_after_repair_is_a_warning(
    llm_server: FakeLLM, settings_for: Settings, project: Path, report: Report, rules: dict[str, Rule]
) -> None:
    llm_server.responder = lambda body: ok("I cannot produce JSON today.")
    result = advise(report, project, settings_for(llm_server), rules)

    assert result.advice is None
    assert result.requests_sent == 2  # the request and exactly one repair
    assert len(result.warnings) == 1
    assert result.warnings[0].startswith(
        "LLM advice unavailable: the model's reply was not valid advice JSON, even after one repair request ("
    )
    assert "\n" not in result.warnings[0]


def test_slow_reply_times_out_with_a_warning(
    llm_server: FakeLLM, settings_for: Settings, project: Path, report: Report, rules: dict[str, Rule]
) -> None:
    llm_server.responder = lambda body: Reply(body=advice_for(body).body, delay=1.5)
    started = time.monotonic()
    result = advise(report, project, settings_for(llm_server, timeout=0.3, retries=1), rules)
    elapsed = time.monotonic() - started

    assert result.advice is None
    assert result.requests_sent == 2 and len(llm_server.requests) == 2  # one retry after the timeout
    assert result.warnings == [
        f"LLM advice unavailable: no reply from {llm_server.url} within 0.3 s, after 2 attempts (static report unaffected)"
    ]
    assert elapsed < 1.4


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (429, "rate limited by {url} (429) after 3 attempts"),
        (500, "server error from {url} (500) after 3 attempts"),
        (503, "server error from {url} (503) after 3 attempts"),
    ],
)
def test_rate_limits_and_server_errors_are_retried_then_reported(
    llm_server: FakeLLM, settings_for: Settings, project: Path, report: Report, rules: dict[str, Rule],
    status: int, reason: str,
) -> None:
    llm_server.responder = lambda body: error(status, "try later")
    result = advise(report, project, settings_for(llm_server, retries=2), rules)

    assert len(llm_server.requests) == 3 and result.requests_sent == 3
    assert result.advice is None
    assert result.warnings == [f"LLM advice unavailable: {reason.format(url=llm_server.url)} (static report unaffected)"]


def test_retry_succeeds_after_transient_errors(
    llm_server: FakeLLM, settings_for: Settings, project: Path, report: Report, rules: dict[str, Rule]
) -> None:
    llm_server.queue(error(429, "slow down", headers={"retry-after-ms": "5"}), error(502, "bad gateway"))
    result = advise(report, project, settings_for(llm_server, retries=2), rules)

    assert result.warnings == [] and result.advice is not None
    assert result.requests_sent == 3


def test_bad_key_is_reported_without_retrying(
    llm_server: FakeLLM, settings_for: Settings, project: Path, report: Report, rules: dict[str, Rule],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TEST_LLM_KEY", "sk-test-wrong")
    llm_server.responder = lambda body: error(401, "Incorrect API key provided: sk-test-wrong")
    result = advise(report, project, settings_for(llm_server, api_key_env="TEST_LLM_KEY"), rules)

    assert llm_server.auth == ["Bearer sk-test-wrong"]
    assert result.requests_sent == 1
    assert result.warnings == [
        f"LLM advice unavailable: {llm_server.url} rejected the API key from $TEST_LLM_KEY (401) (static report unaffected)"
    ]


def test_unreachable_server_is_a_warning(
    free_port: int, settings_for: Settings, project: Path, report: Report, rules: dict[str, Rule]
) -> None:
    url = f"http://127.0.0.1:{free_port}/v1"
    result = advise(report, project, settings_for(base_url=url), rules)

    assert result.advice is None
    assert len(result.warnings) == 1
    assert result.warnings[0].startswith(f"LLM advice unavailable: cannot reach {url} (")
    assert result.warnings[0].endswith("(static report unaffected)")


def test_missing_key_for_a_remote_server_sends_nothing(
    settings_for: Settings, project: Path, report: Report, rules: dict[str, Rule]
) -> None:
    result = advise(report, project, settings_for(base_url="https://llm.example.invalid/v1"), rules)

    assert result.requests_sent == 0 and result.advice is None
    assert result.warnings == [
        (
            "LLM advice unavailable: no API key: set $OPENAI_API_KEY, or point base-url at a local server"
            " (static report unaffected)"
        )
    ]


def test_refusal_is_a_warning(
    llm_server: FakeLLM, settings_for: Settings, project: Path, report: Report, rules: dict[str, Rule]
) -> None:
    llm_server.responder = lambda body: Reply(body=completion(None, refusal="I can't help with that."))
    result = advise(report, project, settings_for(llm_server), rules)

    assert result.advice is None and result.requests_sent == 1
    assert result.warnings == ["LLM advice unavailable: the model refused: I can't help with that. (static report unaffected)"]


def test_partial_failure_keeps_the_advice_that_arrived(
    llm_server: FakeLLM, settings_for: Settings, project: Path, report: Report, rules: dict[str, Rule]
, system_tokens: int) -> None:
    (fr401,) = by_code(report.findings, "FR401")

    def fail_tasks_file(body: dict[str, Any]) -> Reply:
        return error(500, "boom") if fr401 in prompt_fingerprints(body) else advice_for(body)

    llm_server.responder = fail_tasks_file
    result = advise(report, project, settings_for(llm_server, request_tokens=system_tokens + SPLIT, retries=0), rules)

    assert result.advice is not None
    assert fr401 not in {i.fingerprint for i in result.advice.items}
    assert len(result.advice.items) >= 1
    assert len(result.warnings) == 1
    assert result.warnings[0].startswith("LLM advice incomplete: 1 of ")
    assert result.warnings[0].endswith(f"request(s) failed: server error from {llm_server.url} (500) (no retries configured)")


def test_requests_run_concurrently_up_to_the_limit(
    llm_server: FakeLLM, settings_for: Settings, project: Path, report: Report, rules: dict[str, Rule]
, system_tokens: int) -> None:
    llm_server.responder = lambda body: Reply(body=advice_for(body).body, delay=0.2)
    result = advise(report, project, settings_for(llm_server, request_tokens=system_tokens + SPLIT, concurrency=4), rules)
    assert result.requests_sent >= 3 and result.warnings == []
    assert llm_server.max_in_flight >= 2

    serial = FakeLLM()
    serial.thread.start()
    try:
        serial.responder = llm_server.responder
        result = advise(report, project, settings_for(serial, request_tokens=system_tokens + SPLIT, concurrency=1, cache=False), rules)
        assert result.requests_sent >= 3 and serial.max_in_flight == 1
    finally:
        serial.server.shutdown()
        serial.server.server_close()


def test_works_when_called_inside_a_running_event_loop(
    llm_server: FakeLLM, settings_for: Settings, project: Path, report: Report, rules: dict[str, Rule]
) -> None:
    async def caller() -> Any:
        return advise(report, project, settings_for(llm_server), rules)

    result = asyncio.run(caller())
    assert result.advice is not None and result.requests_sent == 1


def test_nothing_is_printed_when_stderr_is_not_a_terminal(
    llm_server: FakeLLM, settings_for: Settings, project: Path, report: Report, rules: dict[str, Rule],
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = advise(report, project, settings_for(llm_server), rules)
    captured = capsys.readouterr()
    assert result.advice is not None
    assert captured.err == "" and captured.out == ""


def test_optional_parameters_are_sent_only_when_set(
    llm_server: FakeLLM, settings_for: Settings, project: Path, report: Report, rules: dict[str, Rule]
) -> None:
    advise(report, project, settings_for(llm_server, cache=False), rules)
    advise(report, project, settings_for(llm_server, cache=False, temperature=None, max_output_tokens=700), rules)
    default, custom = llm_server.requests
    assert default["temperature"] == 0.2 and "max_tokens" not in default
    assert "temperature" not in custom and custom["max_tokens"] == 700


def test_reply_cut_off_at_the_token_limit_is_repaired(
    llm_server: FakeLLM, settings_for: Settings, project: Path, report: Report, rules: dict[str, Rule]
) -> None:
    llm_server.queue(Reply(body=completion('{"summary": "The service blocks', finish_reason="length")))
    result = advise(report, project, settings_for(llm_server, max_output_tokens=50), rules)

    assert result.advice is not None and result.warnings == []
    assert result.requests_sent == 2
    assert llm_server.requests[1]["messages"][2]["content"] == '{"summary": "The service blocks'


def test_progress_bar_only_on_a_terminal(
    llm_server: FakeLLM, settings_for: Settings, project: Path, report: Report, rules: dict[str, Rule],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io
    import sys

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setenv("TERM", "xterm-256color")
    result = advise(report, project, settings_for(llm_server), rules)
    assert result.advice is not None
    assert "LLM review" in terminal.getvalue()

    # cached: nothing to wait for, no bar
    quiet = Terminal()
    monkeypatch.setattr(sys, "stderr", quiet)
    again = advise(report, project, settings_for(llm_server), rules)
    assert again.cache_hits == 1 and quiet.getvalue() == ""


@pytest.mark.parametrize("formats", [("json_schema",), ("json_object",)])
def test_content_filter_is_a_warning(
    llm_server: FakeLLM, settings_for: Settings, project: Path, report: Report, rules: dict[str, Rule],
    formats: tuple[str, ...],
) -> None:
    def filtered(body: dict[str, Any]) -> Reply:
        if body.get("response_format", {}).get("type") not in formats:
            return error(400, "response_format json_schema unsupported")
        return Reply(body=completion("", finish_reason="content_filter"))

    llm_server.responder = filtered
    result = advise(report, project, settings_for(llm_server), rules)
    assert result.advice is None
    assert result.warnings == [
        "LLM advice unavailable: the server's content filter blocked the reply (static report unaffected)"
    ]


def test_parse_is_found_where_the_installed_sdk_keeps_it() -> None:
    from types import SimpleNamespace

    import openai

    from fastapi_reviewer.advisor.client import parse_owner

    current = openai.AsyncOpenAI(api_key="k", base_url="http://127.0.0.1:9/v1")
    assert parse_owner(current) is current.chat.completions  # openai 3.x: no longer under beta
    beta_parse = SimpleNamespace(parse=lambda **kw: None, with_raw_response=None)
    older = SimpleNamespace(  # openai 1.40-1.91: parse only under client.beta
        chat=SimpleNamespace(completions=SimpleNamespace(create=lambda **kw: None)),
        beta=SimpleNamespace(chat=SimpleNamespace(completions=beta_parse)),
    )
    assert parse_owner(older) is beta_parse
