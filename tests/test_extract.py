"""Turning a file into facts (facts/extract.py): the parse builds libcst's nodes with fast
constructors that skip the per-node re-validation (facts/fastparse.py), so the trees and facts must
be exactly those of libcst's own parse, with the classes' own constructors (and validation) back for
everything built afterwards; and a file's tree and working state are freed by reference counting."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest

from fastapi_reviewer.cache import dumps
from fastapi_reviewer.facts import fastparse
from fastapi_reviewer.facts.extract import ParseFailure, extract
from fastapi_reviewer.facts.fastparse import fast_nodes, parse_module

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
    monkeypatch.setattr(fastparse, "parse_module", cst.parse_module)
    validated = [dumps(extract(path, data, "m", False)) for path, data in sources]
    assert fast == validated


def test_the_trees_are_libcsts_own() -> None:
    for path, data in _sources():
        source = data.decode()
        fast, own = parse_module(source), cst.parse_module(source)
        assert fast.deep_equals(own), path
        assert fast.code == source


def test_leaves_are_shared_and_the_names_are_libcsts_again_after_a_parse() -> None:
    real = {name: getattr(cst, name) for name in fastparse.SHARED_LEAVES}
    tree = parse_module("def f(a, b):\n    return g(a, b)\n\n\nx = [1, 2]\n")
    again = parse_module("y = 3\n")
    leaves: dict[tuple[type, object], set[int]] = {}
    todo: list[cst.CSTNode] = [tree, again]
    while todo:
        node = todo.pop()
        if type(node) in (cst.SimpleWhitespace, cst.Newline):
            leaves.setdefault((type(node), node.value), set()).add(id(node))
        todo.extend(node.children)
    assert (cst.SimpleWhitespace, " ") in leaves and (cst.Newline, None) in leaves
    assert all(len(ids) == 1 for ids in leaves.values())  # one object per value, across trees
    assert {name: getattr(cst, name) for name in fastparse.SHARED_LEAVES} == real
    with pytest.raises(ParseFailure):
        extract("bad.py", b"def f(:\n    pass\n", "bad", False)
    assert {name: getattr(cst, name) for name in fastparse.SHARED_LEAVES} == real
    assert isinstance(cst.SimpleWhitespace(" "), cst.SimpleWhitespace)


def test_every_node_class_the_parser_builds_has_a_fast_constructor() -> None:
    fast = fastparse._constructors()
    assert {cst.Name, cst.Call, cst.Attribute, cst.FunctionDef, cst.SimpleWhitespace, cst.Module} <= set(fast)
    built: set[type] = set()
    todo: list[cst.CSTNode] = [cst.parse_module(source.decode()) for _, source in _sources()]
    while todo:
        node = todo.pop()
        built.add(type(node))
        todo.extend(node.children)
    assert built - set(fast) == set()


def test_nodes_built_after_a_parse_are_validated() -> None:
    parse_module("x = 1\n")
    with pytest.raises(cst.CSTValidationError):
        cst.Name("")
    with fast_nodes():
        with fast_nodes():
            pass
        assert "_set0" in cst.Name.__init__.__code__.co_names  # nested: the outer block keeps them
    assert "_set0" not in cst.Name.__init__.__code__.co_names
    with pytest.raises(cst.CSTValidationError):
        cst.Name("")


def test_the_fast_constructors_fill_every_field_and_default() -> None:
    with fast_nodes():
        name = cst.Name("x")
        assert "_set0" in type(name).__init__.__code__.co_names  # the fast one is in place
        call = cst.Call(func=name)
    assert (name.value, name.lpar, name.rpar) == ("x", (), ())
    assert call.deep_equals(cst.Call(func=cst.Name("x")))


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


def test_a_node_class_with_its_own_post_init_keeps_its_constructor() -> None:
    import dataclasses

    @dataclasses.dataclass(frozen=True)
    class Marked(cst.Name):
        def __post_init__(self) -> None:  # more than validation: must run
            object.__setattr__(self, "value", self.value.upper())

    assert fastparse._fast_init(Marked) is None
    assert fastparse._fast_init(cst.Name) is not None
