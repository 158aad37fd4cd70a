"""Every rule's documented examples run as tests: `# error: CODE` marks each expected finding."""

from __future__ import annotations

import pytest
from helpers import expected_markers, run, write_project

from fastapi_reviewer.catalog import load_catalog
from fastapi_reviewer.config import Settings

CATALOG = load_catalog()
CASES = [
    pytest.param(rule, kind, i, example, id=f"{rule.code}-{kind}-{i}")
    for rule in CATALOG.rules
    for kind in ("invalid", "valid")
    for i, example in enumerate(getattr(rule.examples, kind))
]


@pytest.mark.parametrize(("rule", "kind", "index", "example"), CASES)
def test_rule_example(tmp_path, rule, kind, index, example):
    files = {"exampleapp/__init__.py": "", "exampleapp/module.py": example.code}
    write_project(tmp_path, files)
    settings = Settings.model_validate({"cache": False, **example.config})
    findings = run(tmp_path, settings)
    got = sorted((f.line, f.code) for f in findings if f.code == rule.code)
    if kind == "invalid":
        expected = [m for m in expected_markers(example.code) if m[1] == rule.code]
        assert expected, "an invalid example must mark at least one expected finding"
        assert got == expected, [f.message for f in findings]
    else:
        assert got == [], [f"{f.line}: {f.message}" for f in findings if f.code == rule.code]
    others = [f for f in findings if f.path != "exampleapp/module.py"]
    assert not others


def test_every_rule_has_examples_and_docs():
    for rule in CATALOG.rules:
        assert rule.examples.invalid, rule.code
        assert rule.examples.valid, rule.code
        md = rule.markdown()
        for heading in ("## What it does", "## Why is this bad?", "## Example", "Use instead:"):
            assert heading in md, (rule.code, heading)


def test_codes_and_names_are_unique_and_well_formed():
    codes = [r.code for r in CATALOG.rules]
    names = [r.name for r in CATALOG.rules]
    assert len(set(codes)) == len(codes)
    assert len(set(names)) == len(names)
    for rule in CATALOG.rules:
        assert rule.code.startswith("FR") and rule.code[2:].isdigit() and len(rule.code) == 5
        assert rule.name == rule.name.lower() and " " not in rule.name
        assert rule.source.split("/")[0] == rule.category
