"""Rule documentation generated from the catalog: the README's rule table and docs/rules.md.

`python -m fastapi_reviewer.docgen` rewrites both; a test fails when either is stale, so the rule
list is written once, in rules/.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from fastapi_reviewer.catalog import Catalog, load_catalog

START, END = "<!-- rules:start -->", "<!-- rules:end -->"
CATEGORY_TITLES = {
    "async-blocking": "Blocking calls on the event loop (FR1xx)",
    "validation": "Missing Pydantic models (FR2xx)",
    "connection": "Unpooled connections (FR3xx)",
    "task": "Celery tasks (FR4xx)",
    "performance": "Performance (FR5xx)",
    "security": "Security (FR6xx)",
}


def rules_table(catalog: Catalog) -> str:
    rows = ["| code | name | category | severity | summary |", "|---|---|---|---|---|"]
    for r in catalog.rules:
        rows.append(f"| [{r.code}](docs/rules.md#{r.code.lower()}) | `{r.name}` | {r.category} | {r.severity.value} | {r.summary} |")
    return "\n".join(rows)


def rules_document(catalog: Catalog) -> str:
    parts = ["# Rules", "", "Generated from `rules/` by `python -m fastapi_reviewer.docgen`; do not edit by hand.", ""]
    for category, title in CATEGORY_TITLES.items():
        rules = [r for r in catalog.rules if r.category == category]
        if not rules:
            continue
        parts += [f"## {title}", ""]
        for r in rules:
            body = r.markdown().replace(f"# {r.name} ({r.code})", f'<a id="{r.code.lower()}"></a>\n### {r.code} `{r.name}`', 1)
            body = re.sub(r"^## ", "#### ", body, flags=re.MULTILINE)
            parts += [body]
    return "\n".join(parts).rstrip() + "\n"


def readme_with_table(readme: str, table: str) -> str:
    if START not in readme or END not in readme:
        raise ValueError("README.md has no rules:start/rules:end markers")
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table}\n{END}{tail}"


def main(root: Path | None = None) -> int:
    root = root or Path(__file__).resolve().parent.parent
    catalog = load_catalog()
    readme = root / "README.md"
    readme.write_text(readme_with_table(readme.read_text(), rules_table(catalog)))
    (root / "docs" / "rules.md").write_text(rules_document(catalog))
    return 0


if __name__ == "__main__":
    sys.exit(main())
