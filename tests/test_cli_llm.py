"""The LLM step seen from the command line: opt-in, never changes the exit code or the static report."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

from typer.testing import CliRunner

from fastapi_reviewer.cli import app

BAD = 'import requests\n\nsecret_key = "sk-live-abcdefghijklmnop1234"\n\nasync def handler():\n    return requests.get("https://example.com")\n'


def _project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\ndependencies = ['fastapi>=0.110']\n")
    (tmp_path / "bad.py").write_text(BAD)
    return tmp_path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _invoke(tmp_path: Path, *args: str):
    old = Path.cwd()
    os.chdir(tmp_path)
    try:
        env = {"OPENAI_API_KEY": "test-key", "OPENAI_BASE_URL": ""}
        return CliRunner().invoke(app, ["check", "--no-cache", *args], env=env, catch_exceptions=False)
    finally:
        os.chdir(old)


def test_dry_run_prints_the_prompt_and_sends_nothing(tmp_path):
    _project(tmp_path)
    result = _invoke(tmp_path, ".", "--llm-dry-run", "--base-url", f"http://127.0.0.1:{_free_port()}/v1", "--color", "never")
    assert result.exit_code == 1
    assert "FR101" in result.stdout and "nothing was sent" in result.stdout
    assert "sk-live-abcdefghijklmnop1234" not in result.stdout
    assert "warning" not in result.stderr


def test_unreachable_server_leaves_the_static_report_and_exit_code(tmp_path):
    _project(tmp_path)
    url = f"http://127.0.0.1:{_free_port()}/v1"
    result = _invoke(tmp_path, ".", "--llm", "--base-url", url, "--llm-timeout", "2", "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert [f["code"] for f in data["findings"]] == ["FR101"]
    assert "advice" not in data
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1, result.stderr


def test_llm_settings_from_config_are_validated(tmp_path):
    _project(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n[tool.fastapi-review.llm]\nstage = 'startup'\n")
    result = _invoke(tmp_path, ".")
    assert result.exit_code == 2
    assert "llm.stage" in result.stderr
