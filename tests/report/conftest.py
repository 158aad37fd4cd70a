"""Shared data for the report-format tests: a few rules, a small project on disk and a report about it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fastapi_reviewer.catalog import Docs, Example, Examples, Rule
from fastapi_reviewer.findings import FileError, Finding, Report, Severity, TraceStep

GOLDEN = Path(__file__).parent / "golden"

WEATHER = '''\
"""Weather endpoints."""
import requests
from fastapi import APIRouter

from app.services.forecast import fetch_forecast

router = APIRouter()


@router.get("/weather/{city}")
async def get_weather(city: str):
    data = fetch_forecast(city)
    raw = requests.get(f"https://wttr.in/{city}", timeout=5)
    return {"city": city, "data": data, "raw": raw.json()}


@router.post("/weather")
async def post_weather(payload: dict):
    with open("/tmp/weather.log", "a") as fh:
        fh.write(str(payload))
    return payload
'''

FORECAST = """\
import requests


def fetch_forecast(city):
    # the blocking call the trace ends at
    return requests.get("https://api.example/" + city).json()
"""

MAIN = """\
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

app = FastAPI()
app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)
"""


def make_rule(code: str, name: str, category: str, severity: Severity, summary: str, hint: str | None = None) -> Rule:
    return Rule(
        code=code,
        name=name,
        category=category,
        severity=severity,
        summary=summary,
        message="{call} blocks",
        hint=hint,
        docs=Docs(what=f"Checks for {summary.lower()}.", why="It hurts under load: <every> request waits."),
        examples=Examples(
            invalid=[Example(code="async def f():\n    requests.get(url)")],
            valid=[Example(code="async def f():\n    await client.get(url)")],
        ),
    )


@pytest.fixture
def rules() -> dict[str, Rule]:
    items = [
        make_rule(
            "FR101",
            "blocking-http-call",
            "async-blocking",
            Severity.error,
            "Blocking HTTP call in a coroutine",
            hint="use httpx.AsyncClient",
        ),
        make_rule("FR104", "blocking-file-io", "async-blocking", Severity.warning, "Blocking file I/O in a coroutine"),
        make_rule("FR201", "untyped-request-body", "validation", Severity.warning, "Request body typed as dict"),
        make_rule("FR503", "unbounded-list-query", "performance", Severity.info, "Unbounded list query"),
        make_rule("FR601", "cors-wildcard-credentials", "security", Severity.error, "CORS wildcard with credentials"),
    ]
    return {r.code: r for r in items}


def finding(
    code: str,
    name: str,
    category: str,
    severity: Severity,
    path: str,
    line: int,
    column: int,
    end_column: int,
    message: str,
    *,
    end_line: int | None = None,
    function: str | None = None,
    hint: str | None = None,
    trace: list[TraceStep] | None = None,
    fingerprint: str = "",
) -> Finding:
    return Finding(
        code=code,
        name=name,
        category=category,
        severity=severity,
        path=path,
        line=line,
        column=column,
        end_line=end_line if end_line is not None else line,
        end_column=end_column,
        message=message,
        function=function,
        hint=hint,
        trace=trace or [],
        fingerprint=fingerprint,
        url=f"https://github.com/fastapi-review/fastapi-review/blob/main/docs/rules.md#{code.lower()}",
    )


def sample_findings() -> list[Finding]:
    return [
        finding(
            "FR101",
            "blocking-http-call",
            "async-blocking",
            Severity.error,
            "app/api/weather.py",
            12,
            12,
            32,
            "fetch_forecast calls requests.get, which blocks the event loop inside async route get_weather",
            function="get_weather",
            hint="use httpx.AsyncClient",
            trace=[
                TraceStep(path="app/api/weather.py", line=12, function="get_weather", call="fetch_forecast"),
                TraceStep(path="app/services/forecast.py", line=6, function="fetch_forecast", call="requests.get"),
            ],
            fingerprint="a1b2c3d4e5f6a7b8c9d0",
        ),
        finding(
            "FR101",
            "blocking-http-call",
            "async-blocking",
            Severity.error,
            "app/api/weather.py",
            13,
            11,
            62,
            "requests.get blocks the event loop inside async route get_weather",
            function="get_weather",
            hint="use httpx.AsyncClient",
            fingerprint="0f1e2d3c4b5a69788796",
        ),
        finding(
            "FR201",
            "untyped-request-body",
            "validation",
            Severity.warning,
            "app/api/weather.py",
            18,
            24,
            37,
            "request body `payload` is typed `dict`: declare a Pydantic model",
            function="post_weather",
            fingerprint="1111aaaa2222bbbb3333",
        ),
        finding(
            "FR104",
            "blocking-file-io",
            "async-blocking",
            Severity.warning,
            "app/api/weather.py",
            19,
            10,
            7,
            "open() and fh.write() block the event loop inside async route post_weather",
            end_line=20,
            function="post_weather",
            fingerprint="4444cccc5555dddd6666",
        ),
        finding(
            "FR601",
            "cors-wildcard-credentials",
            "security",
            Severity.error,
            "app/main.py",
            5,
            1,
            80,
            "CORS allows any origin (*) together with credentials",
            fingerprint="7777eeee8888ffff9999",
        ),
    ]


def sample_report(findings: list[Finding] | None = None, advice: dict | None = None) -> Report:
    report = Report.build(
        version="0.1.0",
        files=4,
        findings=sample_findings() if findings is None else findings,
        errors=[FileError(path="app/broken.py", line=3, message="cannot parse: invalid syntax")],
    )
    report.advice = advice
    return report


SAMPLE_ADVICE = {
    "summary": "Two calls block the event loop; fix those first.\n\nThe CORS setting is a *security* risk.",
    "items": [
        {
            "fingerprint": "a1b2c3d4e5f6a7b8c9d0",
            "explanation": "`fetch_forecast` is sync and uses `requests`.",
            "fix": "Use an async client:\n\n```python\nasync with httpx.AsyncClient() as c:\n    r = await c.get(url)\n```",
            "priority": "high",
        },
        {
            "fingerprint": "7777eeee8888ffff9999",
            "explanation": "Browsers send cookies to <any> origin.",
            "fix": "List the allowed origins.",
            "priority": "medium",
        },
    ],
}


@pytest.fixture
def report() -> Report:
    return sample_report()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "app" / "api").mkdir(parents=True)
    (root / "app" / "services").mkdir(parents=True)
    (root / "app" / "api" / "weather.py").write_text(WEATHER)
    (root / "app" / "services" / "forecast.py").write_text(FORECAST)
    (root / "app" / "main.py").write_text(MAIN)
    return root


def check_golden(name: str, text: str) -> None:
    """Compare ``text`` with ``golden/<name>``; ``UPDATE_GOLDEN=1`` rewrites the file instead."""
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="")
        return
    assert path.exists(), f"golden file {path} is missing: run with UPDATE_GOLDEN=1 to create it"
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"output differs from {path}; if the change is intended, rerun with UPDATE_GOLDEN=1"


@pytest.fixture
def golden():
    """``golden(name, text)``: compare with (or, with UPDATE_GOLDEN=1, rewrite) ``golden/<name>``."""
    return check_golden


@pytest.fixture
def make_report():
    """``make_report(findings=None, advice=None)``: the sample report, or one with other findings/advice."""
    return sample_report


@pytest.fixture
def make_finding():
    """``make_finding(code, name, category, severity, path, line, column, end_column, message, **kw)``."""
    return finding


@pytest.fixture
def advice() -> dict:
    import copy

    return copy.deepcopy(SAMPLE_ADVICE)
