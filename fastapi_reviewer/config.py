"""Settings: `[tool.fastapi-review]` in the nearest pyproject.toml, then the command line on top."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from fastapi_reviewer.advisor.settings import LLMSettings
from fastapi_reviewer.findings import Severity
from fastapi_reviewer.warm import DEFAULT_CACHE_DIR

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FORMATS = ("text", "concise", "json", "sarif", "github", "gitlab", "junit", "markdown", "html")


class ConfigError(Exception):
    """A configuration problem; the message names the file and the key."""


def _kebab(name: str) -> str:
    return name.replace("_", "-")


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=_kebab, populate_by_name=True, validate_assignment=True)

    select: list[str] = Field(default_factory=lambda: ["ALL"])
    ignore: list[str] = Field(default_factory=list)
    extend_select: list[str] = Field(default_factory=list)
    format: list[str] = Field(default_factory=lambda: ["text"])
    output_file: str | None = None
    fail_on: Severity = Severity.info
    exit_zero: bool = False
    color: Literal["auto", "always", "never"] = "auto"
    cache: bool = True
    cache_dir: str = DEFAULT_CACHE_DIR
    jobs: int = Field(default=0, ge=0)  # 0: one per CPU
    statistics: bool = False
    quiet: bool = False
    show_source: bool = True
    exclude: list[str] = Field(default_factory=list)
    extend_exclude: list[str] = Field(default_factory=list)
    force_exclude: bool = False
    respect_gitignore: bool = True
    per_file_ignores: dict[str, list[str]] = Field(default_factory=dict)
    extend_blocking_calls: dict[str, str] = Field(default_factory=dict)
    severity: dict[str, Severity] = Field(default_factory=dict)
    pydantic_version: int | None = Field(default=None, ge=1, le=2)
    baseline: str | None = None  # report only findings not in this baseline file (relative to the config file)
    llm: LLMSettings = Field(default_factory=LLMSettings)

    @field_validator("format", mode="before")
    @classmethod
    def _format_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("format")
    @classmethod
    def _known_formats(cls, value: list[str]) -> list[str]:
        for item in value:
            name = item.split("=", 1)[0]
            if name not in FORMATS:
                raise ValueError(f"unknown format {name!r}; expected one of {', '.join(FORMATS)}")
        return value


def find_pyproject(start: Path) -> Path | None:
    current = start.resolve()
    if current.is_file():
        current = current.parent
    for folder in (current, *current.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def read_table(path: Path, required: bool = False) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    table = data.get("tool", {}).get("fastapi-review")
    if table is None:
        if required and path.name != "pyproject.toml":  # a dedicated file holds the table at the top level
            return data
        return {}
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.fastapi-review] must be a table")
    return table


def _explain(exc: ValidationError, source: str) -> ConfigError:
    problems = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(table)"
        if err["type"] == "extra_forbidden":
            problems.append(f"unknown key {key!r}")
        else:
            problems.append(f"{key!r}: {err['msg']}")
    return ConfigError(f"{source}: " + "; ".join(problems))


def load_settings(config_path: Path | None, target: Path, overrides: dict[str, Any]) -> tuple[Settings, Path | None]:
    """Config file values, then command-line overrides (only the options actually given)."""
    path = config_path if config_path is not None else find_pyproject(target)
    table: dict[str, Any] = {}
    if path is not None:
        if config_path is not None and not path.is_file():
            raise ConfigError(f"{path}: config file not found")
        table = read_table(path, required=config_path is not None)
    source = f"{path} [tool.fastapi-review]" if path is not None else "configuration"
    try:
        settings = Settings.model_validate(table)
    except ValidationError as exc:
        raise _explain(exc, source) from exc
    try:
        for key, value in overrides.items():
            if key == "llm":
                given = {k: v for k, v in (value or {}).items() if v is not None}
                if given:
                    settings.llm = LLMSettings.model_validate({**settings.llm.model_dump(), **given})
            elif value is not None:
                setattr(settings, key, value)
    except ValidationError as exc:
        raise _explain(exc, "command line") from exc
    return settings, path
