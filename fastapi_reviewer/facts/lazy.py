"""Function bodies loaded on first read.

Most of a module's facts are what happens *inside* its functions: the calls (with their spans,
arguments, keywords), handlers, return values, loops, data-flow uses.  The project-wide models need
only the outside of every function (name, decorators, parameters, flags) and the target and keyword
names of every call; the rules read the inside of the functions they start from and of what those
reach.  A run that names a few files (pre-commit) reaches a small part of the project, so loaded
facts (cache.py) keep the insides of a module's functions as one pickled blob (a ``BodyStore``
shared by the module's functions) and decode it on the first read of any inside field of any of
them: most modules' insides are never built in such a run.  A whole-project run reads every
function and decodes every module once, at about the cost of loading the insides directly.

``LazyFunctionFacts`` is a ``FunctionFacts`` whose inside slots are unset until then: reading one
falls through to ``__getattr__``, which decodes the module's store, fills the inside slots of all
its functions and drops the blob; after that every read is an ordinary slot read.  Its eager
extras, ``call_targets``, ``call_keywords``, ``unresolved_calls`` and ``call_args``, are what the
project index finds the project's calls by (``ProjectIndex.sites_calling`` and friends) and what
the walks over the whole project read of a call.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

from fastapi_reviewer.facts.model import EMPTY_MAP, FunctionFacts
from fastapi_reviewer.facts.positions import loading_into, loading_table

# the inside of a function, in this order in the blob
# (dict_entries stays outside: the Celery model reads every function's for beat schedules)
BODY_FIELDS = ("calls", "excepts", "return_values", "local_types", "globals", "stores", "uses", "loops", "literals", "bound")
_BODY = frozenset(BODY_FIELDS)
_EMPTY_BODY = tuple(EMPTY_MAP if name in ("local_types", "uses", "literals") else () for name in BODY_FIELDS)
# the outside: every other field, in FunctionFacts order (the constructor's arguments)
OUTSIDE_FIELDS = tuple(name for name in FunctionFacts.__dataclass_fields__ if name not in _BODY)


class BodyStore:
    """The insides of one module's functions: a pickle of one tuple of inside values per function,
    in the module's function order, the functions waiting for theirs, and the module's positions
    (what the spans inside resolve from)."""

    __slots__ = ("blob", "functions", "positions")

    def __init__(self, blob: bytes | None) -> None:
        self.blob = blob
        self.functions: list[tuple[int, LazyFunctionFacts]] = []
        self.positions = loading_table()  # made while its module loads (cache.loads)

    def __reduce__(self) -> tuple[Any, ...]:
        return BodyStore, (self.blob,)

    def decode(self) -> None:
        blob, self.blob = self.blob, None
        waiting, self.functions = self.functions, []
        bodies: Any = ()
        if blob is not None:
            try:
                with loading_into(self.positions):
                    bodies = pickle.loads(blob)
            except Exception:  # noqa: BLE001 - a damaged entry: empty bodies rather than a crash
                bodies = ()
        for position, fn in waiting:
            _set_inside(fn, *(bodies[position] if position < len(bodies) else _EMPTY_BODY))
            fn._store = None


class LazyFunctionFacts(FunctionFacts):
    __slots__ = ("_store", "call_targets", "call_keywords", "unresolved_calls", "call_args")

    def __getattr__(self, name: str) -> Any:
        # only reached for an unset slot: the inside before its first read (or the extras of an
        # object made by the dataclass constructor, e.g. dataclasses.replace)
        if name in _BODY:
            try:
                store = object.__getattribute__(self, "_store")
            except AttributeError:  # made by the constructor: its inside is set, or empty
                store = None
            if store is not None:
                store.decode()
            else:
                self._fill_empty()
            return object.__getattribute__(self, name)
        # the extras, dropped once the inside is built at load (``decode_bodies``: memory) or never
        # set (an object made by the constructor): answered from the calls, not kept
        derive = _DERIVED.get(name)
        if derive is not None:
            return derive(self.calls)
        raise AttributeError(name)

    def _fill_empty(self) -> None:
        for name, value in zip(BODY_FIELDS, _EMPTY_BODY):
            try:
                object.__getattribute__(self, name)
            except AttributeError:
                object.__setattr__(self, name, value)


def _written_out(name: str, params: list[str], body: list[str], namespace: dict[str, Any]) -> Any:
    """A function written out slot by slot: a loop over the field names cost a third of loading a
    module's facts."""
    exec("\n".join([f"def {name}({', '.join(params)}):", *body]), namespace)  # noqa: S102 - our own field names
    return namespace[name]


_set_inside = _written_out("set_inside", ["fn", *BODY_FIELDS], [f"    fn.{name} = {name}" for name in BODY_FIELDS], {})

# ``lazy_function(*outside, call_targets, call_keywords, unresolved_calls, call_args, store, position)``: the
# unpickler's constructor (cache.py): the outside set, the inside left in the module's store
_NAMES = [*OUTSIDE_FIELDS, "call_targets", "call_keywords", "unresolved_calls", "call_args"]
lazy_function = _written_out(
    "lazy_function",
    [*_NAMES, "store", "position"],
    ["    fn = new(LazyFunctionFacts)", *(f"    fn.{name} = {name}" for name in _NAMES), "    fn._store = store", "    store.functions.append((position, fn))", "    return fn"],
    {"new": LazyFunctionFacts.__new__, "LazyFunctionFacts": LazyFunctionFacts},
)


def _keywords(calls: Any) -> tuple[tuple[int, tuple[str, ...]], ...]:
    return tuple((i, tuple(call.kwargs)) for i, call in enumerate(calls) if call.kwargs)


# the extras, as derived from a function's calls (a loaded function keeps them precomputed)
_DERIVED: dict[str, Callable[[Any], tuple[Any, ...]]] = {
    "call_targets": lambda calls: tuple(call.target for call in calls),
    "call_keywords": _keywords,
    "unresolved_calls": lambda calls: tuple(call.raw for call in calls if call.target is None),
    "call_args": lambda calls: tuple(call.args for call in calls),
}


def decode_bodies(module: Any) -> None:
    """Build the insides of a loaded module's functions now (a whole-project run reads them all),
    and drop the extras: the calls say the same, and a 6,000-file project's facts are ~15 MB
    smaller without them.  Their slots hold None then (``_extra`` derives them from the calls),
    not nothing: a read of an unset slot would go through ``__getattr__`` every time."""
    store = getattr(module.functions[0], "_store", None) if module.functions else None  # one per module
    if store is not None:
        store.decode()
    for fn in module.functions:
        if type(fn) is LazyFunctionFacts:
            fn.call_targets = fn.call_keywords = fn.unresolved_calls = fn.call_args = None


def _extra(fn: FunctionFacts, name: str) -> Any:
    found = getattr(fn, name, None)
    return found if found is not None else _DERIVED[name](fn.calls)


def call_targets(fn: FunctionFacts) -> tuple[str | None, ...]:
    """The target of each call of the function, in order, without decoding a lazy body."""
    return _extra(fn, "call_targets")  # type: ignore[no-any-return]


def call_keywords(fn: FunctionFacts) -> tuple[tuple[int, tuple[str, ...]], ...]:
    """(index, keyword names) of each call of the function that passes keyword arguments, in order,
    without decoding a lazy body."""
    return _extra(fn, "call_keywords")  # type: ignore[no-any-return]


def call_args(fn: FunctionFacts) -> tuple[tuple[str, ...], ...]:
    """The positional arguments of each call of the function (as in ``CallFact.args``), in order,
    without decoding a lazy body: what registrations (``app.task(fn)``) and offload helpers
    (``run_in_threadpool(fn)``) hand over."""
    return _extra(fn, "call_args")  # type: ignore[no-any-return]


def unresolved_calls(fn: FunctionFacts) -> tuple[str, ...]:
    """The callee as written (``raw``) of each call without a target, in order, without decoding a
    lazy body: what the Celery model looks for among them (``sender.add_periodic_task``)."""
    return _extra(fn, "unresolved_calls")  # type: ignore[no-any-return]
