"""FR3xx: connections and clients built on every request; session dependencies that never close.

A client is "per request" when the code that builds it runs for every request: a route, a
dependency, middleware or an exception handler, or any project function those call (sync helpers,
awaited coroutines, ``__init__`` of classes they instantiate, functions handed to
``run_in_threadpool`` / ``BackgroundTasks.add_task``). The walk stops at cached factories
(``@lru_cache``, ``@cache``, ``@cached_property``, ...): their body runs once. A client stored in a
module global or on a long-lived object (``global _client; _client = X()``, ``self._client = X()``
outside ``__init__``) is a lazily built singleton, not a per-request one. A client that leaves the
function that built it (returned, or set on ``self`` in ``__init__``) lives as long as what its
callers do with it: ``_engines[name] = build_engine()`` in a per-request path is a cache, and
``TransactionsEngine()`` stored in a module global is a singleton even though its ``__init__``
creates an engine.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from fastapi_reviewer.callgraph import CallGraph
from fastapi_reviewer.catalog import CallGroup, Rule
from fastapi_reviewer.checks.base import CallPaths, CheckContext, step
from fastapi_reviewer.checks.blocking import BlockingMatcher
from fastapi_reviewer.facts.lazy import call_args, call_targets
from fastapi_reviewer.facts.model import CallFact, FunctionFacts, ModuleFacts
from fastapi_reviewer.findings import Finding
from fastapi_reviewer.index import FunctionRef, ProjectIndex, Symbol
from fastapi_reviewer.testfiles import is_test_path

CATEGORY = "connection"
CLIENT_RULES = ("FR301", "FR302", "FR303", "FR304")
SESSION_RULE = "FR305"
CACHE_DECORATORS = frozenset(
    {
        "functools.lru_cache",
        "functools.cache",
        "functools.cached_property",
        "async_lru.alru_cache",
        "cachetools.cached",
        "cachetools.func.lru_cache",
        "cachetools.func.ttl_cache",
        "cachetools.func.lfu_cache",
        "aiocache.cached",
        "alru_cache",
    }
)
SESSION_TYPES = frozenset({"sqlalchemy.orm.Session", "sqlalchemy.ext.asyncio.AsyncSession"})
SESSION_CLOSE = frozenset({"sqlalchemy.orm.Session.close", "sqlalchemy.ext.asyncio.AsyncSession.close"})
SCOPED = frozenset({"sqlalchemy.orm.scoped_session", "sqlalchemy.ext.asyncio.async_scoped_session"})
ROLE_ORDER = ("route", "websocket", "middleware", "dependency", "exception_handler")
ROLE_NAMES = {
    "route": "route",
    "websocket": "websocket handler",
    "middleware": "middleware",
    "dependency": "dependency",
    "exception_handler": "exception handler",
}




class ClientMatcher:
    """Constructor names of the FR301-FR304 [[calls]] groups; `skip_with` keywords opt out."""

    def __init__(self, rules: list[Rule]) -> None:
        self.inner = BlockingMatcher(rules, {})

    def match(self, name: str, call: CallFact) -> tuple[Rule, CallGroup] | None:
        found = self.inner.match(name, call)
        if found is None:
            return None
        if any(k in call.kwargs for k in found[1].skip_with):
            return None
        return found


def _cached(index: ProjectIndex, full: str) -> bool:
    ref = index.functions.get(full)
    if ref is None:
        return False
    return any(index.resolve(d.target).name in CACHE_DECORATORS for d in ref.function.decorators)


def _seed_role(roles: set[str]) -> str | None:
    for role in ROLE_ORDER:
        if role in roles:
            return role
    return None


LONG, LOCAL, ESCAPES = "long", "local", "escapes"


def _place_kind(module: ModuleFacts, fn: FunctionFacts, place: str) -> str:
    """How long a value stored at `place` lives: LONG (module, object), LOCAL, ESCAPES (self in __init__)."""
    head = place.split(".")[0].removesuffix("[]")
    if head in fn.globals:
        return LONG
    if head == place:
        return LOCAL
    params = [p.name for p in fn.params]
    if head in params:
        if fn.class_name is not None and params[0] == head:
            return ESCAPES if fn.name == "__init__" else LONG
        return LOCAL  # request.state.client = ...: per request
    if head in fn.local_types:
        return LOCAL
    return LONG if head in module.variables or head in module.imports else LOCAL


def _destination(module: ModuleFacts, fn: FunctionFacts, call: CallFact) -> str:
    """Where the value a call builds ends up: LONG-lived storage, LOCAL use, or ESCAPES to the caller."""
    kinds: list[str] = []
    if call.returned:
        kinds.append(ESCAPES)
    target = call.assigned_to
    if target:
        kind = _place_kind(module, fn, target)
        kinds.append(kind)
        if kind == LOCAL and target.isidentifier():  # a local: follow where it goes next
            kinds.extend(_place_kind(module, fn, place) for place, name in fn.stores if name == target)
            if any(u.kind == "return" for u in getattr(fn, "uses", {}).get(target, [])):
                kinds.append(ESCAPES)
    if LONG in kinds:
        return LONG
    return ESCAPES if ESCAPES in kinds else LOCAL


class PerRequest:
    """Every project function that runs on each request, with the shortest path from a handler.

    The walk follows call targets (facts/lazy.py: no function body is decoded for it); a call's
    arguments are read only for the offload helpers, and the path to a function is built when a
    finding needs it."""

    def __init__(self, ctx: CheckContext) -> None:
        self.ctx = ctx
        self.index = ctx.index
        self.graph = CallGraph(ctx.index)
        self.reached: dict[str, str] = {}  # function -> the per-request function its path starts at
        self.paths = CallPaths(ctx.index)
        self.incoming: dict[str, list[tuple[str, int]]] = {}  # per-request callers and their call index
        self._edge_memo: dict[str | None, list[str] | None] = {}  # None: depends on the arguments
        self._offload_memo: dict[tuple[str | None, tuple[str, ...]], list[str]] = {}
        self._walk()

    def is_seed(self, full: str) -> bool:
        return self.paths.via[full] is None

    def built_per_request(self, full: str, call: CallFact, seen: frozenset[str] = frozenset()) -> bool:
        """Does the value `call` (in `full`) builds come into being for each request?"""
        ref = self.index.functions[full]
        where = _destination(ref.module, ref.function, call)
        if where != ESCAPES:
            return where == LOCAL
        if self.is_seed(full) or full in seen or len(seen) > 8:
            return True  # FastAPI itself calls it per request (a dependency returning the client)
        functions = self.index.functions
        return any(
            self.built_per_request(caller, functions[caller].function.calls[i], seen | {full}) for caller, i in self.incoming.get(full, [])
        )

    def _edges(self, fn: FunctionFacts, i: int, target: str | None) -> list[str]:
        found = self._edge_memo.get(target, _UNSEEN)
        if found is _UNSEEN:
            found = self._edge_memo[target] = self._edges_of_target(target)
        if found is not None:
            return found
        key = (target, tuple(call_args(fn)[i]))  # an offload helper: the function handed to it is an argument
        handed = self._offload_memo.get(key)
        if handed is None:
            handed = self._offload_memo[key] = self._handed(*key)
        return handed

    def _edges_of_target(self, target: str | None) -> list[str] | None:
        """The project functions a call of this target runs (None: it depends on the arguments)."""
        index = self.index
        sym = index.resolve(target)
        found: list[str] = []
        if sym.kind == "function":
            found.append(sym.name)
        elif sym.kind == "class":
            found.extend(self.graph.targets_of_class(sym.name))
        elif sym.kind == "external" and sym.name in index.types.offload:
            return None
        return [f for f in found if f in index.functions and not _cached(index, f)]

    def _handed(self, target: str | None, args: tuple[str, ...]) -> list[str]:
        index = self.index
        position = index.types.offload[index.resolve(target).name]
        if len(args) > position:
            handed = index.resolve(args[position])
            if handed.kind == "function" and handed.name in index.functions and not _cached(index, handed.name):
                return [handed.name]
        return []

    def _walk(self) -> None:
        app = self.ctx.app
        seeds = []
        for full in self.index.functions:
            role = _seed_role(app.role_of(full))
            if role is not None and not _cached(self.index, full) and not is_test_path(self.index.functions[full].module.path):
                seeds.append((ROLE_ORDER.index(role), full))
        queue: deque[str] = deque()
        functions, reached, via, incoming = self.index.functions, self.reached, self.paths.via, self.incoming
        for _, full in sorted(seeds):
            reached[full] = full
            via[full] = None
            queue.append(full)
        while queue:
            full = queue.popleft()
            seed = reached[full]
            fn = functions[full].function
            for i, target_text in enumerate(call_targets(fn)):
                for target in self._edges(fn, i, target_text):
                    incoming.setdefault(target, []).append((full, i))
                    if target in reached:
                        continue
                    reached[target] = seed
                    via[target] = (full, i)
                    queue.append(target)

    def where(self, full: str) -> str:
        seed = self.reached[full]
        seed_ref = self.index.functions[seed]
        role = ROLE_NAMES[_seed_role(self.ctx.app.role_of(seed)) or "route"]
        if self.is_seed(full):
            return f"{role} `{seed_ref.function.qualname}`"
        return f"`{self.index.functions[full].function.qualname}`, which {role} `{seed_ref.function.qualname}` runs on every request"


_UNSEEN: list[str] = []


def _call_text(raw: str, canonical: str) -> str:
    if raw in ("?", canonical):
        return f"`{canonical}()`"
    return f"`{raw}()` ({canonical})"


def check(ctx: CheckContext) -> Iterator[Finding]:
    if ctx.wants(*CLIENT_RULES):
        yield from _clients(ctx)
    if ctx.wants(SESSION_RULE):
        yield from _sessions(ctx)


# ------------------------------------------------------------ FR301-FR304
def _constructed(index: ProjectIndex, matcher: ClientMatcher, call: CallFact, sym: Symbol) -> tuple[Rule, CallGroup, str] | None:
    if sym.kind == "external":
        found = matcher.match(sym.name, call)
        return (*found, sym.name) if found else None
    if sym.kind == "class":  # class ApiClient(httpx.AsyncClient): ... ; ApiClient()
        for base in index.mro(sym.name)[1:]:
            found = matcher.match(base, call)
            if found:
                return (*found, base)
    return None


def _clients(ctx: CheckContext) -> Iterator[Finding]:
    rules = [ctx.enabled[c] for c in CLIENT_RULES if c in ctx.enabled]
    matcher = ClientMatcher(rules)
    index = ctx.index
    if ctx.named_files_lack(lambda call: not call.in_main_guard and _constructed(index, matcher, call, index.resolve(call.target)) is not None):
        return  # a run on a few files none of which builds a client: no walk of the whole project
    per_request = PerRequest(ctx)
    for full in sorted(per_request.reached):
        ref: FunctionRef = index.functions[full]
        fn = ref.function
        if not ctx.in_scope(ref.module) or is_test_path(ref.module.path):  # test doubles and fixtures build what they like
            continue
        for call in fn.calls:
            if call.in_main_guard:
                continue
            found = _constructed(index, matcher, call, index.resolve(call.target))
            if found is None or not per_request.built_per_request(full, call):
                continue
            rule, group, canonical = found
            trace = [*per_request.paths.path(full), step(ref, call.span.line, canonical)]
            yield ctx.finding(
                rule.code, ref.module, call.span, fn.qualname, hint=group.hint,
                call=_call_text(call.raw, canonical), where=per_request.where(full), trace=trace,
            )


# ------------------------------------------------------------------ FR305
def _opens_session(index: ProjectIndex, call: CallFact) -> bool:
    if not call.target:
        return False
    callee = index.resolve(call.target)
    if callee.kind in ("function", "unknown") or (callee.kind == "instance-ext" and callee.name in SCOPED):
        return False
    made = index.resolve(call.target + "()")
    return made.kind == "instance-ext" and made.name in SESSION_TYPES


def _closes(index: ProjectIndex, fn: FunctionFacts, opened: CallFact) -> bool:
    if opened.in_with or (fn.has_yield and fn.has_finally):
        return True
    name = opened.assigned_to
    for call in fn.calls:
        if name and call.raw in (f"{name}.close", f"{name}.__exit__", f"{name}.__aexit__"):
            return True
        if index.resolve(call.target).name in SESSION_CLOSE:
            return True
    return False


def _sessions(ctx: CheckContext) -> Iterator[Finding]:
    index = ctx.index
    for full, ref in ctx.scoped_functions():
        if "dependency" not in ctx.app.role_of(full) or is_test_path(ref.module.path):
            continue
        fn = ref.function
        for call in fn.calls:
            if not _opens_session(index, call) or _closes(index, fn, call):
                continue
            local_returned = bool(call.assigned_to) and any(
                u.kind == "return" for u in getattr(fn, "uses", {}).get(call.assigned_to or "", [])
            )
            if call.returned or local_returned:
                how = "returns it (FastAPI only cleans up after a `yield`)"
            elif fn.has_yield:
                how = "yields it outside `try/finally` and never closes it"
            else:
                how = "never closes it"
            yield ctx.finding(
                SESSION_RULE, ref.module, call.span, fn.qualname, call=_call_text(call.raw, index.resolve(call.target + "()").name),
                how=how, trace=[step(ref, call.span.line, call.raw)],
            )
            break
