"""Fixtures for the LLM step: a local OpenAI-compatible server on 127.0.0.1 and a small FastAPI project.

The server is a threaded ``http.server`` that serves ``POST /v1/chat/completions``: it records every
request body and answers from a queue of canned replies (or from a responder function).
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable

import pytest

from fastapi_reviewer.advisor import LLMSettings
from fastapi_reviewer.catalog import Docs, Examples, Rule
from fastapi_reviewer.findings import Finding, Report, Severity, TraceStep, fingerprint

# secrets planted in the fixture project; none of them may ever reach the server
SECRETS = (
    "sk-proj-Zq8v1Lr7Xw3Nf5Jt2Hd9Kc4Mb6",
    "AKIAZ7Q2LMNOPQRS4TUV",
    "hunter2-prod-password",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ",
    "s3cr3t-db-pass",
    "bearer-token-value-123456",
)

WEATHER_PY = '''\
import time

import requests
from fastapi import APIRouter

router = APIRouter()
OPENAI_API_KEY = "sk-proj-Zq8v1Lr7Xw3Nf5Jt2Hd9Kc4Mb6"
DATABASE_URL = "postgresql://app:s3cr3t-db-pass@db:5432/app"


def helper():
    return 1


@router.get("/weather/{city}")
async def get_weather(city: str):
    headers = {"Authorization": "Bearer bearer-token-value-123456"}
    response = requests.get("https://api.example.com/w", params={"q": city}, headers=headers)
    time.sleep(0.5)
    return response.json()


@router.post("/weather")
async def post_weather(payload: dict):
    return payload
'''

TASKS_PY = '''\
from celery import shared_task
import boto3

AWS_ACCESS_KEY_ID = "AKIAZ7Q2LMNOPQRS4TUV"
ADMIN_PASSWORD = "hunter2-prod-password"


@shared_task
def sync_reports(report_id):
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
    client = boto3.client("s3")
    try:
        client.upload_file("/tmp/r.csv", "reports", f"{report_id}.csv")
    except Exception:
        pass
'''

PYPROJECT = """\
[project]
name = "weather-service"
dependencies = ["fastapi>=0.110,<0.116", "pydantic==2.7.1", "SQLAlchemy[asyncio]~=2.0", "celery[redis]>=5.3"]
"""


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict -> JSON; str -> sent as is
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


def completion(content: str | None, *, refusal: str | None = None, finish_reason: str = "stop") -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if refusal is not None:
        message["refusal"] = refusal
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "test-model",
        "choices": [{"index": 0, "finish_reason": finish_reason, "message": message}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
    }


def ok(content: str | dict[str, Any]) -> Reply:
    return Reply(body=completion(content if isinstance(content, str) else json.dumps(content)))


def error(status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status=status, body={"error": {"message": message, "type": "invalid_request_error"}}, headers=headers or {})


FINGERPRINT_IN_PROMPT = re.compile(r"fingerprint `([0-9a-f]+)`")


def prompt_fingerprints(body: dict[str, Any]) -> list[str]:
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    return FINGERPRINT_IN_PROMPT.findall(user)


def advice_for(body: dict[str, Any], summary: str = "Overall: fix the blocking calls first.") -> Reply:
    """A valid reply with one item per finding in the request (lines null)."""
    items = [
        {"fingerprint": fp, "explanation": f"explanation for {fp}", "fix": f"# fix for {fp}", "priority": "high", "lines": None}
        for fp in prompt_fingerprints(body)
    ]
    return ok({"summary": summary, "items": items})


class FakeLLM:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.auth: list[str | None] = []
        self.replies: deque[Reply | Callable[[dict[str, Any]], Reply]] = deque()
        self.responder: Callable[[dict[str, Any]], Reply] = advice_for
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server API
                length = int(self.headers.get("content-length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                with fake._lock:
                    fake.requests.append(body)
                    fake.paths.append(self.path)
                    fake.auth.append(self.headers.get("authorization"))
                    queued = fake.replies.popleft() if fake.replies else fake.responder
                    fake.in_flight += 1
                    fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
                try:
                    reply = queued(body) if callable(queued) else queued
                    if reply.delay:
                        time.sleep(reply.delay)
                finally:
                    with fake._lock:
                        fake.in_flight -= 1
                payload = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
                data = payload.encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass

        self.server = Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def queue(self, *replies: Reply | Callable[[dict[str, Any]], Reply]) -> None:
        self.replies.extend(replies)

    def user_prompts(self) -> list[str]:
        return [next(m["content"] for m in r["messages"] if m["role"] == "user") for r in self.requests]

    def all_text(self) -> str:
        return json.dumps(self.requests)


@pytest.fixture
def llm_server() -> Any:
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


def make_finding(
    code: str,
    name: str,
    category: str,
    severity: str,
    path: str,
    line: int,
    function: str | None,
    message: str,
    trace: list[TraceStep] | None = None,
    end_line: int | None = None,
) -> Finding:
    return Finding(
        code=code,
        name=name,
        category=category,
        severity=Severity(severity),
        path=path,
        line=line,
        column=5,
        end_line=end_line or line,
        end_column=40,
        message=message,
        function=function,
        trace=trace or [],
        fingerprint=fingerprint(code, path, function, f"{message}:{line}"),
        url=f"https://example.invalid/{code.lower()}",
    )


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


def _rule(code: str, name: str, category: str, severity: str, why: str) -> Rule:
    return Rule(
        code=code,
        name=name,
        category=category,
        severity=Severity(severity),
        summary=name,
        message=name,
        docs=Docs(what=f"Flags {name}.", why=why),
        examples=Examples(),
    )


@pytest.fixture
def rules() -> dict[str, Rule]:
    return {
        r.code: r
        for r in [
            _rule(
                "FR101", "blocking-http-call", "async-blocking", "error",
                "A synchronous HTTP request inside a coroutine stops the event loop until the server answers.\n"
                "Every other request on the worker waits with it.",
            ),
            _rule("FR102", "blocking-sleep", "async-blocking", "error", "time.sleep freezes the whole event loop."),
            _rule("FR201", "untyped-request-body", "validation", "warning", "A dict body skips validation and docs."),
            _rule("FR401", "task-without-retry", "task", "warning", "Network calls fail; tasks need retries."),
            _rule("FR402", "task-swallows-exceptions", "task", "warning", "Swallowed errors hide failed work."),
            _rule("FR603", "hardcoded-secret-key", "security", "warning", "Secrets in code end up in every clone."),
            _rule("FR203", "untyped-response", "validation", "info", "Untyped responses leak fields."),
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
