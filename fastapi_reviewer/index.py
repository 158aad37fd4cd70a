"""The whole-project picture built from every module's facts.

It answers the questions no single file can: what does ``app.services.fetch`` name after
re-exports, what type has the module variable ``engine``, which method runs for ``svc.lookup()``
when ``svc`` is a project class.  ``resolve`` turns a dotted text from the facts (``()`` marks a
call result) into a ``Symbol``: a project function or class, or an external dotted name that the
rule catalogs can match (``requests.Session.get``).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator
from functools import lru_cache
from typing import NamedTuple

from fastapi_reviewer.catalog import TypeCatalog
from fastapi_reviewer.facts.lazy import call_args, call_keywords, call_targets, unresolved_calls
from fastapi_reviewer.facts.model import CallFact, ClassFacts, FunctionFacts, ModuleFacts

_TOKEN = re.compile(r"\(\)|[^.()]+")
_MAX_DEPTH = 12
# a call number: (function number << _CALL_BITS) | index of the call in the function
_CALL_BITS = 24
_CALL_MASK = (1 << _CALL_BITS) - 1


class Symbol(NamedTuple):
    """What a dotted text names.  A named tuple (not a frozen dataclass): resolving makes one or more
    per distinct text, and a frozen dataclass's constructor costs ~1 us more each."""

    kind: str  # function | class | instance | external | module | literal | unknown
    name: str = ""  # full dotted name (project) or external dotted name

    @property
    def known(self) -> bool:
        return self.kind != "unknown"


UNKNOWN = Symbol("unknown")

# (position in project order, module, function, call): one call of the project
CallSite = tuple[int, ModuleFacts, FunctionFacts, CallFact]


class FunctionRef(NamedTuple):
    """A function and its module (a named tuple: one is made per function of the project)."""

    module: ModuleFacts
    function: FunctionFacts

    @property
    def full(self) -> str:
        return f"{self.module.module}.{self.function.qualname}" if self.module.module else self.function.qualname


class ProjectIndex:
    def __init__(self, modules: list[ModuleFacts], types: TypeCatalog) -> None:
        self.types = types
        self.modules: dict[str, ModuleFacts] = {}
        self.functions: dict[str, FunctionRef] = {}
        self.classes: dict[str, tuple[ModuleFacts, ClassFacts]] = {}
        self.variables: dict[str, str] = {}
        self._all_functions: list[FunctionRef] = []  # every function, "<module>" too, in project order
        for m in modules:
            self.modules[m.module] = m
            prefix = f"{m.module}." if m.module else ""
            for fn in m.functions:
                ref = FunctionRef(m, fn)
                self._all_functions.append(ref)
                if fn.qualname != "<module>":
                    self.functions[prefix + fn.qualname] = ref
            for cls in m.classes:
                self.classes[prefix + cls.qualname] = (m, cls)
            for name, value in m.variables.items():
                self.variables[prefix + name] = value
        self.top_level = {name.split(".")[0] for name in self.modules if name}
        # `from app.api import x` when the scan root named the module `backend.app.api`: every
        # dotted suffix of two or more parts that names one module only (one part would let a
        # project file called redis.py capture `import redis`)
        suffixes: dict[str, str | None] = {}
        for name in self.modules:
            parts = name.split(".")
            for start in range(1, len(parts) - 1):
                key = ".".join(parts[start:])
                suffixes[key] = None if key in suffixes and suffixes[key] != name else name
        self._suffixes = {k: v for k, v in suffixes.items() if v is not None and k not in self.modules}
        # the first part of every dotted name that can name a project module: any other name is
        # external at once (most call targets: fastapi..., sqlalchemy..., pydantic...)
        self._module_heads = self.top_level | {k.split(".", 1)[0] for k in self._suffixes}
        self._resolve = lru_cache(maxsize=None)(self._resolve_uncached)
        self._global = lru_cache(maxsize=None)(self._global_uncached)
        self._variable_names: dict[str, str | None] = {}
        self._mros: dict[str, tuple[str, ...]] = {}
        self._call_targets: frozenset[str | None] | None = None
        self._site_functions: list[FunctionRef] = []  # function number -> function
        self._site_targets: list[tuple[str | None, ...]] = []  # function number -> its call targets
        self._site_keywords: list[tuple[int, tuple[str, ...]]] = []  # (call number, keyword names)
        self._site_unresolved: list[tuple[int, str]] = []  # (call number, callee as written) of the calls without a target

    # ------------------------------------------------------------ call sites
    # The project-wide models look for a few kinds of calls (registrations, task dispatch,
    # schedules) among ~60 calls per module.  They test each distinct target once (a project has
    # ~20x fewer targets than calls) and then ask for the calls of the few that match.  A call's
    # number is its function's number and its index in that function's calls, in one int
    # (project order is number order).  All of it runs on the call targets, keyword names and
    # unresolved callees kept outside the function bodies: no body is decoded (facts/lazy.py).
    def _numbered(self) -> list[FunctionRef]:
        """Number the project's functions (once), keeping what the queries below scan: each
        function's call targets, and the calls that pass keywords or have no target."""
        functions = self._site_functions
        if not functions:
            functions.extend(self._all_functions)
            targets, keywords, unresolved = self._site_targets, self._site_keywords, self._site_unresolved
            for number, ref in enumerate(functions):
                fn = ref.function
                try:  # a loaded function's slots (facts/lazy.py)
                    texts, passing, raws = fn.call_targets, fn.call_keywords, fn.unresolved_calls  # type: ignore[attr-defined]
                except AttributeError:  # facts made in memory
                    texts = None
                if texts is None:  # ... or decoded at load: derived from the calls
                    texts, passing, raws = call_targets(fn), call_keywords(fn), unresolved_calls(fn)
                targets.append(texts)
                if passing:
                    base = number << _CALL_BITS
                    keywords += [(base + i, names) for i, names in passing]
                if raws:
                    base = number << _CALL_BITS
                    positions = [i for i, text in enumerate(texts) if text is None]
                    unresolved += [(base + i, raw) for i, raw in zip(positions, raws)]
        return functions

    def call_targets(self) -> frozenset[str | None]:
        """Every distinct call target of the project (None: calls without one)."""
        if self._call_targets is None:
            self._numbered()
            self._call_targets = frozenset().union(*self._site_targets)
        return self._call_targets

    def sites_calling(self, targets: Collection[str | None]) -> list[int]:
        """The numbers of the calls of these targets, in project order."""
        wanted = targets if isinstance(targets, (set, frozenset)) else set(targets)
        found: list[int] = []
        self._numbered()
        for number, texts in enumerate(self._site_targets):
            if not wanted.isdisjoint(texts):
                base = number << _CALL_BITS
                found.extend(base + i for i, text in enumerate(texts) if text in wanted)
        return found

    def target_of(self, number: int) -> str | None:
        return self._site_targets[number >> _CALL_BITS][number & _CALL_MASK]

    def args_of(self, number: int) -> tuple[str, ...]:
        """The positional arguments of a call, as ``CallFact.args`` (no body decoded)."""
        return call_args(self._site_functions[number >> _CALL_BITS].function)[number & _CALL_MASK]

    def unresolved_sites(self, suffix: str) -> list[int]:
        """The numbers of the calls without a target whose callee, as written, ends with ``suffix``."""
        self._numbered()
        return [n for n, raw in self._site_unresolved if raw.endswith(suffix)]

    def sites_passing(self, keywords: Iterable[str]) -> list[int]:
        """The numbers of the calls that pass any of these keyword arguments, in project order."""
        wanted = frozenset(keywords)
        self._numbered()
        return [n for n, names in self._site_keywords if not wanted.isdisjoint(names)]

    def site_functions(self, numbers: Iterable[int]) -> Iterator[tuple[int, ModuleFacts, FunctionFacts]]:
        """(number, module, function) of these calls, when the call itself is not needed."""
        functions = self._numbered()
        for n in numbers:
            ref = functions[n >> _CALL_BITS]
            yield n, ref.module, ref.function

    def sites(self, numbers: Iterable[int]) -> Iterator[CallSite]:
        """(number, module, function, call) of these calls (the call decodes its function's body)."""
        functions = self._numbered()
        for n in numbers:
            ref = functions[n >> _CALL_BITS]
            yield n, ref.module, ref.function, ref.function.calls[n & _CALL_MASK]

    def release_call_sites(self) -> None:
        """The project-wide models are built: the call sites are not needed any more (memory)."""
        self._call_targets = None
        self._site_functions, self._site_targets, self._site_keywords, self._site_unresolved = [], [], [], []

    # ---------------------------------------------------------------- modules
    def find_module(self, dotted: str) -> str | None:
        """A project module for an import path, tolerating a scan root below the import root."""
        if dotted in self.modules:
            return dotted
        return self._suffixes.get(dotted)

    def is_project_name(self, dotted: str) -> bool:
        head = dotted.split(".")[0]
        return head in self.top_level

    def function(self, full: str) -> FunctionRef | None:
        return self.functions.get(full)

    def class_facts(self, full: str) -> ClassFacts | None:
        found = self.classes.get(full)
        return found[1] if found else None

    # -------------------------------------------------------------- resolving
    def resolve(self, text: str | None) -> Symbol:
        if not text:
            return UNKNOWN
        return self._resolve(text, 0)

    def _resolve_uncached(self, text: str, depth: int) -> Symbol:
        if depth > _MAX_DEPTH:
            return UNKNOWN
        if text.startswith("str:") or text.startswith("num:"):
            return Symbol("literal", text)
        if "(" not in text and ")" not in text:  # a plain dotted name (no call in it): no tokenizing
            names = [part for part in text.split(".") if part]
            tokens: list[str] = []
        else:
            tokens = _TOKEN.findall(text)
            names = []
            while tokens and tokens[0] != "()":
                names.append(tokens.pop(0))
        if not names:
            return UNKNOWN
        sym, rest = self._global(".".join(names), depth)
        for token in [*rest, *tokens]:
            sym = self._apply(sym, token, depth)
            if not sym.known:
                return sym
        return sym

    def _global_uncached(self, dotted: str, depth: int) -> tuple[Symbol, tuple[str, ...]]:
        """Classify the longest meaningful prefix of a dotted global name."""
        parts = dotted.split(".")
        if parts[0] not in self._module_heads:  # no project module starts so
            return Symbol("external", self._alias(dotted)), ()
        module = None
        cut = 0
        for i in range(len(parts), 0, -1):
            found = self.find_module(".".join(parts[:i]))
            if found is not None:
                module, cut = found, i
                break
        if module is None:
            if self.is_project_name(dotted):
                return UNKNOWN, ()
            return Symbol("external", self._alias(dotted)), ()
        sym = Symbol("module", module)
        remaining = parts[cut:]
        for i, attr in enumerate(remaining):
            if sym.kind != "module":
                return sym, tuple(remaining[i:])
            sym = self._module_attr(sym.name, attr, depth)
        return sym, ()

    def _module_attr(self, module: str, attr: str, depth: int) -> Symbol:
        full = f"{module}.{attr}" if module else attr
        if full in self.functions:
            return Symbol("function", full)
        if full in self.classes:
            return Symbol("class", full)
        if full in self.modules:
            return Symbol("module", full)
        facts = self.modules[module]
        if attr in facts.imports:  # a re-export: follow it
            return self._resolve(facts.imports[attr], depth + 1)
        if full in self.variables:
            value = self.variables[full]
            if value in ("?", "None"):
                return Symbol("variable", full)
            resolved = self._resolve(value, depth + 1)
            return resolved if resolved.known else Symbol("variable", full)
        for star in facts.star_imports:
            found = self.find_module(star)
            if found is not None and found != module:
                sym = self._module_attr(found, attr, depth + 1)
                if sym.known:
                    return sym
        return UNKNOWN

    def _apply(self, sym: Symbol, token: str, depth: int) -> Symbol:
        if token == "()":
            return self._call_result(sym, depth)
        return self._attribute(sym, token, depth)

    def _call_result(self, sym: Symbol, depth: int) -> Symbol:
        if sym.kind == "class":
            return Symbol("instance", sym.name)
        if sym.kind == "function":
            ref = self.functions[sym.name]
            if ref.function.return_type:
                result = self._resolve(ref.function.return_type, depth + 1)
                if result.kind == "class":
                    return Symbol("instance", result.name)
                if result.kind == "external":
                    return Symbol("external", result.name + "()") if not _looks_like_class(result.name) else Symbol("instance-ext", result.name)
                return UNKNOWN
            return self._returned_instance(ref, depth)
        if sym.kind == "external":
            made = self._factory(sym.name)
            if made:
                return self._external_instance(made, depth)
            if _looks_like_class(sym.name):
                return Symbol("instance-ext", sym.name)
            return Symbol("external", sym.name + "()")
        if sym.kind == "instance-ext":  # calling an object: sessionmaker()() and friends
            made = self._factory(sym.name + ".__call__")
            if made:
                return self._external_instance(made, depth)
        return UNKNOWN

    def _returned_instance(self, ref: FunctionRef, depth: int) -> Symbol:
        """An unannotated function whose every `return` hands back the same kind of object."""
        fn = ref.function
        if fn.has_yield or not fn.return_values:
            return UNKNOWN
        found: Symbol | None = None
        for ret in fn.return_values:
            if ret.kind == "call" and ret.value:
                sym = self._resolve(ret.value + "()", depth + 1)
            elif ret.kind == "name" and ret.value:
                sym = self._resolve(ret.value, depth + 1)
            else:
                return UNKNOWN
            if sym.kind not in ("instance", "instance-ext") or (found is not None and sym != found):
                return UNKNOWN
            found = sym
        return found or UNKNOWN

    def _factory(self, name: str) -> str | None:
        factories = self.types.factories
        if name in factories:
            return factories[name]
        owner = name.rsplit(".", 1)[0]
        return factories.get(owner + ".*")

    def _external_instance(self, type_name: str, depth: int) -> Symbol:
        project = self._resolve(type_name, depth + 1) if self.is_project_name(type_name) else None
        if project is not None and project.kind == "class":
            return Symbol("instance", project.name)
        return Symbol("instance-ext", self._alias(type_name))

    def _attribute(self, sym: Symbol, attr: str, depth: int) -> Symbol:
        if sym.kind == "external":
            return Symbol("external", self._alias(f"{sym.name}.{attr}"))
        if sym.kind == "instance-ext":
            return Symbol("external", self._alias(f"{sym.name}.{attr}"))
        if sym.kind == "module":
            return self._module_attr(sym.name, attr, depth)
        if sym.kind in ("class", "instance"):
            return self._member(sym.name, attr, instance=sym.kind == "instance", depth=depth, seen=frozenset())
        if sym.kind == "function" and f"{sym.name}.{attr}" in self.functions:  # a def nested in a def
            return Symbol("function", f"{sym.name}.{attr}")
        if sym.kind == "function":  # `@app.task def f` makes f a Task: f.delay is celery's
            wrapped = self.decorated_type(sym.name, depth + 1)
            if wrapped is not None:
                return Symbol("external", self._alias(f"{wrapped}.{attr}"))
        return UNKNOWN

    def decorated_type(self, full: str, depth: int = 0) -> str | None:
        """The library type a decorator turns a project function into (rules/types.toml [decorated])."""
        ref = self.functions.get(full)
        if ref is None or not self.types.decorated or depth > _MAX_DEPTH:
            return None
        for dec in ref.function.decorators:
            # depth carries on: `@f.register def f` must not resolve f's decorators forever
            made = self.types.decorated.get(self._resolve(dec.target, depth + 1).name) if dec.target else None
            if made is not None:
                return made
        return None

    def _member(self, cls_full: str, attr: str, instance: bool, depth: int, seen: frozenset[str]) -> Symbol:
        if cls_full in seen or depth > _MAX_DEPTH:
            return UNKNOWN
        found = self.classes.get(cls_full)
        if found is None:
            return UNKNOWN
        _, cls = found
        method = f"{cls_full}.{attr}"
        if method in self.functions:
            return Symbol("function", method)
        if f"{cls_full}.{attr}" in self.classes:
            return Symbol("class", f"{cls_full}.{attr}")
        if attr in cls.attributes:
            value = cls.attributes[attr]
            if value == "?":
                return UNKNOWN
            return self._resolve(value, depth + 1)
        for base in cls.bases:
            base_sym = self._resolve(base, depth + 1)
            if base_sym.kind == "class":
                sym = self._member(base_sym.name, attr, instance, depth + 1, seen | {cls_full})
                if sym.known:
                    return sym
            elif base_sym.kind == "external" and instance:
                return Symbol("external", self._alias(f"{base_sym.name}.{attr}"))
        return UNKNOWN

    def _alias(self, dotted: str) -> str:
        aliases = self.types.aliases
        if dotted in aliases:
            return aliases[dotted]
        # re-exported prefixes: requests.sessions.Session.get -> requests.Session.get
        parts = dotted.split(".")
        for i in range(len(parts) - 1, 0, -1):
            prefix = ".".join(parts[:i])
            if prefix in aliases:
                return ".".join([aliases[prefix], *parts[i:]])
        return dotted

    def variable_name(self, dotted: str, depth: int = 0) -> str | None:
        """The module variable a dotted name refers to (through re-exports), e.g. a router."""
        if depth == 0:
            if dotted not in self._variable_names:
                self._variable_names[dotted] = self._variable_name(dotted, 0)
            return self._variable_names[dotted]
        return self._variable_name(dotted, depth)

    def _variable_name(self, dotted: str, depth: int) -> str | None:
        if depth > _MAX_DEPTH:
            return None
        parts = dotted.split(".")
        for i in range(len(parts) - 1, 0, -1):
            module = self.find_module(".".join(parts[:i]))
            if module is None:
                continue
            rest = parts[i:]
            full = f"{module}.{rest[0]}"
            if len(rest) == 1 and full in self.variables:
                return full
            imported = self.modules[module].imports.get(rest[0])
            if imported is not None:
                return self._variable_name(".".join([imported, *rest[1:]]), depth + 1)
            return None
        return None

    # ------------------------------------------------------------ class facts
    def mro(self, cls_full: str) -> tuple[str, ...]:
        """Project classes and external base names, nearest first (memoised: the models ask for
        every class of the project, the rules again)."""
        found = self._mros.get(cls_full)
        if found is None:
            found = self._mros[cls_full] = tuple(self._mro(cls_full))
        return found

    def _mro(self, cls_full: str) -> list[str]:
        out: list[str] = []
        todo = [cls_full]
        while todo:
            current = todo.pop(0)
            if current in out:
                continue
            out.append(current)
            found = self.classes.get(current)
            if found is None:
                continue
            for base in found[1].bases:
                sym = self.resolve(base)
                if sym.kind == "class":
                    todo.append(sym.name)
                elif sym.kind == "external":
                    out.append(sym.name)
        return out

    def subclass_of(self, cls_full: str, external: set[str] | frozenset[str]) -> bool:
        return any(name in external for name in self.mro(cls_full))


def _looks_like_class(dotted: str) -> bool:
    last = dotted.rsplit(".", 1)[-1]
    return bool(last) and last[0].isupper() and not last.isupper()
