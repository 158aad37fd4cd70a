"""Test doubles for the LLM step: a local OpenAI-compatible server, canned replies, a small project.

The server is a threaded ``http.server`` on 127.0.0.1 that serves ``POST /v1/chat/completions``: it
records every request body and answers from a queue of canned replies (or from a responder function).
Plain helpers live here (a uniquely named module); fixtures live in conftest.py.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from fastapi_reviewer.catalog import Docs, Examples, Rule
from fastapi_reviewer.findings import Finding, Severity, TraceStep, fingerprint

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

            def do_POST(self) -> None:
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


def make_rule(code: str, name: str, category: str, severity: str, why: str) -> Rule:
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
