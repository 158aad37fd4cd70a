"""A read-only traversal of a libcst tree that calls a CSTVisitor's hooks like ``node.visit`` does.

``CSTNode.visit`` rebuilds every node of the tree as it goes (``_visit_and_replace_children``
constructs a new node and runs its validation even for a read-only ``CSTVisitor``): that costs
about twice the parse.  ``walk`` calls the same hooks in the same order -- ``visit_<Node>``, then
for each child attribute in source order ``visit_<Node>_<attr>``, the children, and
``leave_<Node>_<attr>``, then ``leave_<Node>`` -- without building anything, and does not descend
into whitespace and punctuation (unless the visitor has a hook for one of those).

The attribute order of a node type is read once from libcst itself: its
``_visit_and_replace_children`` is run with a visitor that records the attributes it is told
about and does not descend.  From it, each node type met gets a small function written out for
it (``_Visitors``): its hooks and one statement per child attribute, no loop over attribute names.
``tests/test_walk.py`` compares the hooks called, and their order, with libcst's own visit.
"""

from __future__ import annotations

import sys
import typing
from collections.abc import Callable
from typing import Any

import libcst as cst
from libcst import MaybeSentinel
from libcst._nodes import op as _op
from libcst._nodes import whitespace as _whitespace

_Hook = Callable[[Any], Any] | None
# per (visitor class, node class): (visit, leave, ((attr, visit_attr, leave_attr), ...))
_Plan = tuple[_Hook, _Hook, tuple[tuple[str, _Hook, _Hook], ...]]

_ORDER: dict[type, tuple[str, ...]] = {}
# children libcst visits only when present (its only conditional visits, libcst 1.x): the attribute
# goes last, which is where libcst visits it
_CONDITIONAL = {"FormattedStringExpression": ("format_spec",), "TemplatedStringExpression": ("format_spec",)}


def _token_types() -> frozenset[type]:
    found: set[type] = set()
    for module in (_op, _whitespace):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, cst.CSTNode) and value.__module__ == module.__name__:
                found.add(value)
    for name in ("LeftParen", "RightParen", "LeftSquareBracket", "RightSquareBracket", "LeftCurlyBrace", "RightCurlyBrace"):
        kind = getattr(cst, name, None)
        if isinstance(kind, type):
            found.add(kind)
    return frozenset(found)


# whitespace, comments, commas, operators, brackets: they hold only one another
TOKENS = _token_types()
_TOKEN_NAMES = frozenset(t.__name__ for t in TOKENS)


class _Recorder(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.attrs: list[str] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        return False

    def on_leave(self, original_node: cst.CSTNode) -> None:
        return None

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        self.attrs.append(attribute)

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        return None


def child_order(node: cst.CSTNode) -> tuple[str, ...]:
    """The child attributes of the node's type, in the order libcst visits them."""
    kind = type(node)
    order = _ORDER.get(kind)
    if order is None:
        recorder = _Recorder()
        node._visit_and_replace_children(recorder)
        extra = tuple(a for a in _CONDITIONAL.get(kind.__name__, ()) if a not in recorder.attrs)
        order = _ORDER[kind] = tuple(recorder.attrs) + extra
    return order


_OWN: dict[type, frozenset[str]] = {}


def _own_hooks(kind: type) -> frozenset[str]:
    """visit_*/leave_* methods the visitor defines itself (libcst's base classes define no-op stubs)."""
    found = _OWN.get(kind)
    if found is None:
        names: set[str] = set()
        for klass in kind.__mro__:
            if klass.__module__.startswith("libcst") or klass is object:
                continue
            names.update(n for n in vars(klass) if n.startswith(("visit_", "leave_")))
        found = _OWN[kind] = frozenset(names)
    return found


_PLANS: dict[type, dict[type, _Plan]] = {}
_SKIPS: dict[type, set[type]] = {}  # per visitor class: node types walk does not enter


def _token_only_class(kind: Any) -> bool:
    """A node class whose instances (its subclasses' too) are all whitespace or punctuation."""
    if kind not in TOKENS:
        return False
    return all(_token_only_class(sub) for sub in kind.__subclasses__() if not _replaced(sub))


def _replaced(kind: type) -> bool:
    """libcst's ``@add_slots`` builds a new class; the one it replaced stays behind among its base's
    ``__subclasses__()`` but its module no longer names it, and the parser never builds it."""
    module = sys.modules.get(kind.__module__)
    return module is not None and getattr(module, kind.__qualname__, kind) is not kind


def _holds_only_tokens(annotation: Any) -> bool:
    """True when nothing the field annotation allows is a node worth walking: tokens, strings,
    sentinels, None, ``Sequence[Comma]``...  Anything unknown counts as a node."""
    if annotation is None or annotation is type(None):
        return True
    args = typing.get_args(annotation)
    if args:
        if typing.get_origin(annotation) is typing.Literal:
            return True
        return all(_holds_only_tokens(a) for a in args)
    if not isinstance(annotation, type):
        return False  # a forward reference, Any, a type variable: assume the worst
    if issubclass(annotation, cst.CSTNode):
        return _token_only_class(annotation)
    return annotation in (str, bool, int, MaybeSentinel)


_TOKEN_FIELDS: dict[type, frozenset[str]] = {}


def _token_fields(kind: type) -> frozenset[str]:
    """The node type's fields that by their annotation only ever hold tokens (or no node):
    ``lpar``, ``whitespace_after``, ``comma``...  Skipping them saves the look-ups, not just
    the visits: most attributes of most nodes are of this kind."""
    found = _TOKEN_FIELDS.get(kind)
    if found is None:
        try:
            hints = typing.get_type_hints(kind)
        except Exception:  # noqa: BLE001 - an annotation that does not resolve: walk every field
            hints = {}
        found = _TOKEN_FIELDS[kind] = frozenset(n for n, a in hints.items() if _holds_only_tokens(a))
    return found


def _plan(visitor_kind: type, node: cst.CSTNode, skip: set[type]) -> _Plan:
    """The visitor's own hooks for the node's type, as plain functions (called with the visitor),
    and the child attributes worth reading.  When the visitor does not look at tokens, fields
    that hold only tokens are left out, and a node type with no hook and nothing left to read is
    added to ``skip``: walk does not even enter it."""
    kind = type(node)
    name = kind.__name__
    own = _own_hooks(visitor_kind)

    def hook(attr: str) -> _Hook:
        return getattr(visitor_kind, attr) if attr in own else None

    conditional = _CONDITIONAL.get(name, ())
    token_fields = _token_fields(kind) if TOKENS <= skip else frozenset()
    attrs = []
    for attr in child_order(node):
        if attr in conditional:
            attrs.append((attr, None, None))
            continue
        visit_attr, leave_attr = hook(f"visit_{name}_{attr}"), hook(f"leave_{name}_{attr}")
        if visit_attr is None and leave_attr is None and attr in token_fields:
            continue
        attrs.append((attr, visit_attr, leave_attr))
    plan = (hook(f"visit_{name}"), hook(f"leave_{name}"), tuple(attrs))
    _PLANS[visitor_kind][kind] = plan
    if plan == (None, None, ()) and TOKENS <= skip:
        skip.add(kind)
    return plan


_SHAPES: dict[type, int] = {}


def _shape(kind: type) -> int:
    found = 1 if issubclass(kind, cst.CSTNode) else 2 if issubclass(kind, (tuple, list)) else 0
    _SHAPES[kind] = found
    return found


def _noop(visitor: Any, node: Any) -> None:
    return None


class _Visitors(dict):  # type: ignore[type-arg]
    """Per visitor class: node type -> a function ``(visitor, node)`` walking one such node, made
    from the type's plan the first time a node of it is met (``_noop`` for what is not walked:
    strings, None, skipped types).  Each function is written out for its type -- the hooks as
    constants, one statement per child attribute -- so the walk does no per-attribute loop,
    ``getattr`` or shape look-up."""

    def __init__(self, visitor_kind: type, skip: set[type]) -> None:
        super().__init__()
        self.visitor_kind = visitor_kind
        self.skip = skip
        self.plans: dict[type, _Plan] = _PLANS.setdefault(visitor_kind, {})

    def make(self, value: Any) -> Callable[[Any, Any], None]:
        kind = type(value)
        if not isinstance(value, cst.CSTNode) or kind in self.skip:
            self[kind] = _noop
            return _noop
        plan = self.plans.get(kind) or _plan(self.visitor_kind, value, self.skip)
        if kind in self.skip:  # nothing in it for this visitor (_plan said so)
            self[kind] = _noop
            return _noop
        on_visit, on_leave, attrs = plan
        namespace: dict[str, Any] = {"get": self.get, "make": self.make, "_noop": _noop, "on_visit": on_visit, "on_leave": on_leave}
        lines = ["def walk_node(v, node):"]
        indent = "    "
        if on_visit is not None:
            lines.append("    if on_visit(v, node) is not False:")
            indent = "        "
        for i, (attr, visit_attr, leave_attr) in enumerate(attrs):
            if visit_attr is not None:
                namespace[f"visit{i}"] = visit_attr
                lines.append(f"{indent}visit{i}(v, node)")
            lines += [
                f"{indent}value = node.{attr}",
                f"{indent}kind = type(value)",
                f"{indent}if kind is tuple or kind is list:",
                f"{indent}    for item in value:",
                f"{indent}        f = get(type(item)) or make(item)",
                f"{indent}        if f is not _noop:",
                f"{indent}            f(v, item)",
                f"{indent}else:",
                f"{indent}    f = get(kind) or make(value)",
                f"{indent}    if f is not _noop:",
                f"{indent}        f(v, value)",
            ]
            if leave_attr is not None:
                namespace[f"leave{i}"] = leave_attr
                lines.append(f"{indent}leave{i}(v, node)")
        if on_visit is not None and not attrs:
            lines.append("        pass")
        if on_leave is not None:
            lines.append("    on_leave(v, node)")
        if len(lines) == 1:
            lines.append("    pass")
        exec("\n".join(lines) + "\n", namespace)  # noqa: S102 - attribute names of libcst's own classes
        made: Callable[[Any, Any], None] = namespace["walk_node"]
        self[kind] = made
        return made


_VISITORS: dict[type, _Visitors] = {}


def walk(tree: cst.CSTNode, visitor: cst.CSTVisitor) -> None:
    """Like ``tree.visit(visitor)`` for a read-only visitor, without rebuilding the tree."""
    visitor_kind = type(visitor)
    visitors = _VISITORS.get(visitor_kind)
    if visitors is None:
        skip = _SKIPS.get(visitor_kind)
        if skip is None:
            hooked = {n.split("_", 2)[1] for n in _own_hooks(visitor_kind)}
            # a hook on any token type: descend everywhere (they nest: comments sit in whitespace)
            skip = _SKIPS[visitor_kind] = set() if hooked & _TOKEN_NAMES else set(TOKENS)
        visitors = _VISITORS[visitor_kind] = _Visitors(visitor_kind, skip)
    walk_node = visitors.get(type(tree)) or visitors.make(tree)
    if walk_node is not _noop:
        walk_node(visitor, tree)


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """``node.children`` without whitespace and punctuation, and without rebuilding the node
    (libcst's ``children`` runs ``_visit_and_replace_children``: it builds a copy of the node)."""
    out: list[cst.CSTNode] = []
    for attr in child_order(node):
        value = getattr(node, attr)
        kind = type(value)
        what = _SHAPES.get(kind)
        if what is None:
            what = _shape(kind)
        if what == 1:
            if kind not in TOKENS:
                out.append(value)
        elif what == 2:
            out.extend(child for child in value if type(child) not in TOKENS)
    return out
