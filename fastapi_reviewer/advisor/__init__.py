"""The optional LLM step ("the reviewer's voice", ``--llm``).

Cheap to import: nothing loads until a name is used (``LLMSettings`` is part of every run's
config); only pydantic and the standard library load with the models. ``openai``, ``jinja2`` and ``rich``
are imported when ``advise`` actually runs.

    from fastapi_reviewer.advisor import LLMSettings, advise, render_advice_markdown, advice_to_json

    result = advise(report, root=Path.cwd(), settings=LLMSettings(enabled=True), rules=catalog.by_code())
    for warning in result.warnings:
        print(warning, file=sys.stderr)
    if result.advice:
        report.advice = advice_to_json(result.advice)

``advise`` never raises and never decides the exit code: every problem is a one-line warning.
"""

from __future__ import annotations

import importlib
from typing import Any

# part of every cache key: bump it whenever prompts/ or the reply model change meaning
TEMPLATE_VERSION = "1"

_WHERE = {
    "STAGES": "settings", "LLMSettings": "settings", "Stage": "settings",
    "Advice": "models", "AdviceItem": "models", "AdviceResult": "models",
    "advice_to_json": "render", "render_advice_markdown": "render",
    "advise": "api", "advise_async": "api",
}

__all__ = ["TEMPLATE_VERSION", *_WHERE]


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{where}"), name)
    globals()[name] = value
    return value
