"""FR5xx: request-path work that scales badly: serial awaits, cache keys that never expire, unbounded
list queries and whole files read into memory for a response.

Every rule here prefers silence to a guess: FR501 only reports loops whose iterations provably do
not depend on each other and whose awaits are HTTP requests or the project's own coroutines with no
shared session; FR502 only reports clients resolved by type; FR503 only routes with no limit anywhere.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator

from fastapi_reviewer.checks.base import CallPaths, CheckContext
from fastapi_reviewer.facts.flow import call_reads, uses_of
from fastapi_reviewer.facts.lazy import call_targets
from fastapi_reviewer.facts.model import CallFact, FunctionFacts, LoopFact
from fastapi_reviewer.fastapi_model import PER_REQUEST_ROLES
from fastapi_reviewer.findings import Finding, TraceStep
from fastapi_reviewer.index import ProjectIndex
from fastapi_reviewer.pydantic_model import ModelKinds, is_response_type
from fastapi_reviewer.testfiles import is_test_path


def check(ctx: CheckContext) -> Iterator[Finding]:
    if ctx.wants("FR501"):
        yield from _sequential_awaits(ctx)
    if ctx.wants("FR502"):
        yield from _cache_without_ttl(ctx)
    if ctx.wants("FR503"):
        yield from _unbounded_lists(ctx)
    if ctx.wants("FR504"):
        yield from _whole_file_responses(ctx)


# ---------------------------------------------------------------------------------------- FR501
HTTP_CLIENTS = ("httpx.AsyncClient.", "aiohttp.ClientSession.")
HTTP_METHODS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "request", "send"})
# a value that must not be used by two coroutines at once (one session, one connection, ...)
_SHARED = re.compile(
    r"session|connection|\bconn\b|cursor|transaction|websocket|\bws\b|pipeline|\block\b|semaphore|\bqueue\b|"
    r"(?:^|[._(\s])(?:db|tx|txn|uow|cur)(?:$|[._()\s])",
    re.IGNORECASE,
)


def _shares_state(texts: list[str]) -> bool:
    return any(_SHARED.search(text) for text in texts)


def _safe_await(ctx: CheckContext, call: CallFact) -> str | None:
    """'http' or 'coroutine' when concurrent calls are independent; None when unsure."""
    sym = ctx.index.resolve(call.target)
    values = [*call.args, *call.kwargs.values(), *call.kwargs.keys()]
    if sym.kind == "external" and sym.name.startswith(HTTP_CLIENTS) and sym.name.rsplit(".", 1)[-1] in HTTP_METHODS:
        return "http"
    if sym.kind == "function":
        ref = ctx.index.functions[sym.name]
        fn = ref.function
        if not fn.is_async or fn.class_name is not None or fn.has_yield:
            return None
        if _shares_state(values) or _shares_state([p.name for p in fn.params]):
            return None
        if any(p.annotation and _shares_state([p.annotation]) for p in fn.params):
            return None
        return "coroutine"
    return None


def _arg_names(fn: FunctionFacts, index: int) -> set[str]:
    """Locals an awaited call is given: its arguments, through nested calls (not its receiver)."""
    names: set[str] = set()
    for key, uses in fn.uses.items():
        for use in uses:
            if use.call != index or use.kind not in ("arg", "arg-part", "star"):
                continue
            if key.startswith("@"):
                names |= call_reads(fn, int(key[1:]))
            else:
                names.add(key)
    return names


def _independent_args(ctx: CheckContext, fn: FunctionFacts, index: int, derived: set[str]) -> bool:
    """Every local the call is given comes from the item, is a constant, or is an HTTP client:
    another local (a session, a fixture, a context object, a lock) may not be shared by coroutines."""
    own = set(fn.bound)
    for name in _arg_names(fn, index):
        if name in derived or name in fn.literals or name not in own:
            continue
        if name in fn.local_types and ctx.index.resolve(fn.local_types[name]).name.startswith(("httpx.AsyncClient", "aiohttp.ClientSession")):
            continue
        return False
    return True


def _derived(fn: FunctionFacts, loop_index: int | None, targets: set[str]) -> set[str]:
    """`targets` and the locals computed from them (inside the loop `loop_index`, or anywhere)."""
    names = set(targets)
    changed = True
    while changed:
        changed = False
        for i, call in enumerate(fn.calls):
            if (loop_index is not None and call.loop != loop_index) or not call.assigned_to or call.assigned_to in names:
                continue
            if call_reads(fn, i) & names:
                names.add(call.assigned_to)
                changed = True
        for name in list(names):
            for use in fn.uses.get(name, ()):
                if use.kind in ("assign", "assign-part") and use.keyword and use.keyword not in names:
                    names.add(use.keyword)
                    changed = True
    return names


def _sequential_awaits(ctx: CheckContext) -> Iterator[Finding]:
    for _, ref in ctx.scoped_functions():
        fn = ref.function
        if not fn.is_async or not fn.loops or is_test_path(ref.module.path):
            continue
        for index, loop in enumerate(fn.loops):
            found = _independent_loop(ctx, fn, index, loop)
            if found is None:
                continue
            call, kind = found
            what = f"the items of `{loop.iter}`" if loop.iter else "the loop's items"
            hint = (
                "start the requests together: `await asyncio.gather(*(client.get(...) for item in items))` "
                "(bound it with an `asyncio.Semaphore` for long lists)"
                if kind == "http"
                else "run them concurrently: `await asyncio.gather(*(f(item) for item in items))` or an "
                "`asyncio.TaskGroup` (bound it with an `asyncio.Semaphore` for long lists)"
            )
            yield ctx.finding("FR501", ref.module, call.span, fn.qualname, hint=hint, call=f"`await {call.raw}()`", what=what)


def _independent_loop(ctx: CheckContext, fn: FunctionFacts, index: int, loop: LoopFact) -> tuple[CallFact, str] | None:
    if loop.kind not in ("for", "comprehension") or loop.exits or loop.carried or not loop.targets:
        return None
    awaited = [(i, c) for i, c in enumerate(fn.calls) if c.loop == index and c.awaited]
    if not awaited or loop.awaits != len(awaited):
        return None  # async with / async for / awaits on tasks, or awaits in nested loops
    if len(awaited) > 1:
        return None  # a chain of awaits per item: worth a helper + gather, but too easy to get wrong
    derived = _derived(fn, index, set(loop.targets))
    first: tuple[CallFact, str] | None = None
    for i, call in awaited:
        kind = _safe_await(ctx, call)
        if kind is None or not _independent_args(ctx, fn, i, derived):
            return None
        if first is None and call_reads(fn, i) & derived:
            first = (call, kind)
    return first


# ---------------------------------------------------------------------------------------- FR502
TTL_KEYWORDS = {
    "redis": ("ex", "px", "exat", "pxat", "keepttl"),
    "memcache": ("expire", "exptime", "time", "ttl", "timeout"),
}
CACHE_SET = {
    # resolved name -> (family, position of the TTL argument)
    "pymemcache.client.base.Client.set": ("memcache", 2),
    "pymemcache.client.base.PooledClient.set": ("memcache", 2),
    "pymemcache.client.hash.HashClient.set": ("memcache", 2),
    "pymemcache.Client.set": ("memcache", 2),
    "aiomcache.Client.set": ("memcache", 2),
    "memcache.Client.set": ("memcache", 2),
    "diskcache.Cache.set": ("memcache", 2),
    "diskcache.FanoutCache.set": ("memcache", 2),
}
EXPIRE_METHODS = frozenset({"expire", "pexpire", "expireat", "pexpireat", "touch"})


def _cache_set(name: str) -> tuple[str, int] | None:
    if name in CACHE_SET:
        return CACHE_SET[name]
    parts = name.split(".")
    if parts[0] in ("redis", "aioredis", "coredis") and parts[-1] == "set" and len(parts) >= 3:
        return ("redis", 2)
    return None


def _has_ttl(call: CallFact, family: str, position: int) -> bool:
    for key in TTL_KEYWORDS[family]:
        value = call.kwargs.get(key)
        if value is not None and value not in ("None", "False", "0"):
            return True
    if len(call.args) > position and call.args[position] not in ("None", "0"):
        return True
    return "kwargs" in call.kwargs  # **options may carry ex=


def request_paths(ctx: CheckContext) -> CallPaths:
    """Every project function that runs on a request (``via``, in breadth-first order from the
    routes and dependencies), with the path from one of them to it (``path``, built when asked)."""
    index = ctx.index
    paths = CallPaths(index)
    via = paths.via
    todo: deque[str] = deque()
    for full, roles in ctx.app.roles.items():
        if roles & PER_REQUEST_ROLES and full in index.functions:
            via[full] = None
            todo.append(full)
    while todo:
        full = todo.popleft()
        for i, target in enumerate(call_targets(index.functions[full].function)):
            sym = index.resolve(target)
            if sym.kind != "function" or sym.name in via or sym.name not in index.functions:
                continue
            via[sym.name] = (full, i)
            todo.append(sym.name)
    return paths


def _cache_set_call(index: ProjectIndex, call: CallFact) -> tuple[str, int] | None:
    """The cache family and value position of a call storing into a cache (``r.set(k, v)``)."""
    if not call.target or not call.target.endswith(".set"):
        return None
    sym = index.resolve(call.target)
    return _cache_set(sym.name) if sym.kind == "external" else None


def _cache_without_ttl(ctx: CheckContext) -> Iterator[Finding]:
    index = ctx.index
    if ctx.named_files_lack(lambda call: _cache_set_call(index, call) is not None):
        return  # a run on a few files none of which stores into a cache: no walk of the project
    paths = request_paths(ctx)
    for full in paths.via:
        ref = index.functions[full]
        fn = ref.function
        if not ctx.in_scope(ref.module) or is_test_path(ref.module.path):
            continue
        expires = {c.raw.rsplit(".", 1)[0] for c in fn.calls if c.raw.rsplit(".", 1)[-1] in EXPIRE_METHODS}
        for i, call in enumerate(fn.calls):
            found = _cache_set_call(index, call)
            if found is None or _has_ttl(call, *found):
                continue
            sym = index.resolve(call.target)
            receiver = call.raw.rsplit(".", 1)[0]
            if receiver in expires:  # r.set(k, v) then r.expire(k, 60)
                continue
            lock = call.kwargs.get("nx") == "True"
            if found[0] == "redis" and not lock and not _caching(ref.module.module, fn, receiver, i):
                continue  # redis as a store (a registry, a flag, a counter): keys meant to persist
            path = paths.path(full)
            root = _root_label(ctx, full, path)
            keyword = "ex=" if found[0] == "redis" else "expire="
            here = TraceStep(path=ref.module.path, line=call.span.line, function=fn.qualname, call=sym.name)
            if lock:
                hint = f"a lock with no expiry is never released when its holder dies: `{call.raw}(key, value, nx=True, {keyword}<seconds>)`"
                text = f"`{call.raw}(..., nx=True)` (a lock)"
            else:
                hint = f"give the cached value an expiry: `{call.raw}(key, value, {keyword}<seconds>)`"
                text = f"`{call.raw}()`"
            yield ctx.finding("FR502", ref.module, call.span, fn.qualname, hint=hint, trace=[*path, here], call=text, where=root)


_CACHE_WORD = re.compile(r"cach", re.IGNORECASE)
_READS = frozenset({"get", "mget", "exists", "get_many"})


def _caching(module: str, fn: FunctionFacts, receiver: str, index: int) -> bool:
    """The write is a cache write: the client, function, class or module is named for caching, or
    the function reads the key first and then computes the value (read-through): not when the value
    is the stored one, modified (read-modify-write of a record), nor for a fixed key (a flag)."""
    if _CACHE_WORD.search(receiver) or _CACHE_WORD.search(fn.qualname) or _CACHE_WORD.search(module.rsplit(".", 1)[-1]):
        return True
    reads = [j for j, c in enumerate(fn.calls) if j < index and any(c.raw == f"{receiver}.{m}" for m in _READS)]
    if not reads:
        return False
    value = _argument_reads(fn, index, 1, ("value",))
    key = _argument_reads(fn, index, 0, ("name", "key"))
    read_back = _derived(fn, None, {fn.calls[j].assigned_to for j in reads if fn.calls[j].assigned_to})
    if value & read_back:
        return False
    return bool(key & set(fn.bound))


def _argument_reads(fn: FunctionFacts, index: int, position: int, keywords: tuple[str, ...]) -> set[str]:
    """Names the argument at `position` (or passed as one of `keywords`) of calls[index] reads."""
    names: set[str] = set()
    for key, uses in fn.uses.items():
        for use in uses:
            if use.call != index or use.kind not in ("arg", "arg-part"):
                continue
            if use.position != position and use.keyword not in keywords:
                continue
            names |= call_reads(fn, int(key[1:])) if key.startswith("@") else {key}
    return names


def _root_label(ctx: CheckContext, full: str, path: tuple[TraceStep, ...]) -> str:
    if not path:
        return f"{ctx.app.label(full, True).replace('async ', '')} `{full.rsplit('.', 1)[-1]}`"
    first = path[0]
    return f"reached from `{first.function}`"


# ---------------------------------------------------------------------------------------- FR503
PAGINATION_PARAMS = re.compile(
    r"^(?:limit|offset|page|pages|page_?size|per_?page|size|cursor|skip|take|first|last|after|before|"
    r"start|count|max_?results|max_?items|top|page_?number|page_?num|pagination|paging|paginator|params|page_?params|"
    r"page_?token|next_?token|continuation_?token|batch_?size|n|k)$",
    re.IGNORECASE,
)
_PAGINATION_TYPES = re.compile(r"pagina|page|params|limit|cursor", re.IGNORECASE)
_BOUND_METHODS = frozenset(
    {
        "limit", "offset", "slice", "paginate", "fetchmany", "fetch_page", "page", "first", "one", "one_or_none",
        "scalar", "scalar_one", "scalar_one_or_none", "get", "top", "take", "skip", "head",
    }
)
_MONGO_FIND = frozenset({"find", "find_all", "find_many", "aggregate"})


def _has_pagination(fn: FunctionFacts) -> bool:
    for param in fn.params:
        if PAGINATION_PARAMS.match(param.name):
            return True
        for text in (param.annotation, param.depends):
            if text and _PAGINATION_TYPES.search(text.rsplit(".", 1)[-1]):
                return True
    for call in fn.calls:
        parts = call.raw.replace("()", "").split(".")
        if any(part in _BOUND_METHODS for part in parts[1:]) or "paginate" in call.raw.lower():
            return True
        if any("limit" in v.lower() or "LIMIT" in v for v in (*call.args, *call.kwargs.values(), *call.kwargs.keys())):
            return True
    return False


def _unbounded_fetch(ctx: CheckContext, kinds: ModelKinds, call: CallFact) -> str | None:
    """A call that fetches every row/document: `.all()`, `.fetchall()`, `.to_list(None)`, `Model.all()`."""
    method = call.raw.rsplit(".", 1)[-1]
    raw_parts = call.raw.replace("()", "").split(".")
    if method == "to_list":
        if not any(p in _MONGO_FIND for p in raw_parts):
            return None
        length = call.kwargs.get("length", call.args[0] if call.args else "None")
        return f"`{call.raw}()`" if length == "None" else None
    if method not in ("all", "fetchall", "fetch_all"):
        return None
    if not call.target:
        return None
    prefix = call.target.rsplit(".", 1)[0]
    sym = ctx.index.resolve(prefix)
    if sym.kind == "class" and kinds.kind(sym.name) == "orm" and method == "all":
        return f"`{call.raw}()`"
    if sym.kind in ("external", "instance-ext") and sym.name.split(".")[0] in ("sqlalchemy", "sqlmodel", "databases", "encode"):
        return f"`{call.raw}()`"
    return None


def _flows_to_return(fn: FunctionFacts, index: int, depth: int = 0) -> bool:
    call = fn.calls[index]
    if call.returned:
        return True
    for use in uses_of(fn, index):
        if use.kind in ("return", "return-part"):
            return True
        if use.kind in ("arg", "star") and depth < 3:
            outer = fn.calls[use.call]
            name = outer.target or outer.raw
            # serialisers and model builders keep every row: jsonable_encoder(rows), [Out.model_validate(r) ...]
            keeps_rows = name.rsplit(".", 1)[-1] in ("jsonable_encoder", "model_validate", "from_orm", "parse_obj", "list", "dict")
            if keeps_rows and _flows_to_return(fn, use.call, depth + 1):
                return True
    return False


def _unbounded_lists(ctx: CheckContext) -> Iterator[Finding]:
    kinds = ModelKinds(ctx.index)
    for route in _get_routes(ctx):
        ref = ctx.index.function(route)
        if ref is None or not ctx.in_scope(ref.module) or is_test_path(ref.module.path):
            continue
        fn = ref.function
        if _has_pagination(fn):
            continue
        for i, call in enumerate(fn.calls):
            what = _unbounded_fetch(ctx, kinds, call)
            if what is None or not _flows_to_return(fn, i):
                continue
            yield ctx.finding("FR503", ref.module, call.span, fn.qualname, call=what)
            break


def _get_routes(ctx: CheckContext) -> list[str]:
    seen: list[str] = []
    for route in ctx.app.routes:
        if route.method in ("get", "api_route") and route.function not in seen:
            if route.method == "api_route" and "GET" not in route.kwargs.get("methods", "GET").upper():
                continue
            seen.append(route.function)
    return seen


# ---------------------------------------------------------------------------------------- FR504
FILE_READS = frozenset(
    {
        "io.TextIOWrapper.read", "io.BufferedReader.read", "pathlib.Path.read_bytes", "pathlib.Path.read_text",
        "anyio.Path.read_bytes", "anyio.Path.read_text", "aiofiles.open().read", "aiofiles.threadpool.open().read",
        "anyio.open_file().read", "trio.open_file().read",
    }
)
STREAMING = ("fastapi.responses.FileResponse", "starlette.responses.FileResponse", "fastapi.responses.StreamingResponse", "starlette.responses.StreamingResponse")


def _is_response(ctx: CheckContext, kinds: ModelKinds, call: CallFact) -> bool:
    sym = ctx.index.resolve(call.target)
    if sym.kind == "class":
        return kinds.kind(sym.name) == "response"
    return sym.kind == "external" and is_response_type(sym.name) and not sym.name.startswith(STREAMING)


def _response_of(ctx: CheckContext, kinds: ModelKinds, fn: FunctionFacts, index: int) -> str | None:
    """The read result is returned, or handed to a Response that is returned."""
    if fn.calls[index].returned:
        return "returned"
    for use in uses_of(fn, index):
        if use.kind == "return":
            return "returned"
        if use.kind == "arg" and _is_response(ctx, kinds, fn.calls[use.call]):
            outer = fn.calls[use.call]
            if outer.returned or any(u.kind == "return" for u in uses_of(fn, use.call)):
                return f"put in `{outer.raw}(...)`"
    return None


def _whole_file_responses(ctx: CheckContext) -> Iterator[Finding]:
    kinds = ModelKinds(ctx.index)
    routes = {r.function for r in ctx.app.routes}
    for full in routes:
        ref = ctx.index.function(full)
        if ref is None or not ctx.in_scope(ref.module) or is_test_path(ref.module.path):
            continue
        fn = ref.function
        for i, call in enumerate(fn.calls):
            if not call.target:
                continue
            name = ctx.index.resolve(call.target).name
            if name not in FILE_READS and not (name.endswith("open().read") and name.split(".")[0] in ("aiofiles", "anyio")):
                continue
            if call.args and call.args[0] not in ("-1", "None"):
                continue  # a chunk
            how = _response_of(ctx, kinds, fn, i)
            if how is None:
                continue
            yield ctx.finding("FR504", ref.module, call.span, fn.qualname, call=f"`{call.raw}()`", how=how)
