"""The per-file summary produced by one libcst traversal.

Names are stored *resolved* as far as one file allows: imports and aliases are followed, local
variables are replaced by the dotted name of what built them.  A call on a value built by a call is
written with ``()``: ``requests.Session().get`` is ``get`` on a ``requests.Session`` instance.
What needs other files (re-exports, module variables, project classes) is left to the index.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NoReturn


class _EmptyDict(dict):  # type: ignore[type-arg]
    """An empty dict that stays empty: the one every empty dict field holds once the facts went
    through the cache codec (cache.py).  Facts are read-only after extraction."""

    __slots__ = ()

    def _read_only(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("facts are read-only")

    __setitem__ = __delitem__ = __ior__ = _read_only  # type: ignore[assignment]
    clear = pop = popitem = setdefault = update = _read_only  # type: ignore[assignment]


EMPTY_MAP: dict[Any, Any] = _EmptyDict()


@dataclass(slots=True, eq=False)
class Span:
    """Where a node is: 1-based lines and columns (in characters).  The facts hold
    these as ``facts.positions.LazySpan``, which reads the same and resolves on first read."""

    line: int
    column: int
    end_line: int
    end_column: int

    def __eq__(self, other: object) -> bool:
        if type(other) is Span:
            return (self.line, self.column, self.end_line, self.end_column) == (other.line, other.column, other.end_line, other.end_column)
        return NotImplemented  # a LazySpan answers

    __hash__ = None  # type: ignore[assignment]


@dataclass(slots=True)
class CallFact:
    target: str | None  # resolved dotted name, e.g. "requests.get", "app.svc.fetch", "httpx.Client().get"
    raw: str  # the callee as written, e.g. "rq.get", "self.client.get"
    span: Span
    awaited: bool = False
    in_loop: bool = False  # inside a for/while body of the same function
    in_with: bool = False  # the context expression of a with / async with item
    kwargs: dict[str, str] = field(default_factory=dict)  # keyword -> literal repr or resolved name
    args: list[str] = field(default_factory=list)  # positional: literal repr, resolved name or "?"
    receiver_origin: int | None = None  # index in calls of the call that built the receiver local
    returned: bool = False  # the call is the value of a return statement
    assigned_to: str | None = None  # what the result is assigned to, as written: "c", "self._c", "_cache[]"
    in_main_guard: bool = False  # under `if __name__ == "__main__":`
    in_try: bool = False
    raised: bool = False  # the call is the operand of `raise`: `raise self.retry(exc=e)`
    within: list[str] = field(default_factory=list)  # the enclosing with items, resolved: "x.allow_join_result()"
    loop: int | None = None  # index in FunctionFacts.loops of the innermost loop around the call


@dataclass(slots=True)
class ParamFact:
    name: str
    annotation: str | None  # resolved type text, Annotated[...] metadata stripped
    annotation_raw: str | None
    default: str | None  # resolved text of the default, e.g. "fastapi.Depends(app.deps.get_db)"
    depends: str | None  # the dependency callable from Depends()/Security(), "" for bare Depends()
    body_marker: bool = False  # Body() in the default or the Annotated metadata
    marker: str | None = None  # the FastAPI param function in the default / Annotated: "fastapi.Query", ...
    kind: str = "normal"  # normal | star | kwonly | dstar
    # its position: facts.positions.param_span(function.span, its index in function.params)


@dataclass(slots=True)
class DecoratorFact:
    target: str  # resolved dotted name of the decorator (the callee when called)
    called: bool
    args: list[str] = field(default_factory=list)
    kwargs: dict[str, str] = field(default_factory=dict)
    span: Span | None = None  # the expression after `@`

    @property
    def line(self) -> int:
        return self.span.line if self.span is not None else 0


@dataclass(slots=True)
class ExceptFact:
    types: list[str]  # resolved names; [] for a bare except
    reraises: bool  # a `raise` anywhere in the handler
    retries: bool  # calls self.retry / task.retry
    span: Span | None = None  # the `except` keyword
    in_loop: bool = False  # the try statement is inside a for/while body of the same function
    in_cleanup: bool = False  # the try statement is inside another handler or a finally block
    calls: list[int] = field(default_factory=list)  # indices in FunctionFacts.calls of the calls in the handler
    stores_state: bool = False  # the handler assigns to an attribute or subscript: `job.status = FAILED`

    @property
    def line(self) -> int:
        return self.span.line if self.span is not None else 0

    @property
    def column(self) -> int:
        return self.span.column if self.span is not None else 0


@dataclass(slots=True)
class ReturnFact:
    kind: str  # dict | list | listcomp | call | name | none | other | literal
    value: str | None  # resolved callee for calls, name for names
    line: int = 0


@dataclass(slots=True)
class UseFact:
    """One use of a local name, or of a call's result (key "@<index in calls>"): facts/flow.py."""

    kind: str  # arg | arg-part | star | receiver | subscript | store | iter | return | return-part | assign | assign-part | augassign
    call: int = -1  # arg, arg-part, star, receiver: index in `calls` of the call involved
    keyword: str | None = None  # arg: the keyword it is passed as; assign: the name it is copied to
    position: int = -1  # arg, arg-part, star: the position among the positional arguments


@dataclass(slots=True)
class LoopFact:
    kind: str  # for | async-for | while | comprehension | async-comprehension
    targets: list[str] = field(default_factory=list)  # the loop variables
    iter: str | None = None  # the iterable as written, when it is a dotted name or call chain
    parent: int | None = None  # index of the enclosing loop in the same function
    exits: bool = False  # `break` out of this loop, `return` or `yield` in its body
    awaits: int = 0  # await points in the body: await, async with, async for
    carried: list[str] = field(default_factory=list)  # names whose value flows into the next iteration
    accumulators: list[str] = field(default_factory=list)  # names only updated in place (`total += x`)


@dataclass(slots=True)
class FunctionFacts:
    name: str
    qualname: str  # dotted within the module: "fetch", "Service.fetch", "outer.inner"
    is_async: bool
    span: Span  # the def line: name position
    body_end_line: int = 0
    class_name: str | None = None  # the enclosing class qualname for methods
    parent: str | None = None  # the enclosing function qualname for nested defs
    decorators: list[DecoratorFact] = field(default_factory=list)
    params: list[ParamFact] = field(default_factory=list)
    returns: str | None = None  # the annotation as written, names resolved
    return_type: str | None = None  # the class it names: Optional[X], X | None, Annotated[X, ..] give X
    calls: list[CallFact] = field(default_factory=list)
    excepts: list[ExceptFact] = field(default_factory=list)
    return_values: list[ReturnFact] = field(default_factory=list)
    has_await: bool = False
    has_yield: bool = False
    has_finally: bool = False
    local_types: dict[str, str] = field(default_factory=dict)
    raises: bool = False
    globals: list[str] = field(default_factory=list)  # names declared `global` in the body
    stores: list[tuple[str, str]] = field(default_factory=list)  # (place, local): `_cache[k] = conn` -> ("_cache[]", "conn")
    dict_entries: list[tuple[str, str]] = field(default_factory=list)  # {"task": t.name} -> ("task", "app.t.name")
    uses: dict[str, list[UseFact]] = field(default_factory=dict)  # local name or "@<call index>" -> uses
    loops: list[LoopFact] = field(default_factory=list)
    literals: dict[str, str] = field(default_factory=dict)  # name bound once to a str / list of literals -> repr
    bound: list[str] = field(default_factory=list)  # names bound in the body: parameters, assignments, imports


@dataclass(slots=True)
class ClassFacts:
    name: str
    qualname: str
    bases: list[str]
    keywords: dict[str, str]
    span: Span
    decorators: list[DecoratorFact] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)  # self.x / class attr -> type
    inner_classes: list[str] = field(default_factory=list)
    assigns: dict[str, str] = field(default_factory=dict)  # class-level name -> value text


@dataclass(slots=True)
class ModuleFacts:
    path: str
    module: str
    is_package: bool
    imports: dict[str, str] = field(default_factory=dict)  # local name -> qualified name
    star_imports: list[str] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)  # module-level name -> type / value
    type_aliases: dict[str, str] = field(default_factory=dict)  # Alias = Annotated[T, Depends(f)] -> "f"
    functions: list[FunctionFacts] = field(default_factory=list)  # "<module>" first
    classes: list[ClassFacts] = field(default_factory=list)
    noqa: dict[int, frozenset[str] | None] = field(default_factory=dict)  # None = bare noqa
    imported_modules: list[str] = field(default_factory=list)
    position_check: int = 0  # facts/positions.py: pairs the spans' ranks with the nodes of the file
