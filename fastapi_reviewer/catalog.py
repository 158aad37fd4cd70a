"""The rule catalog: rule metadata, docs, examples and callable lists, loaded from ``rules/``.

``rules/`` is data, one TOML file per rule (``rules/<category>/FR101-blocking-http-call.toml``) plus
``rules/types.toml`` (what library factories return, re-exported names).  It ships inside the wheel
as ``fastapi_reviewer/rules``; in a source checkout it is read from the repository root.
"""

from __future__ import annotations

import functools
import re
import sys
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from fastapi_reviewer.findings import Severity

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

DOCS_URL = "https://github.com/fastapi-review/fastapi-review/blob/main/docs/rules.md#{code}"


class CatalogError(Exception):
    pass


class Example(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str
    title: str | None = None
    config: dict = Field(default_factory=dict)  # [tool.fastapi-review] settings the example runs with


class Examples(BaseModel):
    model_config = ConfigDict(extra="forbid")
    invalid: list[Example] = Field(default_factory=list)
    valid: list[Example] = Field(default_factory=list)


class Docs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    what: str
    why: str
    notes: str | None = None
    fix: str | None = None  # prose for "Use instead" when the good example needs words


class CallGroup(BaseModel):
    """Callables a rule matches, with the alternative to suggest."""

    model_config = ConfigDict(extra="forbid")
    names: list[str]
    hint: str
    label: str | None = None  # what kind of call this is ("requests", "sync redis")
    skip_kwargs: dict[str, str] = Field(default_factory=dict)  # not blocking with these keywords
    skip_with: list[str] = Field(default_factory=list)  # not matched when any of these keywords is passed
    dedupe_receiver: bool = False  # silent when the receiver was built by a call already reported


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str
    name: str
    category: str
    severity: Severity
    summary: str
    message: str
    hint: str | None = None
    docs: Docs
    examples: Examples
    calls: list[CallGroup] = Field(default_factory=list)
    source: str = ""

    @property
    def url(self) -> str:
        return DOCS_URL.format(code=self.code.lower())

    @property
    def example(self) -> str | None:
        return self.examples.invalid[0].code if self.examples.invalid else None

    @property
    def use_instead(self) -> str | None:
        return self.examples.valid[0].code if self.examples.valid else None

    def markdown(self) -> str:
        """The rule's docs, in the headings ruff uses."""
        parts = [f"# {self.name} ({self.code})", "", f"Category: `{self.category}` · default severity: `{self.severity.value}`", ""]
        parts += ["## What it does", self.docs.what.strip(), "", "## Why is this bad?", self.docs.why.strip(), ""]
        if self.example:
            parts += ["## Example", "```python", self.example.strip(), "```", ""]
        if self.use_instead:
            parts += ["Use instead:"]
            if self.docs.fix:
                parts += [self.docs.fix.strip(), ""]
            parts += ["```python", self.use_instead.strip(), "```", ""]
        if self.docs.notes:
            parts += ["## Notes", self.docs.notes.strip(), ""]
        return "\n".join(parts).rstrip() + "\n"


class TypeCatalog(BaseModel):
    model_config = ConfigDict(extra="forbid")
    factories: dict[str, str] = Field(default_factory=dict)
    aliases: dict[str, str] = Field(default_factory=dict)
    offload: dict[str, int] = Field(default_factory=dict)  # callable -> index of the function argument
    decorated: dict[str, str] = Field(default_factory=dict)  # decorator -> type the decorated function becomes


class Catalog(BaseModel):
    rules: list[Rule]
    types: TypeCatalog

    def by_code(self) -> dict[str, Rule]:
        return {r.code: r for r in self.rules}

    def find(self, key: str) -> Rule | None:
        key = key.strip()
        for rule in self.rules:
            if rule.code.lower() == key.lower() or rule.name == key.lower():
                return rule
        return None

    def select(self, selector: str) -> list[Rule]:
        """Rules a selector names: a code, a code prefix (FR1, FR10), a kebab name, ALL, or a category."""
        sel = selector.strip()
        if sel.upper() == "ALL":
            return list(self.rules)
        if re.fullmatch(r"[A-Za-z]+[0-9]*", sel):
            matched = [r for r in self.rules if r.code.upper().startswith(sel.upper())]
            if matched:
                return matched
        return [r for r in self.rules if r.name == sel.lower() or r.category == sel.lower()]


def rules_dir() -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here / "rules", here.parent / "rules"):
        if (candidate / "types.toml").is_file():
            return candidate
    raise CatalogError(f"rule catalog not found next to {here}")


def _load_toml(path: Path) -> dict:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CatalogError(f"{path}: {exc}") from exc


@functools.lru_cache(maxsize=4)
def load_catalog(directory: str | None = None) -> Catalog:
    base = Path(directory) if directory else rules_dir()
    rules: list[Rule] = []
    for path in sorted(base.glob("*/FR*.toml")):
        data = _load_toml(path)
        try:
            rule = Rule(**data, source=str(path.relative_to(base)))
        except Exception as exc:  # noqa: BLE001 - pydantic's message is precise enough
            raise CatalogError(f"{path}: {exc}") from exc
        rules.append(rule)
    rules.sort(key=lambda r: r.code)
    seen: dict[str, str] = {}
    for rule in rules:
        for key in (rule.code, rule.name):
            if key in seen:
                raise CatalogError(f"duplicate rule key {key!r} in {rule.source} and {seen[key]}")
            seen[key] = rule.source
    types = TypeCatalog(**_load_toml(base / "types.toml"))
    return Catalog(rules=rules, types=types)
