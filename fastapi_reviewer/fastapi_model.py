"""What FastAPI will run, and how: routes, dependencies, middleware, lifespan and handlers.

Built from the project index, so a router created in one module and decorated in another, an
``APIRouter`` subclass, or a dependency imported through a package ``__init__`` are all found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from fastapi_reviewer.facts.model import CallFact, DecoratorFact, Span
from fastapi_reviewer.index import FunctionRef, ProjectIndex, Symbol

APP_TYPES = frozenset({"fastapi.FastAPI", "starlette.applications.Starlette"})
ROUTER_TYPES = frozenset({"fastapi.APIRouter", "starlette.routing.Router"})
ROUTE_METHODS = frozenset({"get", "post", "put", "patch", "delete", "options", "head", "trace", "api_route"})
HTTP_MIDDLEWARE_BASES = frozenset({"starlette.middleware.base.BaseHTTPMiddleware"})
PER_REQUEST_ROLES = frozenset({"route", "websocket", "dependency", "middleware", "exception_handler"})
STARTUP_ROLES = frozenset({"lifespan", "startup", "shutdown"})
_DEPENDS_IN_TEXT = re.compile(r"fastapi\.(?:params\.|param_functions\.)?(?:Depends|Security)\(\s*(?:dependency=)?([A-Za-z_][\w.]*(?:\(\))?)")

_REGISTRATIONS = frozenset(
    {"add_api_route", "add_route", "add_api_websocket_route", "add_websocket_route", "add_middleware",
     "add_exception_handler", "add_event_handler"}
)
_APP_OPTIONS = frozenset({"lifespan", "on_startup", "on_shutdown"})

_NO_ROLES: frozenset[str] = frozenset()
_ROLE_SETS: dict[frozenset[str], frozenset[str]] = {}

ROLE_LABELS = {
    "route": "async route",
    "websocket": "websocket handler",
    "dependency": "async dependency",
    "middleware": "middleware",
    "exception_handler": "exception handler",
    "lifespan": "lifespan handler",
    "startup": "startup handler",
    "shutdown": "shutdown handler",
}


@dataclass(slots=True)
class Route:
    function: str  # full dotted name of the endpoint
    method: str  # get/post/... , "websocket", or "api_route"
    path: str | None
    owner: str | None  # the app/router variable
    kwargs: dict[str, str] = field(default_factory=dict)
    span: Span | None = None  # the endpoint's def, or the registering call (read lazily: facts/positions.py)

    @property
    def line(self) -> int:
        return self.span.line if self.span is not None else 0


@dataclass(slots=True)
class AppModel:
    roles: dict[str, frozenset[str]] = field(default_factory=dict)  # one shared frozenset per combination
    routes: list[Route] = field(default_factory=list)
    objects: dict[str, str] = field(default_factory=dict)  # variable full name -> "app" | "router"

    def role_of(self, full: str) -> set[str]:
        return self.roles.get(full, _NO_ROLES)

    def label(self, full: str, is_async: bool = True) -> str:
        roles = self.role_of(full)
        for role in ("route", "websocket", "middleware", "dependency", "lifespan", "startup", "shutdown", "exception_handler"):
            if role in roles:
                return ROLE_LABELS[role]
        return "coroutine" if is_async else "function"

    def is_per_request(self, full: str) -> bool:
        return bool(self.role_of(full) & PER_REQUEST_ROLES)

    def route_for(self, full: str) -> list[Route]:
        return [r for r in self.routes if r.function == full]


def _unquote(text: str | None) -> str | None:
    if text and len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return None


class _Builder:
    def __init__(self, index: ProjectIndex) -> None:
        self.index = index
        self.model = AppModel()
        self._aliases: dict[str, str | None] = {}

    def add_role(self, full: str | None, role: str) -> None:
        if full:
            roles = self.model.roles
            old = roles.get(full, _NO_ROLES)
            if role not in old:
                roles[full] = _ROLE_SETS.setdefault(old | {role}, old | {role})

    def object_kind(self, sym: Symbol, variable: str | None) -> str | None:
        """app / router, for the value a decorator or method is called on."""
        if variable is not None and variable in self.model.objects:
            return self.model.objects[variable]
        if sym.kind == "instance-ext":
            if sym.name in APP_TYPES:
                return "app"
            if sym.name in ROUTER_TYPES:
                return "router"
        if sym.kind == "instance":
            if self.index.subclass_of(sym.name, APP_TYPES):
                return "app"
            if self.index.subclass_of(sym.name, ROUTER_TYPES):
                return "router"
        return None

    def owner_of(self, target: str) -> tuple[str | None, str | None, str]:
        """For `x.y.get` -> (kind of x.y, variable name of x.y, "get")."""
        if "." not in target:
            return None, None, target
        owner, method = target.rsplit(".", 1)
        variable = self.index.variable_name(owner)
        kind = self.object_kind(self.index.resolve(owner), variable)
        return kind, variable, method

    def callable_full(self, text: str | None) -> list[str]:
        """Functions a callable reference runs: a function, a class' __init__/__call__, an instance's __call__."""
        if not text:
            return []
        sym = self.index.resolve(text)
        if sym.kind == "function":
            return [sym.name]
        if sym.kind == "class":
            return [m for m in (f"{sym.name}.__init__",) if m in self.index.functions]
        if sym.kind == "instance":
            for cls in self.index.mro(sym.name):
                if f"{cls}.__call__" in self.index.functions:
                    return [f"{cls}.__call__"]
        return []

    def build(self) -> AppModel:
        index = self.index
        for full, value in index.variables.items():
            sym = index.resolve(value)
            kind = self.object_kind(sym, None)
            if kind:
                self.model.objects[full] = kind
        dependency_texts: list[str] = []
        for ref in index.functions.values():
            fn = ref.function
            for dec in fn.decorators:
                self._decorator(ref, dec)
        # only calls passing these keywords or calling a registration method can register
        # anything (see _call)
        registering = {target for target in index.call_targets() if target and target.rsplit(".", 1)[-1] in _REGISTRATIONS}
        numbers = {*index.sites_passing(("dependencies", *_APP_OPTIONS)), *index.sites_calling(registering)}
        for _, _, _, call in index.sites(sorted(numbers)):
            if call.target:
                dependency_texts.extend(self._call(call))
        for cls_full, (_, cls) in index.classes.items():
            if index.subclass_of(cls_full, HTTP_MIDDLEWARE_BASES):
                self.add_role(f"{cls_full}.dispatch", "middleware")
        for text in dependency_texts:
            for target in self.callable_full(text):
                self.add_role(target, "dependency")
        self._dependencies()
        return self.model

    def _decorator(self, ref: FunctionRef, dec: DecoratorFact) -> None:
        if not dec.called:
            return
        kind, variable, method = self.owner_of(dec.target)
        if kind is None:
            return
        full = ref.full
        if method in ROUTE_METHODS or method == "websocket":
            role = "websocket" if method == "websocket" else "route"
            self.add_role(full, role)
            self.model.routes.append(
                Route(full, method, _unquote(dec.args[0]) if dec.args else _unquote(dec.kwargs.get("path")), variable, dec.kwargs, ref.function.span)
            )
            for text in _DEPENDS_IN_TEXT.findall(dec.kwargs.get("dependencies", "")):
                for target in self.callable_full(text):
                    self.add_role(target, "dependency")
        elif method == "middleware":
            self.add_role(full, "middleware")
        elif method == "on_event":
            event = _unquote(dec.args[0]) if dec.args else None
            if event in ("startup", "shutdown"):
                self.add_role(full, event)
        elif method == "exception_handler":
            self.add_role(full, "exception_handler")

    def _call(self, call: CallFact) -> list[str]:
        """Registrations made by calls: add_api_route, add_middleware, FastAPI(lifespan=...), ..."""
        deps: list[str] = []
        if not call.target:
            return deps
        if "dependencies" in call.kwargs:
            deps.extend(_DEPENDS_IN_TEXT.findall(call.kwargs["dependencies"]))
        method = call.target.rsplit(".", 1)[-1]
        app_options = _APP_OPTIONS.intersection(call.kwargs)
        if method not in _REGISTRATIONS and not app_options:
            return deps  # most calls register nothing: skip resolving them
        sym = self.index.resolve(call.target) if app_options else None
        if sym is not None and sym.kind in ("instance-ext", "instance") and self.object_kind(sym, None) == "app":
            # FastAPI(lifespan=..., on_startup=[...])
            for target in self.callable_full(call.kwargs.get("lifespan")):
                self.add_role(target, "lifespan")
            for key, role in (("on_startup", "startup"), ("on_shutdown", "shutdown")):
                for text in re.findall(r"[A-Za-z_][\w.]*", call.kwargs.get(key, "")):
                    for target in self.callable_full(text):
                        self.add_role(target, role)
            return deps
        kind, variable, method = self.owner_of(call.target)
        if kind is None:
            return deps
        args = call.args
        if method in ("add_api_route", "add_route", "add_api_websocket_route", "add_websocket_route"):
            endpoint = call.kwargs.get("endpoint") or (args[1] if len(args) > 1 else None)
            role = "websocket" if "websocket" in method else "route"
            for target in self.callable_full(endpoint):
                self.add_role(target, role)
                self.model.routes.append(Route(target, role if role == "websocket" else "api_route", _unquote(args[0]) if args else None, variable, dict(call.kwargs), call.span))
        elif method == "add_middleware":
            cls_text = call.kwargs.get("middleware_class") or (args[0] if args else None)
            cls = self.index.resolve(cls_text) if cls_text else None
            if cls is not None and cls.kind == "class":
                if self.index.subclass_of(cls.name, HTTP_MIDDLEWARE_BASES):
                    self.add_role(f"{cls.name}.dispatch", "middleware")
                else:
                    self.add_role(f"{cls.name}.__call__", "middleware")
        elif method == "add_exception_handler":
            handler = call.kwargs.get("handler") or (args[1] if len(args) > 1 else None)
            for target in self.callable_full(handler):
                self.add_role(target, "exception_handler")
        elif method == "add_event_handler":
            event = _unquote(args[0]) if args else None
            if event in ("startup", "shutdown"):
                for target in self.callable_full(args[1] if len(args) > 1 else call.kwargs.get("func")):
                    self.add_role(target, event)
        return deps

    def _dependencies(self) -> None:
        """Depends()/Security() in the parameters of routes and dependencies, to a fixpoint."""
        todo = [name for name, roles in self.model.roles.items() if roles & {"route", "websocket", "dependency"}]
        seen: set[str] = set()
        while todo:
            full = todo.pop()
            if full in seen:
                continue
            seen.add(full)
            ref = self.index.function(full)
            if ref is None:
                continue
            for param in ref.function.params:
                depends = param.depends
                if depends is None and param.annotation:
                    depends = self._alias_dependency(param.annotation)
                if depends is None:
                    continue
                text = depends or param.annotation
                for target in self.callable_full(text):
                    self.add_role(target, "dependency")
                    todo.append(target)


    def _alias_dependency(self, annotation: str) -> str | None:
        """`db: SessionDep` where SessionDep = Annotated[Session, Depends(get_db)] (any module)."""
        try:
            return self._aliases[annotation]  # a project repeats a few annotations thousands of times
        except KeyError:
            pass
        found = None
        variable = self.index.variable_name(annotation)
        if variable is not None:
            module, _, name = variable.rpartition(".")
            facts = self.index.modules.get(module)
            found = facts.type_aliases.get(name) if facts else None
        self._aliases[annotation] = found
        return found


def build_app_model(index: ProjectIndex) -> AppModel:
    return _Builder(index).build()

