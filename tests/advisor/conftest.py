"""Fixtures for the LLM step: a local OpenAI-compatible server on 127.0.0.1 and a small FastAPI project."""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from llm_fakes import PYPROJECT, TASKS_PY, WEATHER_PY, FakeLLM, make_finding, make_rule

from fastapi_reviewer.advisor import LLMSettings
from fastapi_reviewer.catalog import Rule
from fastapi_reviewer.findings import Finding, Report, TraceStep


@pytest.fixture
def llm_server() -> Iterator[FakeLLM]:
    fake = FakeLLM()
    fake.thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


@pytest.fixture
def free_port() -> int:
    """A port nothing listens on."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "TEST_LLM_KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "weather.py").write_text(WEATHER_PY)
    (tmp_path / "app" / "tasks.py").write_text(TASKS_PY)
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    return tmp_path


@pytest.fixture
def findings() -> list[Finding]:
    """Findings for the fixture project: 2 errors, 5 warnings (validation, task, security), 1 info."""
    return [
        make_finding(
            "FR101", "blocking-http-call", "async-blocking", "error", "app/weather.py", 18, "get_weather",
            "requests.get blocks the event loop inside async route get_weather",
            trace=[TraceStep(path="app/weather.py", line=18, function="get_weather", call="requests.get")],
        ),
        make_finding(
            "FR102", "blocking-sleep", "async-blocking", "error", "app/weather.py", 19, "get_weather",
            "time.sleep blocks the event loop inside async route get_weather",
        ),
        make_finding(
            "FR201", "untyped-request-body", "validation", "warning", "app/weather.py", 24, "post_weather",
            "request body `payload` is typed dict; declare a Pydantic model",
        ),
        make_finding(
            "FR401", "task-without-retry", "task", "warning", "app/tasks.py", 9, "sync_reports",
            "task sync_reports does network I/O without a retry policy",
        ),
        make_finding(
            "FR402", "task-swallows-exceptions", "task", "warning", "app/tasks.py", 14, "sync_reports",
            "task sync_reports swallows exceptions with `except Exception: pass`",
        ),
        make_finding(
            "FR603", "hardcoded-secret-key", "security", "warning", "app/weather.py", 7, None,
            'hard-coded secret: OPENAI_API_KEY = "sk-proj-Zq8v1Lr7Xw3Nf5Jt2Hd9Kc4Mb6"',
        ),
        make_finding(
            "FR603", "hardcoded-secret-key", "security", "warning", "app/tasks.py", 5, None,
            "hard-coded secret assigned to ADMIN_PASSWORD",
        ),
        make_finding(
            "FR203", "untyped-response", "validation", "info", "app/weather.py", 23, "post_weather",
            "route post_weather returns a dict without response_model",
        ),
    ]


@pytest.fixture
def report(findings: list[Finding]) -> Report:
    return Report.build("0.1.0", 2, findings, [])


@pytest.fixture
def rules() -> dict[str, Rule]:
    return {
        r.code: r
        for r in [
            make_rule(
                "FR101", "blocking-http-call", "async-blocking", "error",
                "A synchronous HTTP request inside a coroutine stops the event loop until the server answers.\n"
                "Every other request on the worker waits with it.",
            ),
            make_rule("FR102", "blocking-sleep", "async-blocking", "error", "time.sleep freezes the whole event loop."),
            make_rule("FR201", "untyped-request-body", "validation", "warning", "A dict body skips validation and docs."),
            make_rule("FR401", "task-without-retry", "task", "warning", "Network calls fail; tasks need retries."),
            make_rule("FR402", "task-swallows-exceptions", "task", "warning", "Swallowed errors hide failed work."),
            make_rule("FR603", "hardcoded-secret-key", "security", "warning", "Secrets in code end up in every clone."),
            make_rule("FR203", "untyped-response", "validation", "info", "Untyped responses leak fields."),
        ]
    }


@pytest.fixture
def settings_for(tmp_path: Path) -> Callable[..., LLMSettings]:
    """LLMSettings for tests: enabled, short timeouts, tiny backoff, cache under tmp_path."""

    def make(server: FakeLLM | None = None, **overrides: Any) -> LLMSettings:
        values: dict[str, Any] = {
            "enabled": True,
            "model": "test-model",
            "base_url": server.url if server is not None else None,
            "timeout": 2.0,
            "retries": 2,
            "retry_backoff": 0.01,
            "cache_dir": tmp_path / "llm-cache",
        }
        values.update(overrides)
        return LLMSettings(**values)

    return make


@pytest.fixture
def system_tokens() -> int:
    """Estimated tokens of our system prompt (growth stage): the fixed cost of every request."""
    from fastapi_reviewer.advisor.prompt import estimate_tokens, load_templates

    return estimate_tokens(load_templates(None).get_template("system.md.j2").render(stage="growth").rstrip() + "\n")
