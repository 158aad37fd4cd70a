"""How values move inside one function: uses of locals and call results, and what loops carry.

The collector calls these hooks during its single traversal; ``finish`` writes the result into
``FunctionFacts.uses`` and ``FunctionFacts.loops`` (see ``facts/model.py``).  Two questions the
rules ask are answered here once, generally:

- *what happens to this value?* ``data = await request.json()`` then ``data["id"]`` is a
  ``subscript`` use of ``data``; ``Response(content=f.read())`` is an ``arg`` use (keyword
  ``content``) of the result of the ``f.read()`` call, keyed ``@<index in calls>``.
- *does this loop's iteration depend on the previous one?* a name read before it is assigned in
  the body (``cursor = await fetch(cursor)``), updated in place (``total += x``) or mutated and read
  (``seen.add(x)`` with ``if x in seen``) flows from one iteration into the next.

Query helpers for checks are at the bottom (``call_reads``, ``uses_of``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fastapi_reviewer.facts.model import CallFact, FunctionFacts, LoopFact, UseFact

if TYPE_CHECKING:
    from collections.abc import Iterator

    import libcst as cst
else:
    # libcst is imported by the first FlowTracker (while parsing); the query helpers at the bottom
    # run on cached facts, and a fully cached scan must not pay for importing the parser
    cst = None

# methods that change their receiver in place
MUTATORS = frozenset(
    {
        "append", "extend", "add", "update", "insert", "pop", "popleft", "remove", "discard", "setdefault",
        "appendleft", "extendleft", "clear", "put_nowait", "sort", "reverse", "popitem",
    }
)

Key = str | int  # a local name, or id() of the Call node whose result is used


@dataclass(slots=True)
class _LoopTrack:
    index: int
    events: int = 0
    first_load: dict[str, int] = field(default_factory=dict)
    first_store: dict[str, int] = field(default_factory=dict)
    loads: dict[str, int] = field(default_factory=dict)
    mutations: dict[str, int] = field(default_factory=dict)
    augmented: dict[str, int] = field(default_factory=dict)
    depth: int = 0  # nested loops inside this one (a `break` there is theirs)


@dataclass(slots=True)
class _FnFlow:
    uses: list[tuple[Key, UseFact]] = field(default_factory=list)
    loops: list[LoopFact] = field(default_factory=list)
    open: list[_LoopTrack] = field(default_factory=list)
    skip: set[int] = field(default_factory=set)  # Name nodes that are not loads
    pending_stores: list[list[str]] = field(default_factory=list)


def _strip_await(node: cst.BaseExpression) -> cst.BaseExpression:
    while type(node) is cst.Await:
        node = node.expression
    return node


def _head(node: cst.BaseExpression) -> cst.BaseExpression:
    """`a.b[0].c` -> `a`; `f().g` -> the call `f()`; through awaits."""
    while True:
        node = _strip_await(node)
        if type(node) in (cst.Attribute, cst.Subscript):
            node = node.value
        else:
            return node


def _parts(node: cst.BaseNode) -> Iterator[cst.Name | cst.Call]:
    """Names and calls an expression reads, not looking inside calls (they report their own args).

    Walks expression fields only (never whitespace or tokens): this runs for every argument."""
    todo: list[cst.BaseNode] = [node]
    while todo:
        current = todo.pop()
        if type(current) in (cst.Call, cst.Name):
            yield current
        elif type(current) in (cst.Attribute, cst.StarredElement, cst.NamedExpr):
            todo.append(current.value)
        elif type(current) is cst.Await:
            todo.append(current.expression)
        elif type(current) is cst.Subscript:
            todo.append(current.value)
            for element in current.slice:
                inner = element.slice
                if type(inner) is cst.Index:
                    todo.append(inner.value)
                else:
                    todo.extend(x for x in (inner.lower, inner.upper, inner.step) if x is not None)
        elif type(current) in (cst.BinaryOperation, cst.BooleanOperation):
            todo.extend((current.left, current.right))
        elif type(current) is cst.UnaryOperation:
            todo.append(current.expression)
        elif type(current) is cst.Comparison:
            todo.append(current.left)
            todo.extend(c.comparator for c in current.comparisons)
        elif type(current) is cst.IfExp:
            todo.extend((current.test, current.body, current.orelse))
        elif type(current) in (cst.Tuple, cst.List, cst.Set):
            todo.extend(e.value for e in current.elements)
        elif type(current) is cst.Dict:
            for e in current.elements:
                if type(e) is cst.DictElement:
                    todo.extend((e.key, e.value))
                else:
                    todo.append(e.value)
        elif type(current) is cst.FormattedString:
            todo.extend(p.expression for p in current.parts if type(p) is cst.FormattedStringExpression)
        elif type(current) is cst.ConcatenatedString:
            todo.extend((current.left, current.right))
        elif type(current) in (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp):
            todo.extend((current.key, current.value) if type(current) is cst.DictComp else (current.elt,))
            comp: cst.CompFor | None = current.for_in
            while comp is not None:
                todo.append(comp.iter)
                todo.extend(i.test for i in comp.ifs)
                comp = comp.inner_for_in


class FlowTracker:
    def __init__(self) -> None:
        global cst
        if cst is None:
            import libcst

            cst = libcst
        self._fns: dict[int, _FnFlow] = {}
        self.open_loops = 0  # loops open in any function: Name loads only matter inside one

    def _fn(self, scope: object) -> _FnFlow:
        state = self._fns.get(id(scope))
        if state is None:
            state = self._fns[id(scope)] = _FnFlow()
        return state

    # ----------------------------------------------------------------- uses
    def _use(self, state: _FnFlow, node: cst.BaseExpression, use: UseFact, parts: str | None = None) -> None:
        """Record `use` for a Name or Call; for anything else, `parts` for what it reads."""
        node = _strip_await(node)
        if type(node) is cst.Name:
            state.uses.append((node.value, use))
        elif type(node) is cst.Call:
            state.uses.append((id(node), use))
        elif parts is not None:
            for part in _parts(node):
                key: Key = part.value if type(part) is cst.Name else id(part)
                state.uses.append((key, UseFact(parts, use.call, use.keyword, use.position)))

    def on_call(self, node: cst.Call, fact: CallFact, index: int, scope: object) -> None:
        state = self._fn(scope)
        if state.open:
            fact.loop = state.open[-1].index
        func = _strip_await(node.func)
        if type(func) in (cst.Attribute, cst.Subscript):
            head = _head(func)
            if type(head) in (cst.Name, cst.Call):
                self._use(state, head, UseFact("receiver", index))
            mutates = type(func) is cst.Attribute and type(func.value) is cst.Name and func.attr.value in MUTATORS
            if state.open and mutates:
                self._mutate(state, func.value.value)
        position = 0
        for arg in node.args:
            keyword = arg.keyword.value if arg.keyword is not None else None
            if arg.keyword is not None and state.open:
                state.skip.add(id(arg.keyword))
            kind = "star" if arg.star else "arg"
            at = -1
            if keyword is None and not arg.star:
                at, position = position, position + 1
            self._use(state, arg.value, UseFact(kind, index, keyword, at), parts="arg-part")

    def on_subscript(self, node: cst.Subscript, scope: object) -> None:
        state = self._fn(scope)
        if id(node) in state.skip:  # a store target, recorded by on_assign
            return
        base = _strip_await(node.value)
        if type(base) in (cst.Name, cst.Call):
            self._use(state, base, UseFact("subscript"))

    def on_return(self, value: cst.BaseExpression | None, scope: object) -> None:
        state = self._fn(scope)
        for track in state.open:
            track_exit(state, track)
        if value is None:
            return
        self._use(state, value, UseFact("return"), parts="return-part")

    def on_exit(self, scope: object, kind: str) -> None:
        """`break` leaves the innermost loop; `yield` suspends every loop around it."""
        state = self._fn(scope)
        if not state.open:
            return
        if kind == "break":
            state.loops[state.open[-1].index].exits = True
        else:
            for track in state.open:
                track_exit(state, track)

    def on_await(self, scope: object) -> None:
        state = self._fn(scope)
        for track in state.open:
            state.loops[track.index].awaits += 1

    # --------------------------------------------------------------- stores
    def on_assign(self, targets: list[cst.BaseExpression], value: cst.BaseExpression | None, scope: object, augmented: bool = False) -> None:
        state = self._fn(scope)
        names: list[str] = []
        for target in targets:
            self._store_target(state, target, names, augmented)
        if value is not None and len(targets) == 1 and type(targets[0]) is cst.Name:
            inner = _strip_await(value)
            if type(inner) is not cst.Call:  # a call's result: CallFact.assigned_to
                self._use(state, inner, UseFact("assign", keyword=targets[0].value), parts="assign-part")
        state.pending_stores.append(names)

    def _store_target(self, state: _FnFlow, target: cst.BaseExpression, names: list[str], augmented: bool) -> None:
        if type(target) is cst.Name:
            state.skip.add(id(target))
            if augmented:
                state.uses.append((target.value, UseFact("augassign")))
                for track in state.open:
                    track.augmented[target.value] = track.augmented.get(target.value, 0) + 1
            else:
                names.append(target.value)
        elif type(target) in (cst.Tuple, cst.List):
            for element in target.elements:
                self._store_target(state, element.value, names, augmented)
        elif type(target) is cst.StarredElement:
            self._store_target(state, target.value, names, augmented)
        elif type(target) in (cst.Subscript, cst.Attribute):
            state.skip.add(id(target))
            base = _head(target)
            if type(base) is cst.Name:
                state.uses.append((base.value, UseFact("store")))
                if state.open:
                    self._mutate(state, base.value)

    def on_assign_end(self, scope: object) -> None:
        state = self._fn(scope)
        names = state.pending_stores.pop() if state.pending_stores else []
        for name in names:
            self._store(state, name)

    def on_bind(self, target: cst.BaseExpression, scope: object) -> None:
        """A name bound right away (for/with targets, except names)."""
        state = self._fn(scope)
        names: list[str] = []
        self._store_target(state, target, names, False)
        for name in names:
            self._store(state, name)

    def on_bind_later(self, target: cst.BaseExpression, scope: object) -> None:
        """A `for` target: not a load where it is written; bound when the body starts (on_loop)."""
        state = self._fn(scope)
        if type(target) is cst.Name:
            state.skip.add(id(target))
        elif type(target) in (cst.Tuple, cst.List):
            for element in target.elements:
                self.on_bind_later(element.value, scope)
        elif type(target) is cst.StarredElement:
            self.on_bind_later(target.value, scope)

    def _store(self, state: _FnFlow, name: str) -> None:
        for track in state.open:
            track.events += 1
            track.first_store.setdefault(name, track.events)

    def _mutate(self, state: _FnFlow, name: str) -> None:
        for track in state.open:
            track.mutations[name] = track.mutations.get(name, 0) + 1

    def on_name(self, node: cst.Name, scope: object) -> None:
        state = self._fns.get(id(scope))
        if state is None or not state.open or id(node) in state.skip:
            return
        name = node.value
        for track in state.open:
            track.events += 1
            track.first_load.setdefault(name, track.events)
            track.loads[name] = track.loads.get(name, 0) + 1

    def on_attribute(self, node: cst.Attribute, scope: object) -> None:
        state = self._fns.get(id(scope))
        if state is not None and state.open:
            state.skip.add(id(node.attr))

    # ---------------------------------------------------------------- loops
    def on_loop(self, kind: str, targets: list[cst.BaseExpression], iterable: cst.BaseExpression | None, scope: object, iter_text: str | None) -> None:
        state = self._fn(scope)
        if iterable is not None:
            self._use(state, iterable, UseFact("iter"))
        names: list[str] = []
        for target in targets:
            self._store_target(state, target, names, False)
        loop = LoopFact(kind=kind, targets=names, iter=iter_text, parent=state.open[-1].index if state.open else None)
        state.loops.append(loop)
        state.open.append(_LoopTrack(index=len(state.loops) - 1))
        self.open_loops += 1
        for name in names:  # bound at the start of every iteration
            self._store(state, name)

    def on_loop_end(self, scope: object) -> None:
        state = self._fn(scope)
        if not state.open:
            return
        track = state.open.pop()
        self.open_loops -= 1
        loop = state.loops[track.index]
        carried: list[str] = []
        accumulators: list[str] = []
        for name, first in track.first_store.items():
            if name in loop.targets:
                continue
            if track.first_load.get(name, first + 1) < first:
                carried.append(name)
        for name, count in track.augmented.items():
            if track.loads.get(name, 0) == 0 and name not in track.first_store:
                accumulators.append(name)
            elif name not in carried:
                carried.append(name)
        for name, count in track.mutations.items():
            if track.loads.get(name, 0) > count and name not in carried:
                carried.append(name)
        loop.carried = sorted(carried)
        loop.accumulators = sorted(accumulators)

    # --------------------------------------------------------------- finish
    def finish(self, fn: FunctionFacts, scope: object, call_ids: dict[int, int], locals_: set[str], outer: set[str] | None = None) -> None:
        """`locals_`: names bound in the function; `outer`: module names whose uses are kept too."""
        fn.bound = sorted(locals_)
        state = self._fns.pop(id(scope), None)
        if state is None:
            return
        if outer is None:
            outer = set()
        uses: dict[str, list[UseFact]] = {}
        for key, use in state.uses:
            if isinstance(key, int):
                index = call_ids.get(key)
                if index is None:
                    continue
                name = f"@{index}"
            else:
                if key not in locals_ and key not in outer:  # (no union of the two sets per function)
                    continue
                name = key
            uses.setdefault(name, []).append(use)
        fn.uses = uses
        fn.loops = state.loops


def track_exit(state: _FnFlow, track: _LoopTrack) -> None:
    state.loops[track.index].exits = True


# ------------------------------------------------------------------ queries for checks
def uses_of(fn: FunctionFacts, index: int) -> list[UseFact]:
    """What happens to the result of calls[index]: through the name it is assigned to, or directly."""
    call = fn.calls[index]
    found = list(fn.uses.get(f"@{index}", ()))
    if call.assigned_to and call.assigned_to.isidentifier():
        found.extend(fn.uses.get(call.assigned_to, ()))
    return found


def value_key(fn: FunctionFacts, index: int) -> str:
    call = fn.calls[index]
    return call.assigned_to if call.assigned_to and call.assigned_to.isidentifier() else f"@{index}"


def call_reads(fn: FunctionFacts, index: int, _depth: int = 0) -> set[str]:
    """Local names whose value reaches calls[index]: its receiver and arguments, through nested calls."""
    found: set[str] = set()
    for key, uses in fn.uses.items():
        for use in uses:
            if use.call == index and use.kind in ("arg", "arg-part", "star", "receiver"):
                if key.startswith("@"):
                    if _depth < 8:
                        found |= call_reads(fn, int(key[1:]), _depth + 1)
                else:
                    found.add(key)
    return found
