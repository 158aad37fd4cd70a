from __future__ import annotations

import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from fastapi_reviewer.advisor import LLMSettings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def test_defaults() -> None:
    s = LLMSettings()
    assert s.enabled is False
    assert s.model == "gpt-4o-mini"
    assert s.base_url is None
    assert s.api_key_env == "OPENAI_API_KEY"
    assert s.stage == "growth"
    assert s.max_findings == 30
    assert s.concurrency == 4
    assert s.cache_dir == Path(".fastapi_review_cache/llm")
    assert s.dry_run is False


def test_reads_kebab_case_table_from_pyproject() -> None:
    doc = tomllib.loads(
        """
        [tool.fastapi-review.llm]
        enabled = true
        model = "llama3.1"
        base-url = "http://127.0.0.1:11434/v1"
        api-key-env = "MY_KEY"
        stage = "enterprise"
        max-findings = 12
        token-budget = 9000
        request-tokens = 3000
        timeout = 12.5
        retries = 1
        temperature = 0.0
        concurrency = 2
        template-dir = "review-prompts"
        cache-dir = ".cache/llm"
        dry-run = true
        """
    )
    s = LLMSettings.model_validate(doc["tool"]["fastapi-review"]["llm"])
    assert (s.enabled, s.model, s.base_url, s.api_key_env) == (True, "llama3.1", "http://127.0.0.1:11434/v1", "MY_KEY")
    assert (s.stage, s.max_findings, s.token_budget, s.request_tokens) == ("enterprise", 12, 9000, 3000)
    assert (s.timeout, s.retries, s.temperature, s.concurrency) == (12.5, 1, 0.0, 2)
    assert s.template_dir == Path("review-prompts")
    assert s.cache_dir == Path(".cache/llm")
    assert s.dry_run is True


def test_python_names_work_too() -> None:
    s = LLMSettings(max_findings=5, base_url="http://x/v1", dry_run=True)
    assert (s.max_findings, s.base_url, s.dry_run) == (5, "http://x/v1", True)


@pytest.mark.parametrize(
    "bad",
    [{"unknown-key": 1}, {"stage": "startup"}, {"concurrency": 0}, {"timeout": 0}, {"max-findings": -1}],
)
def test_rejects_bad_config(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        LLMSettings.model_validate(bad)


def test_base_url_falls_back_to_env(monkeypatch: pytest.MonkeyPatch) -> None:
    assert LLMSettings().resolved_base_url() == "https://api.openai.com/v1"
    monkeypatch.setenv("OPENAI_BASE_URL", "http://10.1.2.3:8000/v1")
    assert LLMSettings().resolved_base_url() == "http://10.1.2.3:8000/v1"
    assert LLMSettings(base_url="http://other/v1").resolved_base_url() == "http://other/v1"


def test_api_key_from_configured_env_and_local_servers_need_none(monkeypatch: pytest.MonkeyPatch) -> None:
    assert LLMSettings().api_key() is None
    assert LLMSettings(base_url="http://127.0.0.1:8080/v1").api_key() == "no-key-required"
    assert LLMSettings(base_url="http://localhost:11434/v1").api_key() == "no-key-required"
    monkeypatch.setenv("TEST_LLM_KEY", "k-123")
    assert LLMSettings(api_key_env="TEST_LLM_KEY").api_key() == "k-123"


def test_relative_dirs_resolve_against_root(tmp_path: Path) -> None:
    s = LLMSettings(template_dir="prompts-mine")
    assert s.resolved_cache_dir(tmp_path) == tmp_path / ".fastapi_review_cache" / "llm"
    assert s.resolved_template_dir(tmp_path) == tmp_path / "prompts-mine"
    assert LLMSettings(cache_dir=tmp_path / "abs").resolved_cache_dir(Path("/elsewhere")) == tmp_path / "abs"
