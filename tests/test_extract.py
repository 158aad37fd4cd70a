"""Turning a file into facts (facts/extract.py): the parse skips libcst's per-node re-validation, so
the facts must be exactly those of a validated parse, with validation back on for everything built
afterwards; and a file's tree and working state are freed by reference counting."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest

from fastapi_reviewer.cache import dumps
from fastapi_reviewer.facts import extract as extract_module
from fastapi_reviewer.facts.extract import ParseFailure, extract, parse_module

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "weather_service"
TRICKY = {
    "parens-and-walrus": "x = ((a := 1))\nprint((yield_ := [(y) for y in (1, 2)]))\n",
    "keywords-without-spaces": "if(x):pass\nwhile(y):break\nreturn_=not(x)\nlambda:(1)\n",
    "decorators-and-async": "@(lambda f: f)\nasync def h(*, a=1, **k):\n    async with (a as b, c as d):\n        await (x)\n",
    "match-and-fstrings": 'match p:\n    case {"k": [1, *rest]} if rest:\n        f"{p!r:>{w}}"\n',
}


def _sources() -> list[tuple[str, bytes]]:
    found = [(str(p), p.read_bytes()) for p in sorted(EXAMPLE.rglob("*.py"))]
    return found + [(f"{name}.py", text.encode()) for name, text in sorted(TRICKY.items())]


def test_facts_equal_those_of_a_validated_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    sources = _sources()
    assert len(sources) > len(TRICKY)  # the example app is there
    fast = [dumps(extract(path, data, "m", False)) for path, data in sources]
    monkeypatch.setattr(extract_module, "parse_module", cst.parse_module)
    validated = [dumps(extract(path, data, "m", False)) for path, data in sources]
    assert fast == validated


def test_nodes_built_after_a_parse_are_validated() -> None:
    parse_module("x = 1\n")
    with pytest.raises(cst.CSTValidationError):
        cst.Name("")


def test_validation_is_back_after_a_failed_parse() -> None:
    with pytest.raises(ParseFailure):
        extract("bad.py", b"def f(:\n    pass\n", "bad", False)
    with pytest.raises(cst.CSTValidationError):
        cst.Name("")


def test_extraction_leaves_nothing_for_the_cyclic_collector() -> None:
    """Workers free each file's tree and working state by reference counting (walk's closure and
    the collector's scopes break their cycles); only a pass over a few leftovers remains."""
    import gc

    sources = _sources()
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for path, data in sources:
            dumps(extract(path, data, "m", False))
        gc.collect()
        kept = [type(o) for o in gc.garbage]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was:
            gc.enable()
    ours = sorted({f"{k.__module__}.{k.__qualname__}" for k in kept if k.__module__.startswith(("fastapi_reviewer", "libcst"))})
    assert ours == []
