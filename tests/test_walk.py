"""facts/walk.py calls a visitor's hooks exactly as libcst's own ``tree.visit`` does (same events,
same order, children skipped when ``visit_X`` returns False), without rebuilding the tree."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest

from fastapi_reviewer.facts.walk import walk

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "weather_service"
EXTRA = '''
@app.get("/x/{i}")
async def f(i: int, *args, q: str | None = None, **kw) -> dict[str, int]:
    async with httpx.AsyncClient() as c, lock:  # a comment inside
        r = await c.get(f"http://h/{i!r:>{w}}", params={"a": [1, 2], **kw})
    try:
        x = [y for y in r if y] or {k: v for k, v in kw.items()}
    except (ValueError, KeyError) as exc:
        raise RuntimeError("no") from exc
    finally:
        del x
    while (n := len(args)) > 0:
        lambda a, b=1: a + b
        break
    else:
        pass
    return {"i": i if i else -i, "n": n}
'''


def _sources() -> list[str]:
    return [p.read_text() for p in sorted(EXAMPLE.rglob("*.py"))] + [EXTRA]


class Recorder(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[str, str]] = []

    def _note(self, event: str, node: cst.CSTNode) -> None:
        self.events.append((event, node.value if isinstance(node, cst.Name) else type(node).__name__))

    def visit_Call(self, node: cst.Call) -> None:
        self._note("visit_Call", node)

    def leave_Call(self, node: cst.Call) -> None:
        self._note("leave_Call", node)

    def visit_Call_args(self, node: cst.Call) -> None:
        self._note("visit_Call_args", node)

    def leave_Call_args(self, node: cst.Call) -> None:
        self._note("leave_Call_args", node)

    def visit_Name(self, node: cst.Name) -> None:
        self._note("visit_Name", node)

    def leave_Name(self, node: cst.Name) -> None:
        self._note("leave_Name", node)

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        self._note("visit_Lambda", node)
        return False  # its children are not visited

    def leave_Lambda(self, node: cst.Lambda) -> None:
        self._note("leave_Lambda", node)

    def visit_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        self._note("visit_FunctionDef_body", node)

    def leave_FunctionDef_params(self, node: cst.FunctionDef) -> None:
        self._note("leave_FunctionDef_params", node)

    def visit_FormattedStringExpression(self, node: cst.FormattedStringExpression) -> None:
        self._note("visit_FormattedStringExpression", node)

    def leave_Module(self, node: cst.Module) -> None:
        self._note("leave_Module", node)


class TokenRecorder(Recorder):
    """A hook on a token type: walk must descend into whitespace and punctuation too."""

    def visit_Comma(self, node: cst.Comma) -> None:
        self._note("visit_Comma", node)

    def visit_Comment(self, node: cst.Comment) -> None:
        self.events.append(("visit_Comment", node.value))


@pytest.mark.parametrize("kind", [Recorder, TokenRecorder])
def test_walk_calls_the_hooks_libcst_calls_in_the_same_order(kind: type[Recorder]) -> None:
    seen: set[str] = set()
    for source in _sources():
        tree = cst.parse_module(source)
        ours, theirs = kind(), kind()
        walk(tree, ours)
        tree.visit(theirs)
        assert ours.events == theirs.events
        seen.update(event for event, _ in ours.events)
    hooks = {name for klass in kind.__mro__ if klass.__module__ == __name__ for name in vars(klass) if name.startswith(("visit_", "leave_"))}
    assert seen == hooks  # every hook was exercised
