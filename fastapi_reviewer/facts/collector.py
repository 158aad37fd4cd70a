"""One libcst traversal that turns a module into its ModuleFacts.

Name resolution happens here, with our own scope tables (as flake8-async does) instead of libcst's
ScopeProvider/QualifiedNameProvider, which each cost several times the parse.  Python looks names
up when code runs, so a function may use an import written below it: the visitor records raw
names while it walks and resolves them all once the module is complete (``_pending``).

Node kinds are tested with ``type(node) is cst.Name``, not ``isinstance``: libcst's node classes
are ABCs, so each isinstance that fails runs ABCMeta.__instancecheck__ (several times dearer, and
most tests fail), while the parser builds exactly the concrete classes tested here, which have no
subclasses.  The same holds in flow.py and positions.py.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import libcst as cst

from fastapi_reviewer.facts.flow import FlowTracker
from fastapi_reviewer.facts.model import (
    CallFact,
    ClassFacts,
    DecoratorFact,
    ExceptFact,
    FunctionFacts,
    ModuleFacts,
    ParamFact,
    ReturnFact,
    Span,
)
from fastapi_reviewer.facts.positions import LazySpan
from fastapi_reviewer.facts.ranks import RankPositions

BUILTINS = frozenset(dir(builtins))
_HEAD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DEPENDS = frozenset(
    {
        "fastapi.Depends",
        "fastapi.Security",
        "fastapi.params.Depends",
        "fastapi.params.Security",
        "fastapi.param_functions.Depends",
        "fastapi.param_functions.Security",
    }
)
_BODY = frozenset({"fastapi.Body", "fastapi.params.Body", "fastapi.param_functions.Body"})
_PARAM_FUNCTIONS = frozenset(
    f"fastapi.{module}{name}"
    for module in ("", "params.", "param_functions.")
    for name in ("Query", "Path", "Body", "Header", "Cookie", "Form", "File", "Depends", "Security")
)
_ANNOTATED = frozenset({"typing.Annotated", "typing_extensions.Annotated"})
_OPTIONAL = frozenset({"typing.Optional", "typing_extensions.Optional"})
_MAX_TEXT = 300
_MAX_DICT_ENTRIES = 500  # per function: data tables need not be kept


def chain(expr: cst.BaseExpression) -> str | None:
    """The dotted text of a callee or receiver: ``a.b().c``; None for anything else."""
    parts: list[str] = []
    node: cst.BaseExpression = expr
    while True:
        if type(node) is cst.Name:
            parts.append(node.value)
            break
        if type(node) is cst.Attribute:
            parts.append("." + node.attr.value)
            node = node.value
        elif type(node) is cst.Call:
            parts.append("()")
            node = node.func
        elif type(node) is cst.Await:
            node = node.expression
        else:
            return None
    return "".join(reversed(parts))


def _division_chain(node: cst.BaseExpression) -> str | None:
    """`base / "a" / "b"` -> `base.__truediv__().__truediv__()` (a Path when `base` is one)."""
    if type(node) is cst.BinaryOperation and type(node.operator) is cst.Divide:
        left = _division_chain(node.left) or chain(node.left)
        return f"{left}.__truediv__()" if left else None
    return None


def _plain_string(text: str) -> str | None:
    """The value of an unprefixed string literal without escapes, by slicing off its quotes;
    None when it needs Python's rules (a prefix, a backslash, a carriage return the tokenizer
    would translate).  ``evaluated_value`` compiles a module per string: the dearest part of it."""
    if text[0] not in "'\"" or "\\" in text or "\r" in text:
        return None
    quotes = 3 if len(text) >= 6 and text[1] == text[2] == text[0] else 1
    return text[quotes:-quotes]


def _string_value(node: cst.BaseExpression) -> str | None:
    if type(node) is cst.SimpleString:
        plain = _plain_string(node.value)
        if plain is not None:
            return plain
        try:
            value = node.evaluated_value
        except Exception:  # noqa: BLE001 - odd escapes: keep the raw text
            return node.value
        return value if isinstance(value, str) else None
    if type(node) is cst.ConcatenatedString:
        left, right = _string_value(node.left), _string_value(node.right)
        if left is not None and right is not None:
            return left + right
    return None


@dataclass(slots=True)
class _Binding:
    kind: str  # q: qualified name, r: raw chain resolved in `scope`, ann: annotation node, u: unknown,
    #           none: the literal None, lit: a literal (text), var: module variable reference
    text: str | None = None
    scope: _Scope | None = None
    node: cst.BaseExpression | None = None
    origin: int | None = None  # id() of the Call node that produced the value
    text_partial: str | None = None  # the first argument, when the value may be functools.partial(f, ...)


@dataclass(slots=True, eq=False)
class _Scope:
    kind: str  # module | class | function
    qualname: str
    parent: _Scope | None
    bindings: dict[str, list[_Binding]] = field(default_factory=dict)
    facts: FunctionFacts | ClassFacts | None = None
    class_scope: _Scope | None = None  # for methods: the class they belong to
    globals: set[str] = field(default_factory=set)
    handlers: list[ExceptFact] = field(default_factory=list)
    loop_depth: int = 0
    withs: list[tuple[str, _Scope]] = field(default_factory=list)  # enclosing with-item callees (raw)
    finally_depth: int = 0
    lambda_depth: int = 0
    call_ids: dict[int, int] = field(default_factory=dict)
    cache: dict[str, str | None] = field(default_factory=dict)
    resolved: dict[str, str | None] = field(default_factory=dict)  # resolve_name's answers, once bindings are final

    def bind(self, name: str, binding: _Binding) -> None:
        self.bindings.setdefault(name, []).append(binding)


class FactsCollector(cst.CSTVisitor):
    def __init__(self, path: str, module: str, is_package: bool, positions: RankPositions) -> None:
        super().__init__()
        self.pos = positions
        self.facts = ModuleFacts(path=path, module=module, is_package=is_package)
        self._module_fn = FunctionFacts(name="<module>", qualname="<module>", is_async=False, span=Span(1, 1, 1, 1))
        self.facts.functions.append(self._module_fn)
        self._module_scope = _Scope("module", "", None, facts=self._module_fn)
        self._scopes: list[_Scope] = [self._module_scope]
        self._made: list[_Scope] = [self._module_scope]  # every scope, for release()
        self._function_scopes: list[_Scope] = [self._module_scope]  # _function_scope() of each _scopes entry
        self._bindings_final = False  # set when the walk is over: name look-ups may be remembered
        self._module_names: set[str] = set()
        self._pending: list[Callable[[], None]] = []
        self._awaited: set[int] = set()
        self._raised: set[int] = set()
        self._returned: set[int] = set()
        self._assigned: dict[int, str] = {}
        self._with_items: set[int] = set()
        self._main_guard = 0
        self._resolving: set[tuple[int, str]] = set()
        self._class_attr_raw: list[tuple[ClassFacts, str, _Binding]] = []
        self.flow = FlowTracker()

    def release(self) -> None:
        """Once the facts are out: break the scopes' cycles (a binding points back at the scope
        holding it), so that reference counting frees the collector's working state and the
        tree it points into at once, without a pass of the cyclic collector after each file."""
        for scope in self._made:
            scope.bindings.clear()
            scope.withs.clear()  # (callee, scope) pairs: a scope can be its own
        self._made.clear()

    # ------------------------------------------------------------------ scopes
    @property
    def _scope(self) -> _Scope:
        return self._scopes[-1]

    def _function_scope(self) -> _Scope:
        """The innermost function scope (class bodies run in their enclosing function)."""
        return self._function_scopes[-1]

    def _push_scope(self, scope: _Scope) -> None:
        self._scopes.append(scope)
        self._function_scopes.append(self._function_scopes[-1] if scope.kind == "class" else scope)

    def _pop_scope(self) -> _Scope:
        self._function_scopes.pop()
        return self._scopes.pop()

    def _qual(self, name: str) -> str:
        parent = self._scope.qualname
        return f"{parent}.{name}" if parent else name

    def _full(self, qualname: str) -> str:
        return f"{self.facts.module}.{qualname}" if self.facts.module else qualname

    def _bind_here(self, name: str, binding: _Binding) -> None:
        scope = self._scope
        if scope.kind == "function" and name in scope.globals:
            self._module_scope.bind(name, binding)
            return
        scope.bind(name, binding)

    # --------------------------------------------------------------- resolving
    def resolve_name(self, raw: str | None, scope: _Scope) -> str | None:
        if not raw:
            return None
        if self._bindings_final and not self._resolving:
            # the same callee or argument is resolved many times in one scope; an answer found
            # inside another resolution may be cut short by the cycle guard, so only a top-level
            # one is kept (the same it would be asked again: _value_of keeps its answers too)
            found = scope.resolved
            if raw in found:
                return found[raw]
            value = found[raw] = self._resolve(raw, scope)
            return value
        return self._resolve(raw, scope)

    def _resolve(self, raw: str, scope: _Scope) -> str | None:
        match = _HEAD.match(raw)
        if not match:
            return None
        head = match.group()
        base = self._lookup(head, scope)
        if base is None:
            return None
        return base + raw[len(head) :]

    def _lookup(self, head: str, scope: _Scope) -> str | None:
        s: _Scope | None = scope
        first = True
        while s is not None:
            if s.kind == "class" and not first:
                s = s.parent
                continue
            first = False
            if head in s.bindings:
                return self._value_of(head, s)
            s = s.parent
        if head in BUILTINS:
            return "builtins." + head
        return None

    def _value_of(self, name: str, scope: _Scope) -> str | None:
        if name in scope.cache:
            return scope.cache[name]
        key = (id(scope), name)
        if key in self._resolving:  # x = x.child(): give up rather than loop
            return None
        self._resolving.add(key)
        try:
            bindings = scope.bindings[name]
            if scope.kind == "module" and any(b.kind in ("r", "lit", "none", "u", "ann") for b in bindings):
                value: str | None = self._full(name)  # a module variable: the index knows its type
            else:
                value = self._merge([self._binding_value(b) for b in bindings if b.kind != "none"])
        finally:
            self._resolving.discard(key)
        scope.cache[name] = value
        return value

    def _binding_value(self, b: _Binding) -> str | None:
        if b.kind in ("q", "var"):
            return b.text
        if b.kind == "r" and b.scope is not None:
            if b.text_partial is not None and b.node is not None:
                if self.resolve_name(chain(b.node), b.scope) == "functools.partial":
                    return self.resolve_name(b.text_partial, b.scope)
            return self.resolve_name(b.text, b.scope)
        if b.kind == "ann" and b.node is not None and b.scope is not None:
            core = self._core_type(b.node, b.scope)
            return core + "()" if core else None
        return None

    @staticmethod
    def _merge(values: list[str | None]) -> str | None:
        if not values or any(v is None for v in values):
            return None
        first = values[0]
        return first if all(v == first for v in values) else None

    def _core_type(self, node: cst.BaseExpression, scope: _Scope) -> str | None:
        """The class an annotation names: Optional[X], X | None, Annotated[X, ...] give X."""
        if type(node) is cst.SimpleString:
            value = _string_value(node)
            if value is None:
                return None
            try:
                node = cst.parse_expression(value)
            except Exception:  # noqa: BLE001 - a string that is not an expression
                return None
        if type(node) is cst.BinaryOperation and type(node.operator) is cst.BitOr:
            left, right = node.left, node.right
            if type(right) is cst.Name and right.value == "None":
                return self._core_type(left, scope)
            if type(left) is cst.Name and left.value == "None":
                return self._core_type(right, scope)
            return None
        if type(node) is cst.Subscript:
            base = self.resolve_name(chain(node.value), scope)
            elements = [e.slice for e in node.slice if type(e.slice) is cst.Index]
            if base in _ANNOTATED or base in _OPTIONAL:
                return self._core_type(elements[0].value, scope) if elements else None
            return None
        return self.resolve_name(chain(node), scope)

    def render(self, node: cst.BaseExpression | None, scope: _Scope) -> str:
        """A resolved, compact text of an expression: names qualified, literals kept."""
        text = self._render(node, scope)
        return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 3] + "..."

    def _render(self, node: cst.BaseExpression | None, scope: _Scope) -> str:
        if node is None:
            return "None"
        if type(node) is cst.Name:
            if node.value in ("True", "False", "None"):
                return node.value
            return self.resolve_name(node.value, scope) or node.value
        if type(node) is cst.Attribute:
            raw = chain(node)
            if raw is not None:
                return self.resolve_name(raw, scope) or raw
            return self._render(node.value, scope) + "." + node.attr.value
        if type(node) in (cst.SimpleString, cst.ConcatenatedString):
            value = _string_value(node)
            return repr(value) if value is not None else "'?'"
        if type(node) in (cst.Integer, cst.Float, cst.Imaginary):
            return node.value
        if type(node) is cst.UnaryOperation and type(node.operator) is cst.Minus:
            return "-" + self._render(node.expression, scope)
        if type(node) is cst.Call:
            parts = [self._render(a.value, scope) if a.keyword is None else f"{a.keyword.value}={self._render(a.value, scope)}" for a in node.args]
            return f"{self._render(node.func, scope)}({', '.join(parts)})"
        if type(node) in (cst.List, cst.Tuple, cst.Set):
            inner = ", ".join(self._render(e.value, scope) for e in node.elements if type(e) is cst.Element)
            return {cst.List: "[{}]", cst.Tuple: "({})", cst.Set: "{{{}}}"}[type(node)].format(inner)
        if type(node) is cst.Subscript:
            inner = ", ".join(
                self._render(e.slice.value, scope) for e in node.slice if type(e.slice) is cst.Index
            )
            return f"{self._render(node.value, scope)}[{inner}]"
        if type(node) is cst.BinaryOperation and type(node.operator) is cst.BitOr:
            return f"{self._render(node.left, scope)} | {self._render(node.right, scope)}"
        if type(node) is cst.Dict:
            return "{...}"
        if type(node) is cst.Lambda:
            return "lambda"
        if type(node) is cst.Await:
            return "await " + self._render(node.expression, scope)
        return "?"

    def render_type(self, node: cst.BaseExpression | None, scope: _Scope) -> str | None:
        if node is None:
            return None
        if type(node) is cst.SimpleString:
            value = _string_value(node)
            if value is not None:
                try:
                    return self.render(cst.parse_expression(value), scope)
                except Exception:  # noqa: BLE001
                    return value
        return self.render(node, scope)

    # ----------------------------------------------------------------- imports
    def _package(self, level: int) -> str:
        parts = self.facts.module.split(".") if self.facts.module else []
        if not self.facts.is_package:
            parts = parts[:-1]
        if level > 1:
            parts = parts[: len(parts) - (level - 1)] if level - 1 <= len(parts) else []
        return ".".join(parts)

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            full = cst.helpers.get_full_name_for_node(alias.name) or ""
            self.facts.imported_modules.append(full)
            if alias.asname is not None and type(alias.asname.name) is cst.Name:
                local = alias.asname.name.value
                target = full
            else:
                local = full.split(".")[0]
                target = local
            self._bind_import(local, target)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        level = len(node.relative)
        module = cst.helpers.get_full_name_for_node(node.module) if node.module is not None else ""
        if level:
            package = self._package(level)
            base = ".".join(p for p in (package, module) if p)
        else:
            base = module or ""
        self.facts.imported_modules.append(base)
        if type(node.names) is cst.ImportStar:
            if self._scope is self._module_scope:
                self.facts.star_imports.append(base)
            return
        for alias in node.names:
            name = cst.helpers.get_full_name_for_node(alias.name) or ""
            local = alias.asname.name.value if alias.asname is not None and type(alias.asname.name) is cst.Name else name
            self._bind_import(local, f"{base}.{name}" if base else name)

    def _bind_import(self, local: str, target: str) -> None:
        self._bind_here(local, _Binding("q", target))
        if self._scope is self._module_scope:
            self.facts.imports[local] = target

    # ------------------------------------------------------------- definitions
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        span = self.pos.definition(node)
        enclosing = self._scope
        qualname = self._qual(node.name.value)
        fn = FunctionFacts(
            name=node.name.value,
            qualname=qualname,
            is_async=node.asynchronous is not None,
            span=span,
            class_name=enclosing.qualname if enclosing.kind == "class" else None,
            parent=enclosing.qualname if enclosing.kind == "function" else None,
        )
        self.facts.functions.append(fn)
        self._bind_here(node.name.value, _Binding("q", self._full(qualname)))
        if isinstance(enclosing.facts, ClassFacts):
            enclosing.facts.methods.append(node.name.value)
        scope = _Scope("function", qualname, enclosing, facts=fn)
        self._made.append(scope)
        scope.class_scope = enclosing if enclosing.kind == "class" else None
        self._pending_function = scope
        decorator_names: list[str] = []
        dec_spans = self.pos.last_decorators
        for i, dec in enumerate(node.decorators):
            decorator_names.append(chain(dec.decorator.func if type(dec.decorator) is cst.Call else dec.decorator) or "")
            self._pending.append(self._decorator_job(fn, dec, enclosing, dec_spans[i]))
        self._setup_params(fn, node, scope, decorator_names)
        if node.returns is not None:
            ann = node.returns.annotation

            def returns_job() -> None:
                fn.returns = self.render_type(ann, enclosing)
                fn.return_type = self._core_type(ann, enclosing)

            self._pending.append(returns_job)

    def _decorator_job(
        self, target: FunctionFacts | ClassFacts, dec: cst.Decorator, scope: _Scope, span: LazySpan
    ) -> Callable[[], None]:
        def job() -> None:
            expr = dec.decorator
            if type(expr) is cst.Call:
                target.decorators.append(
                    DecoratorFact(
                        target=self.resolve_name(chain(expr.func), scope) or (chain(expr.func) or "?"),
                        called=True,
                        args=[self.render(a.value, scope) for a in expr.args if a.keyword is None and not a.star],
                        kwargs={a.keyword.value: self.render(a.value, scope) for a in expr.args if a.keyword is not None},
                        span=span,
                    )
                )
            else:
                target.decorators.append(
                    DecoratorFact(
                        target=self.resolve_name(chain(expr), scope) or (chain(expr) or "?"), called=False, span=span
                    )
                )

        return job

    def _setup_params(
        self,
        fn: FunctionFacts,
        node: cst.FunctionDef,
        scope: _Scope,
        decorator_names: list[str],
    ) -> None:
        p = node.params
        ordered: list[tuple[cst.Param, str]] = [(x, "normal") for x in (*p.posonly_params, *p.params)]
        if type(p.star_arg) is cst.Param:
            ordered.append((p.star_arg, "star"))
        ordered.extend((x, "kwonly") for x in p.kwonly_params)
        if p.star_kwarg is not None:
            ordered.append((p.star_kwarg, "dstar"))
        enclosing = scope.parent or self._module_scope
        is_method = scope.class_scope is not None and "staticmethod" not in decorator_names
        for index, (param, kind) in enumerate(ordered):
            name = param.name.value
            fact = ParamFact(name=name, annotation=None, annotation_raw=None, default=None, depends=None, kind=kind)
            fn.params.append(fact)
            if index == 0 and is_method and kind == "normal":
                cls_full = self._full(scope.class_scope.qualname)  # type: ignore[union-attr]
                if "classmethod" in decorator_names or name == "cls":
                    scope.bind(name, _Binding("q", cls_full))
                else:
                    scope.bind(name, _Binding("q", cls_full + "()"))
                continue
            ann = param.annotation.annotation if param.annotation is not None else None
            if ann is not None:
                scope.bind(name, _Binding("ann", node=ann, scope=enclosing))
            else:
                scope.bind(name, _Binding("u"))
            self._pending.append(self._param_job(fact, ann, param.default, enclosing))

    def _param_job(
        self, fact: ParamFact, ann: cst.BaseExpression | None, default: cst.BaseExpression | None, scope: _Scope
    ) -> Callable[[], None]:
        def job() -> None:
            if ann is not None:
                fact.annotation_raw = self.render_type(ann, scope)
                core = ann
                if type(ann) is cst.Subscript and self.resolve_name(chain(ann.value), scope) in _ANNOTATED:
                    elements = [e.slice.value for e in ann.slice if type(e.slice) is cst.Index]
                    if elements:
                        core = elements[0]
                        for meta in elements[1:]:
                            self._read_param_marker(fact, meta, scope)
                # no Annotated[...] around it: the same text (rendering is pure once bindings are final)
                fact.annotation = fact.annotation_raw if core is ann else self.render_type(core, scope)
            if default is not None:
                fact.default = self.render(default, scope)
                self._read_param_marker(fact, default, scope)

        return job

    def _read_param_marker(self, fact: ParamFact, expr: cst.BaseExpression, scope: _Scope) -> None:
        if type(expr) is not cst.Call:
            return
        callee = self.resolve_name(chain(expr.func), scope)
        if callee in _PARAM_FUNCTIONS:
            fact.marker = callee
        if callee in _DEPENDS:
            positional = [a for a in expr.args if a.keyword is None]
            named = [a for a in expr.args if a.keyword is not None and a.keyword.value == "dependency"]
            target = (positional or named or [None])[0]
            fact.depends = self.render(target.value, scope) if target is not None else ""
        elif callee in _BODY:
            fact.body_marker = True

    def visit_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        scope = self._pending_function
        self._push_scope(scope)

    def leave_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        scope = self._pop_scope()
        fn = scope.facts
        assert isinstance(fn, FunctionFacts)
        self._pending.append(lambda: self._finish_function(fn, scope))

    def _literals(self, scope: _Scope) -> dict[str, str]:
        """Names bound once, to a string or to a list/tuple/set of literals: name -> the literal."""
        found: dict[str, str] = {}
        for name, bindings in scope.bindings.items():
            if len(bindings) != 1:
                continue
            b = bindings[0]
            if b.kind == "lit" and b.text is not None and b.text.startswith("str:"):
                found[name] = repr(b.text[4:])
            elif type(b.node) in (cst.List, cst.Tuple, cst.Set) and all(
                type(e) is cst.Element and type(e.value) in (cst.SimpleString, cst.ConcatenatedString, cst.Integer, cst.Name)
                for e in b.node.elements
            ):
                found[name] = self.render(b.node, scope)
        return found

    def _finish_function(self, fn: FunctionFacts, scope: _Scope) -> None:
        own = self._full(fn.qualname) + "."
        for name in scope.bindings:
            value = self._value_of(name, scope)
            if value is not None and not value.startswith(own):
                fn.local_types[name] = value
        fn.literals = self._literals(scope)
        self.flow.finish(fn, scope, scope.call_ids, set(scope.bindings), self._module_names)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        span = self.pos.definition(node)
        enclosing = self._scope
        qualname = self._qual(node.name.value)
        cls = ClassFacts(name=node.name.value, qualname=qualname, bases=[], keywords={}, span=span)
        self.facts.classes.append(cls)
        if isinstance(enclosing.facts, ClassFacts):
            enclosing.facts.inner_classes.append(node.name.value)
        self._bind_here(node.name.value, _Binding("q", self._full(qualname)))
        dec_spans = self.pos.last_decorators
        for i, dec in enumerate(node.decorators):
            self._pending.append(self._decorator_job(cls, dec, enclosing, dec_spans[i]))

        def job() -> None:
            for arg in node.bases:
                cls.bases.append(self.resolve_name(chain(arg.value), enclosing) or self.render(arg.value, enclosing))
            for kw in node.keywords:
                if kw.keyword is not None:
                    cls.keywords[kw.keyword.value] = self.render(kw.value, enclosing)

        self._pending.append(job)
        self._pending_class = _Scope("class", qualname, enclosing, facts=cls)
        self._made.append(self._pending_class)

    def visit_ClassDef_body(self, node: cst.ClassDef) -> None:
        self._push_scope(self._pending_class)

    def leave_ClassDef_body(self, node: cst.ClassDef) -> None:
        scope = self._pop_scope()
        cls = scope.facts
        assert isinstance(cls, ClassFacts)

        def job() -> None:
            for name, bindings in scope.bindings.items():
                values = [self._binding_value(b) for b in bindings if b.kind not in ("none",)]
                lits = [b.text for b in bindings if b.kind == "lit"]
                value = self._merge(values) if not lits else lits[-1]
                if value is not None:
                    cls.assigns[name] = value
                    if not value.startswith(self._full(cls.qualname) + "."):
                        cls.attributes.setdefault(name, value)
                elif bindings[-1].kind == "u" and bindings[-1].node is not None:  # tuples, sets, ...: the text
                    cls.assigns[name] = self.render(bindings[-1].node, scope)

        self._pending.append(job)

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._function_scope().lambda_depth += 1

    def leave_Lambda(self, node: cst.Lambda) -> None:
        self._function_scope().lambda_depth -= 1

    # ------------------------------------------------------------- statements
    def visit_Global(self, node: cst.Global) -> None:
        names = [n.name.value for n in node.names]
        self._scope.globals.update(names)
        if self._scope.kind == "function" and isinstance(self._scope.facts, FunctionFacts):
            self._scope.facts.globals.extend(n for n in names if n not in self._scope.facts.globals)

    def visit_Assign(self, node: cst.Assign) -> None:
        self.flow.on_assign([t.target for t in node.targets], node.value, self._function_scope())
        for target in node.targets:
            self._assign(target.target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self.flow.on_assign([node.target], node.value, self._function_scope())
        informative = node.value is not None and type(node.value) not in (cst.Ellipsis, cst.Name)
        if node.value is not None and (informative or type(node.target) is not cst.Name):
            self._assign(node.target, node.value)
        elif type(node.target) is cst.Name:  # `x: T` or `x: T = ...` / `= None`: the annotation says it
            binding = _Binding("ann", node=node.annotation.annotation, scope=self._scope)
            self._bind_here(node.target.value, binding)
            if self._scope is self._module_scope:
                name = node.target.value
                self._pending.append(lambda: self._record_module_variable(name, binding))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self.flow.on_assign([node.target], None, self._function_scope(), augmented=True)
        if type(node.target) is cst.Name and node.target.value not in self._scope.bindings:
            self._bind_here(node.target.value, _Binding("u"))

    def leave_Assign(self, original_node: cst.Assign) -> None:
        self.flow.on_assign_end(self._function_scope())

    leave_AnnAssign = leave_Assign  # type: ignore[assignment]
    leave_AugAssign = leave_Assign  # type: ignore[assignment]
    leave_NamedExpr = leave_Assign  # type: ignore[assignment]

    def visit_Name(self, node: cst.Name) -> None:
        if self.flow.open_loops:  # loads only matter inside a loop
            self.flow.on_name(node, self._function_scope())

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if self.flow.open_loops:
            self.flow.on_attribute(node, self._function_scope())

    def visit_Subscript(self, node: cst.Subscript) -> None:
        if not self._function_scope().lambda_depth:
            self.flow.on_subscript(node, self._function_scope())

    def visit_Break(self, node: cst.Break) -> None:
        self.flow.on_exit(self._function_scope(), "break")

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self.flow.on_assign([node.target], node.value, self._function_scope())
        self._assign(node.target, node.value)

    def _value_binding(self, value: cst.BaseExpression) -> _Binding:
        if type(value) is cst.Name and value.value == "None":
            return _Binding("none")
        text = _string_value(value)
        if text is not None:
            return _Binding("lit", "str:" + text)
        if type(value) in (cst.Integer, cst.Float):
            return _Binding("lit", "num:" + value.value)
        if type(value) in (cst.Dict, cst.DictComp):
            return _Binding("q", "builtins.dict()")
        if type(value) in (cst.List, cst.ListComp):
            return _Binding("q", "builtins.list()", node=value)
        divided = _division_chain(value)
        if divided is not None:  # `p = base / "x"` is `base.__truediv__()`: a Path when base is one
            return _Binding("r", divided, self._scope)
        raw = chain(value)
        if raw is None:
            return _Binding("u", node=value)  # kept so class bodies can record `retry_for = (A, B)`
        inner = value.expression if type(value) is cst.Await else value
        if type(inner) is cst.Call and inner.args and inner.args[0].keyword is None:
            first = chain(inner.args[0].value)
            if first is not None:  # `p = functools.partial(fetch, ...)`: calling p runs fetch
                return _Binding("r", raw, self._scope, node=inner.func, text_partial=first)
        return _Binding("r", raw, self._scope if self._scope.kind != "class" else self._scope, origin=id(inner) if type(inner) is cst.Call else None)

    @staticmethod
    def _place(target: cst.BaseExpression) -> str | None:
        """An assignment target as text: `c`, `self.c`, `_cache[]` (any subscript)."""
        if type(target) is cst.Subscript:
            base = chain(target.value)
            return base + "[]" if base else None
        return chain(target)

    def _note_assigned(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        """Remember what a call's result is stored in: `c = X()`, `self.c = X()`, `_cache[k] = X()`;
        and where a local is stored: `_cache[k] = conn`, `self.c = conn`, `global _c; _c = conn`."""
        inner = value.expression if type(value) is cst.Await else value
        if type(target) is cst.Subscript and len(target.slice) == 1 and type(target.slice[0].slice) is cst.Index:
            key = _string_value(target.slice[0].slice.value)  # entry["task"] = ...: a dict entry too
            fn = self._function_scope().facts
            if key is not None and isinstance(fn, FunctionFacts) and len(fn.dict_entries) < _MAX_DICT_ENTRIES:
                index, owner = len(fn.dict_entries), self._scope
                fn.dict_entries.append((key, ""))
                self._pending.append(
                    lambda fn=fn, index=index, key=key: fn.dict_entries.__setitem__(index, (key, self.render(value, owner)))
                )
        if type(inner) is cst.Call:
            text = self._place(target)
            if text:
                self._assigned[id(inner)] = text
        elif type(inner) is cst.Name and self._scope.kind == "function":
            fn = self._scope.facts
            if isinstance(fn, FunctionFacts) and (type(target) is not cst.Name or target.value in self._scope.globals):
                text = self._place(target)
                if text:
                    fn.stores.append((text, inner.value))

    def _assign(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        self._note_assigned(target, value)
        if type(target) in (cst.Attribute, cst.Subscript):
            for handler in self._function_scope().handlers:
                handler.stores_state = True
        if type(target) is cst.Name:
            binding = self._value_binding(value)
            self._bind_here(target.value, binding)
            if self._scope is self._module_scope or target.value in self._scope.globals:
                name = target.value
                if type(value) in (cst.Subscript, cst.BinaryOperation) and self._scope is self._module_scope and _division_chain(value) is None:
                    scope = self._scope
                    self._pending.append(lambda: self._record_type_alias(name, value, scope))
                else:
                    self._pending.append(lambda: self._record_module_variable(name, binding))
        elif type(target) in (cst.Tuple, cst.List):
            for element in target.elements:
                inner = element.value
                if type(inner) is cst.Name:
                    self._bind_here(inner.value, _Binding("u"))
        elif type(target) is cst.Attribute and type(target.value) is cst.Name:
            scope = self._scope
            if scope.kind == "function" and scope.class_scope is not None:
                fn = scope.facts
                assert isinstance(fn, FunctionFacts)
                first = fn.params[0].name if fn.params else None
                if first == target.value.value and isinstance(scope.class_scope.facts, ClassFacts):
                    binding = self._value_binding(value)
                    if binding.kind != "none":
                        self._class_attr_raw.append((scope.class_scope.facts, target.attr.value, binding))

    def _record_type_alias(self, name: str, value: cst.BaseExpression, scope: _Scope) -> None:
        """`SessionDep = Annotated[Session, Depends(get_db)]`: the type it names and its dependency."""
        core = self._core_type(value, scope)
        self.facts.variables[name] = core or "?"
        if type(value) is cst.Subscript and self.resolve_name(chain(value.value), scope) in _ANNOTATED:
            marker = ParamFact(name=name, annotation=None, annotation_raw=None, default=None, depends=None)
            for element in list(value.slice)[1:]:
                if type(element.slice) is cst.Index:
                    self._read_param_marker(marker, element.slice.value, scope)
            if marker.depends is not None:
                self.facts.type_aliases[name] = marker.depends

    def _record_module_variable(self, name: str, binding: _Binding) -> None:
        if binding.kind == "none":
            self.facts.variables.setdefault(name, "None")
            return
        if binding.kind == "lit":
            value: str | None = binding.text
        else:
            value = self._binding_value(binding)
        if value is None:
            value = "?"
        previous = self.facts.variables.get(name)
        if previous in (None, "None", "?") or previous == value:
            self.facts.variables[name] = value

    def visit_For(self, node: cst.For) -> None:
        self.flow.on_bind_later(node.target, self._function_scope())
        self._bind_targets(node.target)
        if node.asynchronous is not None:
            self._mark_await()

    def visit_For_body(self, node: cst.For) -> None:
        self.flow.on_loop("async-for" if node.asynchronous else "for", [node.target], node.iter, self._function_scope(), chain(node.iter))
        self._function_scope().loop_depth += 1

    def leave_For_body(self, node: cst.For) -> None:
        self.flow.on_loop_end(self._function_scope())
        self._function_scope().loop_depth -= 1

    def visit_While_body(self, node: cst.While) -> None:
        self.flow.on_loop("while", [], None, self._function_scope(), None)
        self._function_scope().loop_depth += 1

    def leave_While_body(self, node: cst.While) -> None:
        self.flow.on_loop_end(self._function_scope())
        self._function_scope().loop_depth -= 1

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._bind_targets(node.target)
        if node.asynchronous is not None:
            self._mark_await()

    def _comprehension_loop(self, node: cst.ListComp | cst.SetComp | cst.GeneratorExp | cst.DictComp) -> None:
        targets: list[cst.BaseExpression] = []
        comp: cst.CompFor | None = node.for_in
        while comp is not None:
            targets.append(comp.target)
            comp = comp.inner_for_in
        kind = "async-comprehension" if node.for_in.asynchronous is not None else "comprehension"
        self.flow.on_loop(kind, targets, node.for_in.iter, self._function_scope(), chain(node.for_in.iter))

    def visit_ListComp(self, node: cst.ListComp) -> None:
        self._comprehension_loop(node)
        self._function_scope().loop_depth += 1

    def leave_ListComp(self, node: cst.ListComp) -> None:
        self.flow.on_loop_end(self._function_scope())
        self._function_scope().loop_depth -= 1

    visit_SetComp = visit_ListComp  # type: ignore[assignment]
    leave_SetComp = leave_ListComp  # type: ignore[assignment]
    visit_GeneratorExp = visit_ListComp  # type: ignore[assignment]
    leave_GeneratorExp = leave_ListComp  # type: ignore[assignment]

    def visit_Dict(self, node: cst.Dict) -> None:
        """String-keyed entries of dict displays, values resolved: beat schedules, config dicts."""
        scope = self._function_scope()
        fn = scope.facts
        if not isinstance(fn, FunctionFacts) or len(fn.dict_entries) >= _MAX_DICT_ENTRIES:
            return
        owner = self._scope
        for element in node.elements:
            if type(element) is cst.DictElement:
                key = _string_value(element.key)
                if key is not None:
                    entry = (key, element.value)
                    index = len(fn.dict_entries)
                    fn.dict_entries.append((key, ""))
                    self._pending.append(
                        lambda fn=fn, index=index, entry=entry: fn.dict_entries.__setitem__(
                            index, (entry[0], self.render(entry[1], owner))
                        )
                    )

    def visit_DictComp(self, node: cst.DictComp) -> None:
        self._comprehension_loop(node)
        self._function_scope().loop_depth += 1

    def leave_DictComp(self, node: cst.DictComp) -> None:
        self.flow.on_loop_end(self._function_scope())
        self._function_scope().loop_depth -= 1

    def _bind_targets(self, target: cst.BaseExpression) -> None:
        if type(target) is cst.Name:
            self._bind_here(target.value, _Binding("u"))
        elif type(target) in (cst.Tuple, cst.List):
            for element in target.elements:
                self._bind_targets(element.value)

    def visit_With(self, node: cst.With) -> None:
        for item in node.items:
            if item.asname is not None:
                self.flow.on_bind(item.asname.name, self._function_scope())
        if node.asynchronous is not None:
            self._mark_await()
        for item in node.items:
            if type(item.item) is cst.Call:
                self._with_items.add(id(item.item))
            if item.asname is not None:
                name = item.asname.name
                if type(name) is cst.Name:
                    self._note_assigned(name, item.item)
                    self._bind_here(name.value, self._value_binding(item.item))
                else:
                    self._bind_targets(name)

    def visit_With_body(self, node: cst.With) -> None:
        scope = self._function_scope()
        for item in node.items:
            scope.withs.append((chain(item.item) or "?", self._scope))

    def leave_With_body(self, node: cst.With) -> None:
        scope = self._function_scope()
        del scope.withs[len(scope.withs) - len(node.items) :]

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        span = self.pos.handler(node)
        scope = self._function_scope()
        fact = ExceptFact(
            types=[], reraises=False, retries=False, span=span, in_loop=scope.loop_depth > 0,
            in_cleanup=bool(scope.handlers) or scope.finally_depth > 0,
        )
        fn = scope.facts
        assert isinstance(fn, FunctionFacts)
        fn.excepts.append(fact)
        scope.handlers.append(fact)
        if node.name is not None and type(node.name.name) is cst.Name:
            self._bind_here(node.name.name.value, _Binding("u"))
        if node.type is not None:
            kinds = node.type.elements if type(node.type) is cst.Tuple else None
            exprs = [e.value for e in kinds] if kinds is not None else [node.type]
            owner = self._scope

            def job() -> None:
                fact.types.extend(self.resolve_name(chain(e), owner) or self.render(e, owner) for e in exprs)

            self._pending.append(job)

    def leave_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        self._function_scope().handlers.pop()

    def visit_Finally(self, node: cst.Finally) -> None:
        self._function_scope().finally_depth += 1

    def leave_Finally(self, node: cst.Finally) -> None:
        self._function_scope().finally_depth -= 1

    def visit_Try(self, node: cst.Try) -> None:
        if node.finalbody is not None:
            fn = self._function_scope().facts
            assert isinstance(fn, FunctionFacts)
            fn.has_finally = True

    def visit_Raise(self, node: cst.Raise) -> None:
        scope = self._function_scope()
        for handler in scope.handlers:
            handler.reraises = True
        fn = scope.facts
        assert isinstance(fn, FunctionFacts)
        fn.raises = True
        if type(node.exc) is cst.Call:
            self._raised.add(id(node.exc))

    def visit_Return(self, node: cst.Return) -> None:
        scope = self._function_scope()
        if scope.lambda_depth:
            return
        self.flow.on_return(node.value, scope)
        fn = scope.facts
        assert isinstance(fn, FunctionFacts)
        value = node.value
        fact = ReturnFact(kind="none", value=None)
        fn.return_values.append(fact)
        if value is None or (type(value) is cst.Name and value.value == "None"):
            return
        if type(value) is cst.Dict:
            fact.kind = "dict"
        elif type(value) is cst.List:
            fact.kind = "list-of-dicts" if value.elements and all(type(e.value) is cst.Dict for e in value.elements) else "list"
        elif type(value) is cst.ListComp:
            fact.kind = "list-of-dicts" if type(value.elt) is cst.Dict else "listcomp"
        elif type(value) in (cst.SimpleString, cst.ConcatenatedString, cst.Integer, cst.Float, cst.FormattedString):
            fact.kind = "literal"
        elif type(value) in (cst.Call, cst.Await):
            inner = value.expression if type(value) is cst.Await else value
            fact.kind = "call"
            if type(inner) is cst.Call:
                self._returned.add(id(inner))
                raw = chain(inner.func)
                self._pending.append(lambda: setattr(fact, "value", self.resolve_name(raw, scope) or raw))
        elif type(value) in (cst.Name, cst.Attribute):
            fact.kind = "name"
            raw = chain(value)
            self._pending.append(lambda: setattr(fact, "value", self.resolve_name(raw, scope)))
        else:
            fact.kind = "other"

    def visit_Await(self, node: cst.Await) -> None:
        self._awaited.add(id(node.expression))
        self._mark_await()

    def _mark_await(self) -> None:
        self.flow.on_await(self._function_scope())
        fn = self._function_scope().facts
        assert isinstance(fn, FunctionFacts)
        fn.has_await = True

    def visit_Yield(self, node: cst.Yield) -> None:
        self.flow.on_exit(self._function_scope(), "yield")
        fn = self._function_scope().facts
        assert isinstance(fn, FunctionFacts)
        fn.has_yield = True

    def visit_If_body(self, node: cst.If) -> None:
        if self._is_main_guard(node.test):
            self._main_guard += 1

    def leave_If_body(self, node: cst.If) -> None:
        if self._is_main_guard(node.test):
            self._main_guard -= 1

    @staticmethod
    def _is_main_guard(test: cst.BaseExpression) -> bool:
        if type(test) is not cst.Comparison or len(test.comparisons) != 1:
            return False
        left, right = test.left, test.comparisons[0].comparator
        names = {x.value for x in (left, right) if type(x) is cst.Name}
        strings = {_string_value(x) for x in (left, right)}
        return "__name__" in names and "__main__" in strings

    # ------------------------------------------------------------------ calls
    def visit_Call(self, node: cst.Call) -> None:
        span = self.pos.call(node)
        scope = self._function_scope()
        if scope.lambda_depth:
            return
        fn = scope.facts
        assert isinstance(fn, FunctionFacts)
        raw = chain(node.func)
        node_id = id(node)
        fact = CallFact(
            target=None,
            raw=raw or "?",
            span=span,
            awaited=node_id in self._awaited,
            in_loop=scope.loop_depth > 0,
            in_with=node_id in self._with_items,
            returned=node_id in self._returned,
            in_main_guard=self._main_guard > 0,
            raised=node_id in self._raised,
            assigned_to=self._assigned.get(node_id),
        )
        scope.call_ids[node_id] = len(fn.calls)
        fn.calls.append(fact)
        self.flow.on_call(node, fact, len(fn.calls) - 1, scope)
        withs = list(scope.withs)
        for handler in scope.handlers:
            handler.calls.append(len(fn.calls) - 1)
        if raw is not None and raw.endswith(".retry"):
            for handler in scope.handlers:
                handler.retries = True
        owner = self._scope
        self._pending.append(lambda: self._finish_call(fact, node, raw, owner, scope, withs))

    def _finish_call(
        self, fact: CallFact, node: cst.Call, raw: str | None, owner: _Scope, fscope: _Scope, withs: list[tuple[str, _Scope]]
    ) -> None:
        fact.target = self.resolve_name(raw, owner) if raw else None
        fact.within = [self.resolve_name(w, s) or w for w, s in withs]
        for arg in node.args:
            if arg.star:
                continue
            if arg.keyword is not None:
                fact.kwargs[arg.keyword.value] = self.render(arg.value, owner)
            else:
                fact.args.append(self.render(arg.value, owner))
        if raw:
            head_match = _HEAD.match(raw)
            if head_match and len(head_match.group()) < len(raw):
                head = head_match.group()
                bindings = fscope.bindings.get(head)
                if bindings and len(bindings) == 1 and bindings[0].origin is not None:
                    fact.receiver_origin = fscope.call_ids.get(bindings[0].origin)

    # ----------------------------------------------------------------- finish
    def leave_Module(self, original_node: cst.Module) -> None:
        self._bindings_final = True
        self._module_names = set(self._module_scope.bindings)  # flow keeps uses of these in every function
        for job in self._pending:
            job()
        self._pending.clear()
        self._module_fn.literals = self._literals(self._module_scope)
        self.flow.finish(self._module_fn, self._module_scope, self._module_scope.call_ids, set(self._module_scope.bindings))
        for cls, attr, binding in self._class_attr_raw:
            value = self._binding_value(binding)
            if value is None or cls.attributes.get(attr, value) != value:
                cls.attributes[attr] = "?"
            else:
                cls.attributes[attr] = value
