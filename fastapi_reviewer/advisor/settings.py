"""Settings of the LLM step, read from ``[tool.fastapi-review.llm]`` (kebab-case keys) or built by the CLI.

Only pydantic is imported here: a plain scan builds these settings without paying for the LLM client.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

Stage = Literal["mvp", "growth", "enterprise"]
STAGES: tuple[str, ...] = ("mvp", "growth", "enterprise")

DEFAULT_BASE_URL = "https://api.openai.com/v1"


def _kebab(name: str) -> str:
    return name.replace("_", "-")


class LLMSettings(BaseModel):
    """How the reviewer's voice is produced: which server, which model, and how much may leave the machine."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, alias_generator=_kebab)

    enabled: bool = False
    model: str = "gpt-4o-mini"
    base_url: str | None = Field(default=None, description="None: $OPENAI_BASE_URL, else the OpenAI API")
    api_key_env: str = Field(default="OPENAI_API_KEY", min_length=1, description="name of the variable holding the key")
    stage: Stage = "growth"
    max_findings: int = Field(default=30, ge=0, description="findings sent per run, most severe first")
    token_budget: int = Field(default=24_000, ge=200, description="prompt tokens per run (estimated at 4 chars/token)")
    request_tokens: int = Field(default=8_000, ge=200, description="prompt tokens per request")
    timeout: float = Field(default=60.0, gt=0, description="seconds per request")
    retries: int = Field(default=2, ge=0, le=10, description="extra attempts after a 429, 5xx or timeout")
    retry_backoff: float = Field(default=0.5, ge=0, description="seconds before the first retry; doubles each time")
    temperature: float | None = Field(default=0.2, ge=0, le=2, description="None: not sent (some models reject it)")
    max_output_tokens: int | None = Field(
        default=None, ge=1, description="reply cap, sent as max_tokens; None: not sent (OpenAI reasoning models reject it)"
    )
    concurrency: int = Field(default=4, ge=1, le=64)
    template_dir: Path | None = Field(default=None, description="your own system.md.j2 / review.md.j2 (per-file fallback)")
    cache: bool = True
    cache_dir: Path = Path(".fastapi_review_cache/llm")
    dry_run: bool = False

    def resolved_base_url(self) -> str:
        """The server to talk to: the setting, else ``$OPENAI_BASE_URL``, else the OpenAI API."""
        return self.base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL

    def api_key(self) -> str | None:
        """The key from the configured environment variable; local servers need none."""
        key = os.environ.get(self.api_key_env, "").strip()
        if key:
            return key
        if is_local_url(self.resolved_base_url()):
            return "no-key-required"  # llama.cpp, Ollama, vLLM on this machine ignore the key
        return None

    def resolved_cache_dir(self, root: Path) -> Path:
        return self.cache_dir if self.cache_dir.is_absolute() else root / self.cache_dir

    def resolved_template_dir(self, root: Path) -> Path | None:
        if self.template_dir is None:
            return None
        return self.template_dir if self.template_dir.is_absolute() else root / self.template_dir


def is_local_url(url: str) -> bool:
    """True when the URL names this machine (a loopback address or localhost)."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
