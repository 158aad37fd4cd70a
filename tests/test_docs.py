"""Generated documentation is up to date with the catalog (run `python -m fastapi_reviewer.docgen`)."""

from pathlib import Path

from fastapi_reviewer.catalog import load_catalog
from fastapi_reviewer.docgen import readme_with_table, rules_document, rules_table

ROOT = Path(__file__).resolve().parent.parent


def test_readme_rule_table_is_generated():
    readme = (ROOT / "README.md").read_text()
    assert readme == readme_with_table(readme, rules_table(load_catalog())), "run python -m fastapi_reviewer.docgen"


def test_rules_document_is_generated():
    assert (ROOT / "docs" / "rules.md").read_text() == rules_document(load_catalog()), "run python -m fastapi_reviewer.docgen"
