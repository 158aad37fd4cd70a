"""The fast position path (Python's ast, paired with libcst nodes) must give what libcst's own
PositionProvider gives, on the sources where they are easiest to get wrong."""

from __future__ import annotations

import pytest

from fastapi_reviewer.facts import positions
from fastapi_reviewer.facts.extract import extract

SOURCES = {
    "one-letter-names-inside-keywords": "def f(a):\n    pass\n\n\nclass s:\n    def e(self):\n        pass\n\n\nasync def a():\n    await b()\n",
    "form-feed-line": "x = 1\n\x0c\ndef f(a):\n    return len(a)\n",
    "unicode-line-separators-in-strings": 'A = "x\u2028y\x1cz\x85"\n\n\ndef d(v):\n    return str(v)\n',
    "non-ascii-before-names": 'NAME = "héllo wörld"; VALUE = len(NAME)\n\n\ndef c(é=1):\n    return print(é)\n',
    "crlf": "import time\r\n\r\n\r\nasync def h():\r\n    time.sleep(1)\r\n",
}


def _spans(facts):  # type: ignore[no-untyped-def]
    out = []
    for fn in facts.functions:
        out.append((fn.qualname, fn.span, [(p.name, p.line, p.column) for p in fn.params]))
        out.extend((fn.qualname, c.raw, c.span) for c in fn.calls)
    return out


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_fast_positions_equal_libcst_positions(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    data = SOURCES[name].encode()
    fast = extract("m.py", data, "m", False)

    def refuse(self, source):  # type: ignore[no-untyped-def]
        raise positions.PositionMismatch("forced")

    monkeypatch.setattr(positions.AstPositions, "__init__", refuse)
    exact = extract("m.py", data, "m", False)
    assert _spans(fast) == _spans(exact)


def test_a_one_letter_function_name_is_pointed_at_not_the_keyword() -> None:
    facts = extract("m.py", b"def f(a):\n    pass\n", "m", False)
    span = next(fn.span for fn in facts.functions if fn.name == "f")
    assert (span.line, span.column, span.end_column) == (1, 5, 6)
