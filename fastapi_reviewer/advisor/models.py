"""The structured reply the model must give, and what ``advise`` hands back to the caller."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

Priority = Literal["high", "medium", "low"]
PRIORITY_RANK: dict[str, int] = {"high": 0, "medium": 1, "low": 2}


class AdviceItem(BaseModel):
    """The reviewer's note on one finding, tied to it by fingerprint."""

    fingerprint: str = Field(description="the fingerprint of the finding this note is about, copied exactly")
    explanation: str = Field(description="what goes wrong at runtime in this code, and why it matters at this stage")
    fix: str = Field(description="the smallest Python change that fixes it, as a code snippet")
    priority: Priority = Field(description="high, medium or low for a team at this product stage")
    lines: list[int] | None = Field(
        default=None, description="[start, end]: the excerpt lines the fix replaces, or null"
    )

    @field_validator("fingerprint", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @field_validator("priority", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("lines", mode="before")
    @classmethod
    def _span(cls, value: Any) -> Any:
        # small models answer 14, [14] or [20, 14]; keep the meaning, reject the rest
        if isinstance(value, int) and not isinstance(value, bool):
            return [value, value]
        if isinstance(value, (list, tuple)):
            if len(value) == 0:
                return None
            if len(value) == 1:
                return [value[0], value[0]]
            if len(value) == 2:
                return list(value)
            raise ValueError("lines must be [start, end]")
        return value

    @field_validator("lines")
    @classmethod
    def _ordered(cls, value: list[int] | None) -> list[int] | None:
        if value is None:
            return None
        start, end = value
        return [min(start, end), max(start, end)]


class Advice(BaseModel):
    """The whole reply: a short overall assessment and one note per finding worth a note."""

    summary: str = Field(description="two to five sentences: the overall picture and what to do first")
    items: list[AdviceItem] = Field(description="one note per finding, most important first")


class AdviceResult(BaseModel):
    """What the LLM step produced. Never raises: problems are one-line ``warnings``."""

    advice: Advice | None = None
    warnings: list[str] = Field(default_factory=list)
    requests_sent: int = 0  # HTTP requests made, retries and repairs included
    cache_hits: int = 0
    dry_run_text: str | None = None
    findings_sent: list[str] = Field(default_factory=list)  # fingerprints in the prompts, in prompt order
