"""Positions by rank, resolved on first read (facts/positions.py): the fast path (Python's ast,
paired with the collector's ranks) must give what libcst's own PositionProvider gives, on the
sources where they are easiest to get wrong; the exact path must take over when the pairing fails;
nothing is parsed for positions nobody reads; a file changed since its scan gives line 1, not a
crash."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from helpers import through_codec

from fastapi_reviewer.facts import positions
from fastapi_reviewer.facts.extract import extract
from fastapi_reviewer.facts.model import Span

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "weather_service"
SOURCES = {
    "one-letter-names-inside-keywords": "def f(a):\n    pass\n\n\nclass s:\n    def e(self):\n        pass\n\n\nasync def a():\n    await b()\n",
    "form-feed-line": "x = 1\n\x0c\ndef f(a):\n    return len(a)\n",
    "unicode-line-separators-in-strings": 'A = "x\u2028y\x1cz\x85"\n\n\ndef d(v):\n    return str(v)\n',
    "non-ascii-before-names": 'NAME = "héllo wörld"; VALUE = len(NAME)\n\n\ndef c(é=1):\n    return print(é)\n',
    "crlf": "import time\r\n\r\n\r\nasync def h():\r\n    time.sleep(1)\r\n",
    "params-of-every-kind": "def f(a, /, b, *args, c, d=g(), **kw):\n    pass\n\n\ndef h(*, e):\n    pass\n",
    "decorators-calls-handlers": (
        "@app.get('/x')\n@other\nasync def r(q: int = Depends(dep)):\n    try:\n        x = (yield_(a())(b))\n"
        "    except (ValueError, KeyError):\n        pass\n    except Exception as e:  raise\n    return [f(v) for v in g()]\n"
    ),
    "lambda-calls-and-nested-defs": "x = lambda: f()\n\n\ndef outer():\n    def inner(z=k()):\n        return m(z)\n    return inner\n",
}


def _spans(facts):  # type: ignore[no-untyped-def]
    out = []
    for fn in facts.functions:
        out.append((fn.qualname, fn.span, [(p.name, positions.param_span(fn.span, i)) for i, p in enumerate(fn.params)], [(d.target, d.span) for d in fn.decorators]))
        out.extend((fn.qualname, c.raw, c.span) for c in fn.calls)
        out.extend((fn.qualname, e.line, e.column, e.span) for e in fn.excepts)
    out.extend((cls.qualname, cls.span) for cls in facts.classes)
    return [tuple((s.line, s.column, s.end_line, s.end_column) if hasattr(s, "end_column") else s for s in item) for item in out]


def _all_sources() -> list[tuple[str, bytes]]:
    found = [(p.name, p.read_bytes()) for p in sorted(EXAMPLE.rglob("*.py"))]
    return found + [(f"{name}.py", text.encode()) for name, text in sorted(SOURCES.items())]


def _fast_and_exact(data: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[list, list]:  # type: ignore[type-arg]
    """The spans of a file by the ast path (checked to be the one taken), then by the exact one."""
    exact_path = positions._from_cst
    monkeypatch.setattr(positions, "_from_cst", lambda *a: pytest.fail("the ast pairing failed"))
    fast = _spans(extract("m.py", data, "m", False))
    monkeypatch.setattr(positions, "_from_cst", exact_path)
    real = positions._from_ast
    monkeypatch.setattr(positions, "_from_ast", lambda source: (real(source)[0], -1))  # the pairing fails: the exact path
    return fast, _spans(extract("m.py", data, "m", False))


@pytest.mark.parametrize(("name", "data"), _all_sources(), ids=[n for n, _ in _all_sources()])
def test_fast_positions_equal_libcst_positions(name: str, data: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, exact = _fast_and_exact(data, monkeypatch)
    assert fast == exact
    assert fast  # something was compared


PACKAGE = Path(__file__).resolve().parent.parent / "fastapi_reviewer"


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_fast_positions_equal_libcst_positions_on_this_package(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Our own source as a corpus of real syntax (f-strings, lambdas, comprehensions, decorators,
    nested defs...); the same held on 3,649 files of dispatch, polar and flake8-async."""
    fast, exact = _fast_and_exact(path.read_bytes(), monkeypatch)
    assert fast == exact


def test_every_kind_of_position() -> None:
    source = SOURCES["decorators-calls-handlers"] + SOURCES["params-of-every-kind"]
    facts = extract("m.py", source.encode(), "m", False)
    r = next(fn for fn in facts.functions if fn.name == "r")
    assert [(d.line, d.span.column, d.span.end_column) for d in r.decorators] == [(1, 2, 15), (2, 2, 7)]
    assert (r.span.line, r.span.column, r.span.end_column) == (3, 11, 12)
    assert [(p.name, positions.param_span(r.span, i)) for i, p in enumerate(r.params)] == [("q", Span(3, 13, 3, 14))]
    assert [(c.raw, c.span.line, c.span.column) for c in r.calls] == [("yield_()", 5, 14), ("yield_", 5, 14), ("a", 5, 21), ("f", 9, 13), ("g", 9, 27)]
    assert [(c.raw, c.span.line, c.span.column) for c in facts.functions[0].calls][:2] == [("app.get", 1, 2), ("Depends", 3, 22)]
    assert [(e.line, e.column, e.span.end_column) for e in r.excepts] == [(6, 5, 11), (8, 5, 11)]
    f = next(fn for fn in facts.functions if fn.name == "f")
    at = [positions.param_span(f.span, i) for i in range(len(f.params))]
    assert [(p.name, p.kind, s.line, s.column, s.end_column) for p, s in zip(f.params, at)] == [
        ("a", "normal", 10, 7, 8), ("b", "normal", 10, 13, 14), ("args", "star", 10, 17, 21), ("c", "kwonly", 10, 23, 24),
        ("d", "kwonly", 10, 26, 27), ("kw", "dstar", 10, 35, 37),
    ]  # fmt: skip
    assert positions.param_span(f.span, 6) == f.span  # past the last: the def


def test_a_one_letter_function_name_is_pointed_at_not_the_keyword() -> None:
    facts = extract("m.py", b"def f(a):\n    pass\n", "m", False)
    span = next(fn.span for fn in facts.functions if fn.name == "f")
    assert (span.line, span.column, span.end_column) == (1, 5, 6)


def test_positions_are_not_computed_until_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[str] = []
    real = ast.parse
    monkeypatch.setattr(positions.ast, "parse", lambda source, *a, **k: parsed.append(source) or real(source, *a, **k))
    data = SOURCES["decorators-calls-handlers"].encode()
    loaded = through_codec(extract("app/m.py", data, "app.m", False), data, tmp_path)
    r = next(fn for fn in loaded.functions if fn.name == "r")
    assert parsed == [] and len(r.calls) == 5  # facts read, no position asked
    assert (r.calls[1].span.line, r.calls[1].span.column) == (5, 14)  # read from the file
    assert (r.excepts[1].line, positions.param_span(r.span, 0).column) == (8, 13)
    assert len(parsed) == 1  # once per module


def test_syntax_ast_rejects_takes_the_exact_path(monkeypatch: pytest.MonkeyPatch) -> None:
    def newer(source, *a, **k):  # type: ignore[no-untyped-def]
        raise SyntaxError("newer syntax than this Python")

    data = SOURCES["decorators-calls-handlers"].encode()
    want = _spans(extract("m.py", data, "m", False))
    monkeypatch.setattr(positions.ast, "parse", newer)
    assert _spans(extract("m.py", data, "m", False)) == want


@pytest.mark.parametrize("change", ["edited", "deleted", "unreadable-as-text"])
def test_a_file_changed_since_its_scan_gives_line_one(tmp_path: Path, change: str) -> None:
    data = SOURCES["decorators-calls-handlers"].encode()
    loaded = through_codec(extract("app/m.py", data, "app.m", False), data, tmp_path)
    path = tmp_path / "app" / "m.py"
    if change == "edited":
        path.write_bytes(b"\n\n" + data)  # the facts' lines are not in it any more
    elif change == "deleted":
        path.unlink()
    else:
        path.write_bytes(b"\x00\x01")
    r = next(fn for fn in loaded.functions if fn.name == "r")
    assert [(c.span.line, c.span.column) for c in r.calls] == [(1, 1)] * 5
    assert r.span == positions.UNKNOWN and r.excepts[0].line == 1


def test_facts_loaded_without_their_file_give_line_one() -> None:
    from fastapi_reviewer.cache import dumps, loads

    loaded = loads(dumps(extract("m.py", b"import os\nos.getcwd()\n", "m", False)))
    assert loaded is not None and loaded.functions[0].calls[0].span == positions.UNKNOWN
