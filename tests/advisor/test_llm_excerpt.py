from __future__ import annotations

from pathlib import Path

from llm_fakes import make_finding

from fastapi_reviewer.advisor.excerpt import MAX_EXCERPT_LINES, SourceCache, build_excerpt
from fastapi_reviewer.findings import Finding


def _finding(path: str, line: int, function: str | None) -> Finding:
    return make_finding("FR101", "blocking-http-call", "async-blocking", "error", path, line, function, "m")


def test_enclosing_function_with_decorator_and_real_numbers(project: Path) -> None:
    ex = build_excerpt(_finding("app/weather.py", 18, "get_weather"), SourceCache(project))
    assert ex is not None
    assert (ex.start, ex.end) == (15, 20)
    lines = ex.text.splitlines()
    assert lines[0] == '15 | @router.get("/weather/{city}")'
    assert lines[1] == "16 | async def get_weather(city: str):"
    assert lines[-1] == "20 |     return response.json()"
    assert ex.scope == "function get_weather"
    # secrets inside the function are redacted
    assert "bearer-token-value" not in ex.text
    assert '17 |     headers = {"Authorization": "Bearer ***REDACTED***"}' in lines


def test_without_function_shows_eight_lines_around(project: Path) -> None:
    ex = build_excerpt(_finding("app/weather.py", 12, None), SourceCache(project))
    assert ex is not None
    assert (ex.start, ex.end) == (4, 20)
    assert ex.scope == "lines 4-20"
    assert ex.text.splitlines()[0] == " 4 | from fastapi import APIRouter"
    assert 'OPENAI_API_KEY = "***REDACTED***"' in ex.text
    assert "postgresql://app:***REDACTED***@db:5432/app" in ex.text


def test_clamped_at_file_start(project: Path) -> None:
    ex = build_excerpt(_finding("app/weather.py", 2, None), SourceCache(project))
    assert ex is not None and (ex.start, ex.end) == (1, 10)


def test_long_function_is_capped_around_the_finding(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(200))
    (tmp_path / "big.py").write_text(f"async def big():\n{body}\n    return 1\n")
    ex = build_excerpt(_finding("big.py", 150, "big"), SourceCache(tmp_path))
    assert ex is not None
    assert ex.end - ex.start + 1 == MAX_EXCERPT_LINES
    assert ex.start <= 150 <= ex.end
    assert ex.scope == f"function big (lines {ex.start}-{ex.end} of 1-202)"
    assert ex.text.splitlines()[150 - ex.start] == "150 |     x148 = 148"


def test_innermost_function_is_used(tmp_path: Path) -> None:
    (tmp_path / "n.py").write_text("def outer():\n    a = 1\n    async def inner():\n        b = 2\n    return inner\n")
    ex = build_excerpt(_finding("n.py", 4, "outer.inner"), SourceCache(tmp_path))
    assert ex is not None and (ex.start, ex.end) == (3, 4)


def test_unparsable_file_falls_back_to_context_lines(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("def f(:\n    pass\n" + "\n".join(f"y{i} = {i}" for i in range(30)))
    ex = build_excerpt(_finding("broken.py", 15, "f"), SourceCache(tmp_path))
    assert ex is not None and (ex.start, ex.end) == (7, 23)


def test_missing_file_has_no_excerpt(tmp_path: Path) -> None:
    assert build_excerpt(_finding("nope.py", 3, None), SourceCache(tmp_path)) is None
