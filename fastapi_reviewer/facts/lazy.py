"""Function bodies loaded on first read.

Most of a module's facts are what happens *inside* its functions: the calls (with their spans,
arguments, keywords), handlers, return values, loops, data-flow uses.  The project-wide models need
only the outside of every function (name, decorators, parameters, flags) and the target and keyword
names of every call; the rules read the inside of the functions they start from and of what those
reach.  A run that names a few files (pre-commit) reaches a small part of the project, so loaded
facts (cache.py) keep each function's inside as one pickled blob and decode it on the first read
of any inside field: about half the objects of a module are never built in such a run.

``LazyFunctionFacts`` is a ``FunctionFacts`` whose inside slots are unset until then: reading one
falls through to ``__getattr__``, which decodes the blob, fills every inside slot and drops the
blob; after that every read is an ordinary slot read.  Its eager extras, ``call_targets`` and
``call_keywords``, are what ``ProjectIndex.call_sites`` groups the project's calls by.
"""

from __future__ import annotations

import pickle
from typing import Any

from fastapi_reviewer.facts.model import EMPTY_MAP, FunctionFacts

# the inside of a function, in this order in the blob
# (dict_entries stays outside: the Celery model reads every function's for beat schedules)
BODY_FIELDS = ("calls", "excepts", "return_values", "local_types", "globals", "stores", "uses", "loops", "literals", "bound")
_BODY = frozenset(BODY_FIELDS)
_EMPTY_BODY = tuple(EMPTY_MAP if name in ("local_types", "uses", "literals") else () for name in BODY_FIELDS)
# the outside: every other field, in FunctionFacts order (the constructor's arguments)
OUTSIDE_FIELDS = tuple(name for name in FunctionFacts.__dataclass_fields__ if name not in _BODY)


class LazyFunctionFacts(FunctionFacts):
    __slots__ = ("_body", "call_targets", "call_keywords", "unresolved_calls")

    def __getattr__(self, name: str) -> Any:
        # only reached for an unset slot: the inside before its first read (or the extras of an
        # object made by the dataclass constructor, e.g. dataclasses.replace)
        if name in _BODY:
            self._decode()
            return object.__getattribute__(self, name)
        if name == "call_targets":
            self.call_targets = tuple(call.target for call in self.calls)
            return self.call_targets
        if name == "call_keywords":
            self.call_keywords = _keywords(self.calls)
            return self.call_keywords
        if name == "unresolved_calls":
            self.unresolved_calls = tuple(call.raw for call in self.calls if call.target is None)
            return self.unresolved_calls
        raise AttributeError(name)

    def _decode(self) -> None:
        try:
            blob = object.__getattribute__(self, "_body")
        except AttributeError:  # made by the constructor: its inside is set, or empty
            blob = None
        values = _EMPTY_BODY
        if blob is not None:
            try:
                values = pickle.loads(blob)
            except Exception:  # noqa: BLE001 - a damaged entry: an empty body rather than a crash
                values = _EMPTY_BODY
        setter = object.__setattr__
        for name, value in zip(BODY_FIELDS, values):
            try:
                object.__getattribute__(self, name)
            except AttributeError:
                setter(self, name, value)
        self._body = None  # memory: the blob goes once decoded


def _constructor() -> Any:
    """``lazy_function(*outside, call_targets, call_keywords, unresolved_calls, body)``: the
    unpickler's constructor (cache.py), written out slot by slot (a loop over the names cost a third
    of loading a module's facts): the outside set, the inside left as a blob."""
    names = [*OUTSIDE_FIELDS, "call_targets", "call_keywords", "unresolved_calls", "_body"]
    lines = [f"def lazy_function({', '.join(names)}):", "    fn = new(LazyFunctionFacts)"]
    lines += [f"    fn.{name} = {name}" for name in names]
    lines.append("    return fn")
    namespace = {"new": LazyFunctionFacts.__new__, "LazyFunctionFacts": LazyFunctionFacts}
    exec("\n".join(lines), namespace)  # noqa: S102 - our own field names
    return namespace["lazy_function"]


lazy_function = _constructor()


def call_targets(fn: FunctionFacts) -> tuple[str | None, ...]:
    """The target of each call of the function, in order, without decoding a lazy body."""
    found = getattr(fn, "call_targets", None)
    return found if found is not None else tuple(call.target for call in fn.calls)


def call_keywords(fn: FunctionFacts) -> tuple[tuple[int, tuple[str, ...]], ...]:
    """(index, keyword names) of each call of the function that passes keyword arguments, in order,
    without decoding a lazy body."""
    found = getattr(fn, "call_keywords", None)
    return found if found is not None else _keywords(fn.calls)


def _keywords(calls: Any) -> tuple[tuple[int, tuple[str, ...]], ...]:
    return tuple((i, tuple(call.kwargs)) for i, call in enumerate(calls) if call.kwargs)


def unresolved_calls(fn: FunctionFacts) -> tuple[str, ...]:
    """The callee as written (``raw``) of each call without a target, in order, without decoding a
    lazy body: what the Celery model looks for among them (``sender.add_periodic_task``)."""
    found = getattr(fn, "unresolved_calls", None)
    return found if found is not None else tuple(call.raw for call in fn.calls if call.target is None)
