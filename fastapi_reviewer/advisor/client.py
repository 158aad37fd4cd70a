"""Talking to an OpenAI-compatible server: structured replies with fallbacks, retries, one repair.

``openai`` is imported inside the functions that send requests, never at module import time.

Reply formats, tried in order and remembered for the rest of the run once a server rejects one:

1. ``chat.completions.parse(response_format=Advice)``: a strict JSON schema (OpenAI, vLLM, recent llama.cpp);
2. ``response_format={"type": "json_object"}``: JSON mode (llama-cpp-python, Ollama, older servers);
3. plain text, validated with pydantic.

A reply that does not validate gets exactly one repair request that quotes the validation error.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from pydantic import ValidationError

from fastapi_reviewer.advisor.models import Advice
from fastapi_reviewer.advisor.redact import redact
from fastapi_reviewer.advisor.settings import LLMSettings

if TYPE_CHECKING:
    from collections.abc import Iterable

    import openai
    from openai.types.chat import ChatCompletionMessageParam

MODES = ("schema", "json_object", "text")
FORMAT_WORDS = ("response_format", "json_schema", "json_object", "schema", "structured output")
RETRY_STATUSES = frozenset({408, 409, 429})
MAX_RETRY_AFTER = 10.0
MAX_ECHOED_REPLY = 6000


class RequestFailed(Exception):
    """One request could not produce advice. ``fatal``: the others would fail the same way."""

    def __init__(self, reason: str, *, fatal: bool = False) -> None:
        super().__init__(reason)
        self.reason = one_line(reason)
        self.fatal = fatal


def one_line(text: str, limit: int = 240) -> str:
    text = redact(" ".join(str(text).split()))
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def extract_json(content: str) -> str:
    """The JSON object in a reply that may wrap it in prose or a ``` fence."""
    text = content.strip()
    fence = re.search(r"```(?:json)?\s*(\{.*\})\s*```", text, re.DOTALL)
    if fence:
        return fence.group(1)
    start, end = text.find("{"), text.rfind("}")
    if start != -1 and end > start:
        return text[start : end + 1]
    return text


def parse_advice(content: str) -> Advice:
    """Validate a reply; raises ``ValueError`` (pydantic's ``ValidationError`` is one) when it is not advice."""
    if not content.strip():
        raise ValueError("the reply was empty")
    return Advice.model_validate_json(extract_json(content))


def describe_invalid(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        parts = []
        for err in exc.errors()[:6]:
            where = ".".join(str(p) for p in err.get("loc", ())) or "reply"
            parts.append(f"{where}: {err.get('msg', 'invalid')}")
        more = exc.error_count() - len(parts)
        return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")
    return str(exc)


def repair_prompt(problem: str) -> str:
    return (
        "Your reply could not be used: "
        f"{problem}.\n"
        "Answer again with only the JSON object, no prose and no code fence, in exactly this shape:\n"
        '{"summary": "...", "items": [{"fingerprint": "...", "explanation": "...", "fix": "...", '
        '"priority": "high", "lines": [12, 14]}]}\n'
        '"priority" is "high", "medium" or "low"; "lines" is [start, end] or null.'
    )


def _mentions_format(exc: Exception) -> bool:
    text = str(exc).lower()
    body = getattr(exc, "body", None)
    if body is not None:
        try:
            text += " " + json.dumps(body).lower()
        except (TypeError, ValueError):
            text += " " + str(body).lower()
    return any(word in text for word in FORMAT_WORDS)


def _retry_after(exc: Exception) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    for header, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(header)
        if value is None:
            continue
        try:
            seconds = float(value) / divisor
        except ValueError:
            continue
        if 0 <= seconds:
            return min(seconds, MAX_RETRY_AFTER)
    return None


@dataclass
class ModeState:
    """The reply format the server accepts, shared by all requests of a run."""

    mode: str = "schema"

    def downgrade(self, failed: str) -> bool:
        if self.mode != failed:
            return True  # another request already moved on
        index = MODES.index(failed)
        if index + 1 >= len(MODES):
            return False
        self.mode = MODES[index + 1]
        return True


class Requester:
    def __init__(self, client: openai.AsyncOpenAI, settings: LLMSettings, base_url: str) -> None:
        self.client = client
        self.settings = settings
        self.base_url = base_url
        self.state = ModeState()
        self.sent = 0

    # -- one HTTP request -------------------------------------------------------------------------
    def _options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"model": self.settings.model}
        if self.settings.temperature is not None:
            options["temperature"] = self.settings.temperature
        if self.settings.max_output_tokens is not None:
            options["max_tokens"] = self.settings.max_output_tokens
        return options

    async def _call(self, mode: str, messages: list[dict[str, str]]) -> tuple[str, Advice | None]:
        import openai

        self.sent += 1
        completions = self.client.chat.completions
        sendable = cast("Iterable[ChatCompletionMessageParam]", messages)
        if mode == "schema":
            owner = parse_owner(self.client)
            raw = await owner.with_raw_response.parse(messages=sendable, response_format=Advice, **self._options())
            try:
                parsed = raw.parse()
                if inspect.isawaitable(parsed):  # the SDK announces parse() becomes a coroutine
                    parsed = await parsed
            except (ValidationError, openai.LengthFinishReasonError):
                return _raw_content(raw.http_response.content), None  # invalid or cut off: validated and repaired below
            except openai.ContentFilterFinishReasonError as exc:
                raise RequestFailed("the server's content filter blocked the reply") from exc
            if not parsed.choices:
                raise RequestFailed("the server sent a reply without choices")
            message = parsed.choices[0].message
            if message.refusal:
                raise RequestFailed(f"the model refused: {message.refusal}")
            return message.content or "", message.parsed
        extra: dict[str, Any] = {"response_format": {"type": "json_object"}} if mode == "json_object" else {}
        completion = await completions.create(messages=sendable, **self._options(), **extra)
        if not completion.choices:
            raise RequestFailed("the server sent a reply without choices")
        choice = completion.choices[0]
        if choice.finish_reason == "content_filter":
            raise RequestFailed("the server's content filter blocked the reply")
        refusal = getattr(choice.message, "refusal", None)
        if refusal:
            raise RequestFailed(f"the model refused: {refusal}")
        return choice.message.content or "", None

    # -- retries and format fallbacks --------------------------------------------------------------
    async def _attempt(self, mode: str, messages: list[dict[str, str]]) -> tuple[str, Advice | None]:
        """One reply in ``mode``, retrying 429/5xx/timeouts with exponential backoff."""
        import openai

        attempt = 0
        guard = self.settings.timeout * 1.5 + 1.0  # the SDK's timeout is per phase; this bounds the whole call
        while True:
            try:
                return await asyncio.wait_for(self._call(mode, messages), timeout=guard)
            except (openai.APITimeoutError, asyncio.TimeoutError, openai.APIStatusError) as exc:
                retryable = not isinstance(exc, openai.APIStatusError) or (
                    exc.status_code in RETRY_STATUSES or exc.status_code >= 500
                )
                if not retryable or attempt >= self.settings.retries:
                    raise
                delay = _retry_after(exc)
                if delay is None:
                    delay = self.settings.retry_backoff * (2**attempt)
                attempt += 1
                await asyncio.sleep(delay)

    async def _complete(self, messages: list[dict[str, str]]) -> tuple[str, Advice | None]:
        import openai

        while True:
            mode = self.state.mode
            try:
                return await self._attempt(mode, messages)
            except openai.APIStatusError as exc:
                rejected_format = (
                    400 <= exc.status_code < 500
                    and exc.status_code not in (401, 403, 404, 429)
                    and mode != "text"
                    and _mentions_format(exc)
                )
                if rejected_format and self.state.downgrade(mode):
                    continue
                raise

    async def ask(self, messages: list[dict[str, str]]) -> Advice:
        """Advice for one request; raises ``RequestFailed`` with a one-line reason."""
        try:
            content, parsed = await self._complete(messages)
            if parsed is not None:
                return parsed
            try:
                return parse_advice(content)
            except ValueError as exc:
                problem = describe_invalid(exc)
            repair = messages + [
                {"role": "assistant", "content": content[:MAX_ECHOED_REPLY]},
                {"role": "user", "content": repair_prompt(problem)},
            ]
            content, parsed = await self._complete(repair)
            if parsed is not None:
                return parsed
            try:
                return parse_advice(content)
            except ValueError as exc:
                raise RequestFailed(
                    f"the model's reply was not valid advice JSON, even after one repair request ({describe_invalid(exc)})"
                ) from exc
        except RequestFailed:
            raise
        except Exception as exc:
            raise self.explain(exc) from exc

    def explain(self, exc: Exception) -> RequestFailed:
        import openai

        s = self.settings
        attempts = f"after {s.retries + 1} attempts" if s.retries else "(no retries configured)"
        if isinstance(exc, (openai.APITimeoutError, asyncio.TimeoutError)):
            return RequestFailed(f"no reply from {self.base_url} within {s.timeout:g} s, {attempts}")
        if isinstance(exc, openai.APIConnectionError):
            cause = exc.__cause__ or exc.__context__
            detail = f" ({type(cause).__name__}: {cause})" if cause else ""
            return RequestFailed(f"cannot reach {self.base_url}{detail}", fatal=True)
        if isinstance(exc, openai.AuthenticationError):
            return RequestFailed(f"{self.base_url} rejected the API key from ${s.api_key_env} (401)", fatal=True)
        if isinstance(exc, openai.PermissionDeniedError):
            return RequestFailed(f"{self.base_url} denied access (403): {_message(exc)}", fatal=True)
        if isinstance(exc, openai.NotFoundError):
            return RequestFailed(f"model {s.model!r} or its endpoint not found at {self.base_url} (404)", fatal=True)
        if isinstance(exc, openai.APIStatusError):
            if exc.status_code == 429:
                return RequestFailed(f"rate limited by {self.base_url} (429) {attempts}")
            if exc.status_code >= 500:
                return RequestFailed(f"server error from {self.base_url} ({exc.status_code}) {attempts}")
            return RequestFailed(f"{self.base_url} rejected the request ({exc.status_code}): {_message(exc)}")
        return RequestFailed(f"unexpected {type(exc).__name__}: {exc}")


def parse_owner(client: Any) -> Any:
    """Where ``parse`` lives: ``client.chat.completions`` (recent releases, 3.x) or ``client.beta.chat.completions`` (1.40+)."""
    completions = client.chat.completions
    if hasattr(completions, "parse"):
        return completions
    return client.beta.chat.completions


def _message(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
        if isinstance(inner, str):
            return inner
    return getattr(exc, "message", None) or str(exc)


def _raw_content(body: bytes) -> str:
    try:
        data = json.loads(body)
        return str(data["choices"][0]["message"].get("content") or "")
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return body.decode("utf-8", errors="replace")
