"""FR6xx: configuration that is unsafe in production: CORS `*` with credentials, debug/reload switched
on in code, secret keys written in the source.

Test files (`tests/`, `test_*.py`, `*_test.py`, `conftest.py`) are not checked by this family: test
apps set `debug=True` and sign tokens with a fixed key on purpose.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from fastapi_reviewer.checks.base import CheckContext
from fastapi_reviewer.facts.model import CallFact, FunctionFacts, ModuleFacts
from fastapi_reviewer.fastapi_model import APP_TYPES
from fastapi_reviewer.findings import Finding
from fastapi_reviewer.index import Symbol
from fastapi_reviewer.testfiles import is_test_path

CORS = frozenset({"starlette.middleware.cors.CORSMiddleware", "fastapi.middleware.cors.CORSMiddleware"})
SESSIONS = frozenset({"starlette.middleware.sessions.SessionMiddleware", "fastapi.middleware.sessions.SessionMiddleware"})
MIDDLEWARE_WRAPPERS = frozenset({"starlette.middleware.Middleware", "fastapi.middleware.Middleware"})
# callables that take a signing secret: name -> (positional index, keywords)
SECRET_SINKS: dict[str, tuple[int | None, tuple[str, ...], str]] = {
    "jwt.encode": (1, ("key",), "signs tokens with"),
    "jwt.decode": (1, ("key",), "verifies tokens with"),
    "jwt.api_jwt.encode": (1, ("key",), "signs tokens with"),
    "jwt.api_jwt.decode": (1, ("key",), "verifies tokens with"),
    "jwt.PyJWT.encode": (1, ("key",), "signs tokens with"),
    "jwt.PyJWT.decode": (1, ("key",), "verifies tokens with"),
    "jose.jwt.encode": (1, ("key",), "signs tokens with"),
    "jose.jwt.decode": (1, ("key",), "verifies tokens with"),
    "jose.jws.sign": (1, ("key",), "signs tokens with"),
    "authlib.jose.jwt.encode": (2, ("key",), "signs tokens with"),
    "authlib.jose.jwt.decode": (1, ("key",), "verifies tokens with"),
    "authlib.jose.JsonWebToken.encode": (2, ("key",), "signs tokens with"),
    "authlib.jose.JsonWebToken.decode": (1, ("key",), "verifies tokens with"),
    "itsdangerous.URLSafeTimedSerializer": (0, ("secret_key",), "signs data with"),
    "itsdangerous.URLSafeSerializer": (0, ("secret_key",), "signs data with"),
    "itsdangerous.Serializer": (0, ("secret_key",), "signs data with"),
    "itsdangerous.TimedSerializer": (0, ("secret_key",), "signs data with"),
    "itsdangerous.Signer": (0, ("secret_key",), "signs data with"),
    "itsdangerous.TimestampSigner": (0, ("secret_key",), "signs data with"),
    "itsdangerous.url_safe.URLSafeTimedSerializer": (0, ("secret_key",), "signs data with"),
    "itsdangerous.url_safe.URLSafeSerializer": (0, ("secret_key",), "signs data with"),
    "fastapi_users.authentication.JWTStrategy": (0, ("secret",), "signs tokens with"),
    "fastapi_users.authentication.strategy.jwt.JWTStrategy": (0, ("secret",), "signs tokens with"),
    "fastapi_users.authentication.strategy.JWTStrategy": (0, ("secret",), "signs tokens with"),
    "fastapi_users.authentication.JWTAuthentication": (0, ("secret",), "signs tokens with"),
    "fastapi_login.LoginManager": (0, ("secret",), "signs tokens with"),
    "fastapi_jwt_auth.AuthJWT": (None, ("secret_key",), "signs tokens with"),
    "authlib.integrations.starlette_client.OAuth.register": (None, ("client_secret",), "authenticates to the OAuth provider with"),
    "authlib.integrations.httpx_client.AsyncOAuth2Client": (None, ("client_secret",), "authenticates to the OAuth provider with"),
}
_PUBLIC = re.compile(r"^\s*(?:-----BEGIN (?:PUBLIC KEY|RSA PUBLIC KEY|CERTIFICATE)|ssh-(?:rsa|ed25519))")
_WILDCARD_REGEX = frozenset({".*", ".+", "^.*$", "^.+$", "https?://.*", "^https?://.*$", "http.*", "https://.*", "^https://.*$"})


def check(ctx: CheckContext) -> Iterator[Finding]:
    if not ctx.wants("FR601", "FR602", "FR603"):
        return
    cors, debug, secret = ctx.wants("FR601"), ctx.wants("FR602"), ctx.wants("FR603")
    may_sign: dict[str, bool] = {}  # call target -> can FR603 apply to it (_may_take_secret), asked once
    for module in ctx.scoped_modules():
        if is_test_path(module.path):
            continue
        literals = _Literals(ctx, module)
        for fn in module.functions:
            function = None if fn.qualname == "<module>" else fn.qualname
            for i, call in enumerate(fn.calls):
                target = call.target
                if not target:
                    continue
                kwargs = call.kwargs
                if cors and kwargs.get("allow_credentials") == "True":
                    yield from _cors(ctx, module, fn, function, i, call, ctx.index.resolve(target), literals)
                if debug and ("debug" in kwargs or "reload" in kwargs):  # FR602 is about these keywords
                    yield from _debug(ctx, module, fn, function, call, ctx.index.resolve(target))
                # FR603 needs an argument, and a library callable, a class or add_middleware
                if secret and (call.args or kwargs):
                    maybe = may_sign.get(target)
                    if maybe is None:
                        maybe = may_sign[target] = _may_take_secret(ctx, ctx.index.resolve(target))
                    if maybe or call.raw.endswith(".add_middleware"):
                        yield from _secret(ctx, module, fn, function, i, call, ctx.index.resolve(target), literals)


class _Literals:
    """The literal a call argument stands for: written inline, a local bound once, a module constant."""

    def __init__(self, ctx: CheckContext, module: ModuleFacts) -> None:
        self.ctx = ctx
        self.module = module

    def module_literals(self, module_name: str) -> dict[str, str]:
        facts = self.ctx.index.modules.get(module_name)
        return facts.functions[0].literals if facts and facts.functions else {}

    def value(self, fn: FunctionFacts, index: int, text: str | None, keyword: str | None, position: int | None) -> tuple[str, str | None] | None:
        """(literal text, the constant's name or None when inline)."""
        if text is None:
            return None
        if text[:1] in ("'", '"', "[", "("):
            try:
                ast.literal_eval(text)
            except (ValueError, SyntaxError):
                pass
            else:
                return text, None
        # the name passed, from the flow facts (keyword or position)
        passed = _passed_name(fn, index, keyword, position)
        if passed is not None:
            if passed in fn.literals:
                return fn.literals[passed], passed
            own = self.module_literals(self.module.module)
            if passed in own and passed not in _locals(fn):
                return own[passed], passed
        # an imported or module-level constant: `SECRET_KEY` resolved to `app.config.SECRET_KEY`
        variable = self.ctx.index.variable_name(text)
        if variable is not None:
            module_name, _, name = variable.rpartition(".")
            found = self.module_literals(module_name).get(name)
            if found is not None:
                return found, name
        return None


def _locals(fn: FunctionFacts) -> set[str]:
    return set(fn.bound)


def _passed_name(fn: FunctionFacts, index: int, keyword: str | None, position: int | None) -> str | None:
    hits: list[str] = []
    for name, uses in fn.uses.items():
        if name.startswith("@"):
            continue
        for use in uses:
            if use.call == index and use.kind == "arg" and keyword is not None and use.keyword == keyword:
                hits.append(name)
    if hits:
        return hits[0]
    if position is None:
        return None
    call = fn.calls[index]
    if len(call.args) > position:
        text = call.args[position]
        if text.isidentifier():
            return text
        head = text.rsplit(".", 1)[-1]
        for name, uses in fn.uses.items():
            if name == head and any(u.call == index and u.kind == "arg" and u.keyword is None for u in uses):
                return name
    return None


def _string(literal: str) -> str | None:
    try:
        value = ast.literal_eval(literal)
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, str) else None


def _strings(literal: str) -> list[str]:
    try:
        value = ast.literal_eval(literal)
    except (ValueError, SyntaxError):
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple, set)):
        return [v for v in value if isinstance(v, str)]
    return []


def _middleware_class(ctx: CheckContext, call: CallFact, sym: Symbol) -> tuple[str | None, int]:
    """For add_middleware(C, ...), Middleware(C, ...), C(app, ...): C's canonical name and kwargs offset."""
    if call.raw.endswith(".add_middleware") or sym.name in MIDDLEWARE_WRAPPERS:
        text = call.kwargs.get("middleware_class") or call.kwargs.get("cls") or (call.args[0] if call.args else None)
        target = ctx.index.resolve(text) if text else None
        return (_canonical(ctx, target) if target else None), 1
    return _canonical(ctx, sym), 1


def _canonical(ctx: CheckContext, sym: Symbol) -> str | None:
    if sym.kind == "external":
        return sym.name
    if sym.kind == "class":
        for name in ctx.index.mro(sym.name):
            if name in CORS or name in SESSIONS:
                return name
    return None


# ---------------------------------------------------------------------------------------- FR601
def _cors(ctx, module, fn, function, index, call, sym, literals: _Literals) -> Iterator[Finding]:
    cls, _ = _middleware_class(ctx, call, sym)
    if cls not in CORS or call.kwargs.get("allow_credentials") != "True":
        return
    origins = literals.value(fn, index, call.kwargs.get("allow_origins"), "allow_origins", None)
    regex = literals.value(fn, index, call.kwargs.get("allow_origin_regex"), "allow_origin_regex", None)
    what = None
    if origins is not None and "*" in _strings(origins[0]):
        what = f"`allow_origins={origins[1]}` (`{origins[0]}`)" if origins[1] else f"`allow_origins={origins[0]}`"
    elif regex is not None and (_string(regex[0]) or "").strip() in _WILDCARD_REGEX:
        what = f"`allow_origin_regex={regex[0]}`"
    if what is None:
        return
    yield ctx.finding("FR601", module, call.span, function, origins=what)


# ---------------------------------------------------------------------------------------- FR602
UVICORN = frozenset({"uvicorn.run", "uvicorn.main.run", "uvicorn.Config", "uvicorn.config.Config"})


def _is_app_class(ctx: CheckContext, sym: Symbol) -> bool:
    if sym.kind == "external":
        return sym.name in APP_TYPES or sym.name in ("fastapi.applications.FastAPI", "starlette.applications.Starlette")
    if sym.kind == "class":
        return ctx.index.subclass_of(sym.name, APP_TYPES)
    return False


def _only_from_main_guard(ctx: CheckContext, module: ModuleFacts, fn: FunctionFacts) -> bool:
    """A function called only under `if __name__ == "__main__":` (a dev entry point)."""
    if fn.qualname == "<module>":
        return False
    full = f"{module.module}.{fn.qualname}" if module.module else fn.qualname
    callers = 0
    for other in ctx.index.modules.values():
        for caller in other.functions:
            for call in caller.calls:
                if call.target and ctx.index.resolve(call.target).name == full:
                    if not call.in_main_guard:
                        return False
                    callers += 1
    return callers > 0


_DEV_WORDS = frozenset({"dev", "develop", "development", "debug", "local", "reload", "watch"})


def _dev_entry(fn: FunctionFacts) -> bool:
    """`def dev()`, `def run_dev_server()`, `@cli.command("develop")`: a developer's command."""
    words = set(re.split(r"[_\W]+", fn.name.lower()))
    for dec in fn.decorators:
        for text in (*dec.args, *dec.kwargs.values()):
            value = _string(text) if text[:1] in ("'", '"') else None
            if value:
                words |= set(re.split(r"[_\W]+", value.lower()))
    return bool(words & _DEV_WORDS)


def _debug(ctx, module, fn, function, call, sym) -> Iterator[Finding]:
    if call.in_main_guard:
        return
    if _is_app_class(ctx, sym):
        if call.kwargs.get("debug") == "True":
            yield ctx.finding(
                "FR602", module, call.span, function, setting=f"`{call.raw}(debug=True)`",
                hint="read it from settings (`debug=settings.debug`, false by default) so production never serves tracebacks",
            )
        return
    if sym.kind == "external" and sym.name in UVICORN:
        on = [k for k in ("reload", "debug") if call.kwargs.get(k) == "True"]
        if not on or _dev_entry(fn) or _only_from_main_guard(ctx, module, fn):
            return
        yield ctx.finding(
            "FR602", module, call.span, function, setting=f"`{call.raw}({on[0]}=True)`",
            hint="pass `--reload` on the command line in development (or read it from settings), or move the call under `if __name__ == \"__main__\":`",
        )


# ---------------------------------------------------------------------------------------- FR603
def _may_take_secret(ctx: CheckContext, sym: Symbol) -> bool:
    """Whether a call of this callee can reach FR603's sinks, whatever its arguments: a secret
    sink, a session middleware or a subclass, the ``Middleware(...)`` wrapper (``add_middleware``
    is recognised by its callee text).  A superset of what ``_secret`` goes on with: the project's
    ~80,000 calls are tested by their ~6,000 distinct callees."""
    if sym.kind == "external":
        return sym.name in SECRET_SINKS or sym.name in SESSIONS or sym.name in MIDDLEWARE_WRAPPERS
    if sym.kind == "class":
        return sym.name in MIDDLEWARE_WRAPPERS or any(base in SECRET_SINKS or base in SESSIONS for base in ctx.index.mro(sym.name))
    return False


def _secret(ctx, module, fn, function, index, call, sym, literals: _Literals) -> Iterator[Finding]:
    name = sym.name if sym.kind == "external" else None
    if name is None and sym.kind == "class":
        for base in ctx.index.mro(sym.name):
            if base in SECRET_SINKS or base in SESSIONS:
                name = base
                break
    keywords: tuple[str, ...]
    if name in SECRET_SINKS:
        position, keywords, verb = SECRET_SINKS[name]
    else:
        cls, _ = _middleware_class(ctx, call, sym)
        if cls not in SESSIONS:
            return
        # SessionMiddleware(app, secret_key), add_middleware(SessionMiddleware, secret_key), Middleware(...)
        position, keywords, verb = 1, ("secret_key",), "signs session cookies with"
    found = None
    for keyword in keywords:
        if keyword in call.kwargs:
            found = literals.value(fn, index, call.kwargs[keyword], keyword, None)
            break
    else:
        if position is not None and len(call.args) > position:
            found = literals.value(fn, index, call.args[position], None, position)
    if found is None:
        return
    text, constant = found
    value = _string(text)
    if not value or not value.strip() or _PUBLIC.match(value):
        return
    shown = f"`{constant}`" if constant else f"`{_redact(value)}`"
    yield ctx.finding(
        "FR603", module, call.span, function, call=f"`{call.raw}()`", verb=verb, key=shown,
    )


def _redact(value: str) -> str:
    return value if len(value) <= 6 else value[:3] + "..." + value[-1:]
