"""libcst's parse with cheaper node constructors: a quarter of the parse saved.

libcst's native parser builds every node (~3,000 in a typical module) by calling its class.  The
constructor dataclasses wrote for these frozen, slotted classes sets each field through
``object.__setattr__`` (the class forbids plain assignment) and ends in ``__post_init__`` ->
``_validate()``: parentheses that pair, whitespace where a keyword needs it, non-empty names...
checks of what the parser has just checked (libcst's own comment on ``__post_init__`` suggests
moving them out of parsing).  Both together are about a quarter of the parse.

While ``fast_nodes()`` is active, each node class has instead a constructor that stores its fields
straight into their slots (the slot descriptors' own ``__set__``) and validates nothing; the
classes get their own constructors back when it ends, so nodes built anywhere else (the fixes'
codemods) are validated as ever.  The trees are the same (``tests/test_extract.py`` compares the
facts of both parses).  A class whose shape is not the expected one (no slot for a field, a field
left out of ``__init__``...) keeps its constructor.  The switch is process-wide: only parsing code
runs while it is on (one thread; workers parse only).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import libcst as cst
from libcst._nodes.base import CSTNode

_FAST: dict[type, Callable[..., None]] | None = None
_ORIGINAL: dict[type, Any] = {}
_active = 0


def _slotted_node_classes() -> list[type]:
    found: list[type] = []
    seen: set[type] = set()
    todo: list[type] = [CSTNode]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in seen:
                seen.add(sub)
                todo.append(sub)
                # libcst's @add_slots builds a new class; the one it replaced (no slots) is never built
                if "__slots__" in sub.__dict__ and "__init__" in sub.__dict__ and dataclasses.is_dataclass(sub):
                    found.append(sub)
    return found


def _fast_init(kind: type) -> Callable[..., None] | None:
    """A constructor with the dataclass one's signature that fills the slots, or None."""
    if any("__post_init__" in klass.__dict__ for klass in kind.__mro__ if klass is not CSTNode):
        return None  # a class doing more than validating after construction: left as it is
    namespace: dict[str, Any] = {"_FACTORY": object()}
    params: list[str] = []
    body: list[str] = []
    for i, field in enumerate(dataclasses.fields(kind)):
        slot = kind.__dict__.get(field.name)
        if not field.init or field.kw_only or slot is None or not hasattr(slot, "__set__"):
            return None
        namespace[f"_set{i}"] = slot.__set__
        if field.default is not dataclasses.MISSING:
            namespace[f"_default{i}"] = field.default
            params.append(f"{field.name}=_default{i}")
        elif field.default_factory is not dataclasses.MISSING:
            namespace[f"_factory{i}"] = field.default_factory
            params.append(f"{field.name}=_FACTORY")
            body.append(f"    if {field.name} is _FACTORY:\n        {field.name} = _factory{i}()")
        else:
            params.append(field.name)
        body.append(f"    _set{i}(self, {field.name})")
    source = f"def __init__(self, {', '.join(params)}):\n" + ("\n".join(body) or "    pass") + "\n"
    try:
        exec(source, namespace)  # noqa: S102 - field names of libcst's own classes
    except SyntaxError:  # a field name that is not an identifier: not a shape we know
        return None
    return namespace["__init__"]  # type: ignore[no-any-return]


def _constructors() -> dict[type, Callable[..., None]]:
    global _FAST
    if _FAST is None:
        made = {kind: _fast_init(kind) for kind in _slotted_node_classes()}
        _FAST = {kind: init for kind, init in made.items() if init is not None}
    return _FAST


@contextmanager
def fast_nodes() -> Iterator[None]:
    """Node classes with the fast constructors for the block (re-entrant)."""
    global _active
    if _active == 0:
        for kind, init in _constructors().items():
            _ORIGINAL[kind] = kind.__dict__["__init__"]
            kind.__init__ = init  # type: ignore[misc]
    _active += 1
    try:
        yield
    finally:
        _active -= 1
        if _active == 0:
            for kind, init in _ORIGINAL.items():
                kind.__init__ = init  # type: ignore[misc]
            _ORIGINAL.clear()


# Leaf nodes with one text field: about half the nodes of a tree are these two, nearly all of them
# SimpleWhitespace("") or (" ") and Newline().  The native parser builds each one by calling the
# class it finds as ``libcst.<Name>`` at that moment; while a file is parsed, that name holds a
# memoised constructor instead (C-level ``functools.lru_cache``): equal leaves are one shared
# object, made once per process.  Nodes are immutable and compared by identity only as keys of
# metadata, which nothing asks about whitespace; no code of ours runs during the parse itself, so
# the swapped names are never seen (they are restored before the tree is walked).  ~7 % of the
# parse, made and freed (bench/RESULTS.md).
SHARED_LEAVES = ("SimpleWhitespace", "Newline")
_SHARED: dict[str, Callable[..., Any]] = {}


def _shared_leaves() -> dict[str, Callable[..., Any]]:
    if not _SHARED:
        for name in SHARED_LEAVES:
            kind = getattr(cst, name)
            _SHARED[name] = functools.lru_cache(maxsize=1024)(kind)
    return _SHARED


def parse_module(source: str) -> cst.Module:
    """``libcst.parse_module`` with the fast constructors and shared leaf nodes."""
    shared = _shared_leaves()
    real = {name: getattr(cst, name) for name in shared}
    with fast_nodes():
        try:
            for name, make in shared.items():
                setattr(cst, name, make)
            return cst.parse_module(source)
        finally:
            for name, kind in real.items():
                setattr(cst, name, kind)
