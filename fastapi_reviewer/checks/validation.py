"""FR2xx: request and response data that no Pydantic model describes, and Pydantic v1 API in v2 code.

- FR201 a route body parameter typed ``dict`` / ``Dict[str, Any]`` / ``Mapping`` / a list of those,
  or an explicit ``Body()`` with no type (or ``Any``).  FastAPI treats a mapping or sequence
  annotation as the body; ``Any`` without ``Body()`` is a query parameter and is not reported.
- FR202 ``await request.json()`` / ``.form()`` (or ``json.loads(await request.body())``) in a route or
  dependency whose result is read as data: subscripted, ``.get()``-ed, iterated, passed on.  Echoing
  it back, forwarding it, validating it into a model, or handing the raw body to a signature check
  (webhooks) is not reported.
- FR203 a route returning dicts or ORM objects with no ``response_model`` and no model return
  annotation.
- FR204 Pydantic v1 API on values known to be Pydantic models, in a project on Pydantic 2.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from fastapi_reviewer.checks.base import CheckContext
from fastapi_reviewer.facts.flow import uses_of
from fastapi_reviewer.facts.lazy import call_targets
from fastapi_reviewer.facts.model import FunctionFacts, ModuleFacts, Span, UseFact
from fastapi_reviewer.facts.positions import param_span
from fastapi_reviewer.findings import Finding
from fastapi_reviewer.index import FunctionRef, ProjectIndex
from fastapi_reviewer.project_deps import declared_major, declares
from fastapi_reviewer.pydantic_model import ModelKinds, annotation_kind, dotted_name, is_response_type, parse_annotation
from fastapi_reviewer.testfiles import is_test_path

_PATH_PARAM = re.compile(r"{([A-Za-z_]\w*)(?::[^}]*)?}")
_NOT_BODY = frozenset({"Query", "Path", "Header", "Cookie", "Form", "File", "Depends", "Security"})
_MAPPINGS = frozenset(
    {
        "builtins.dict", "typing.Dict", "typing.Mapping", "typing.MutableMapping", "collections.abc.Mapping",
        "collections.abc.MutableMapping",
    }
)
_SEQUENCES = frozenset({"builtins.list", "typing.List", "typing.Sequence", "collections.abc.Sequence"})
_OPTIONAL = frozenset({"typing.Optional", "typing_extensions.Optional", "typing.Union", "typing.Annotated", "typing_extensions.Annotated"})
_SHORT = re.compile(r"\b(?:builtins|typing_extensions|typing|collections\.abc)\.")


def short_type(text: str | None) -> str:
    """`typing.Dict[builtins.str, typing.Any]` -> `Dict[str, Any]`; project names keep their last part."""
    if not text:
        return "?"
    text = _SHORT.sub("", text)
    return re.sub(r"\b(?:[A-Za-z_]\w*\.)+([A-Za-z_]\w*)", r"\1", text)


def check(ctx: CheckContext) -> Iterator[Finding]:
    kinds = ModelKinds(ctx.index)
    if ctx.wants("FR201"):
        yield from _untyped_bodies(ctx)
    if ctx.wants("FR202"):
        yield from _hand_parsed(ctx, kinds)
    if ctx.wants("FR203"):
        yield from _untyped_responses(ctx, kinds)
    if ctx.wants("FR204"):
        yield from _pydantic_v1(ctx, kinds)


def _route_functions(ctx: CheckContext) -> dict[str, list]:
    """Routes by endpoint function; test apps (routes defined in test files) are left out."""
    found: dict[str, list] = {}
    for route in ctx.app.routes:
        if route.method == "websocket":
            continue
        ref = ctx.index.function(route.function)
        if ref is None or not ctx.in_scope(ref.module) or is_test_path(ref.module.path):
            continue
        found.setdefault(route.function, []).append(route)
    return found


# ---------------------------------------------------------------------------------------- FR201
def _core(node: ast.expr) -> list[ast.expr]:
    """Optional[X], X | None, Union[X, None], Annotated[X, ...] -> [X] (all non-None members)."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _core(node.left) + _core(node.right)
    if isinstance(node, ast.Subscript) and dotted_name(node.value) in _OPTIONAL:
        args = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
        if dotted_name(node.value) in ("typing.Annotated", "typing_extensions.Annotated"):
            args = args[:1]
        return [core for arg in args for core in _core(arg)]
    if isinstance(node, ast.Constant) and node.value is None:
        return []
    return [node]


def _is_container(node: ast.expr) -> bool:
    base = dotted_name(node.value) if isinstance(node, ast.Subscript) else dotted_name(node)
    return base in _MAPPINGS or base in _SEQUENCES


def _untyped_body(param_annotation: str | None, explicit: bool, index: ProjectIndex, kinds: ModelKinds) -> bool:
    if param_annotation is None:
        return explicit  # `payload=Body(...)`: anything goes
    tree = parse_annotation(param_annotation)
    if tree is None:
        return False
    cores = _core(tree)
    if len(cores) != 1:
        return False
    if annotation_kind(param_annotation, index, kinds) != "untyped":
        return False
    # without Body(), FastAPI reads a mapping or a sequence from the body; `Any` is a query parameter
    return explicit or _is_container(cores[0])


def _model_name(param: str) -> str:
    words = [w for w in re.split(r"[_\W]+", param) if w]
    return "".join(w[:1].upper() + w[1:] for w in words) + "In" if words else "BodyIn"


def _untyped_bodies(ctx: CheckContext) -> Iterator[Finding]:
    kinds = ModelKinds(ctx.index)
    for full, routes in _route_functions(ctx).items():
        ref = ctx.index.function(full)
        if ref is None:
            continue
        fn = ref.function
        path_params = {name for r in routes for name in _PATH_PARAM.findall(r.path or "")}
        for i, param in enumerate(fn.params):
            if param.kind in ("star", "dstar") or (i == 0 and fn.class_name and param.name in ("self", "cls")):
                continue
            marker = param.marker.rsplit(".", 1)[-1] if param.marker else None
            if marker in _NOT_BODY or param.depends is not None:
                continue
            explicit = marker == "Body" or param.body_marker
            if not explicit and param.name in path_params:
                continue
            if not _untyped_body(param.annotation, explicit, ctx.index, kinds):
                continue
            annotation = short_type(param.annotation) if param.annotation else "Body() with no type"
            model = _model_name(param.name)
            yield ctx.finding(
                "FR201", ref.module, param_span(fn.span, i), fn.qualname,
                hint=f"declare the fields in a Pydantic model (`class {model}(BaseModel): ...`) and annotate `{param.name}: {model}`",
                param=param.name, annotation=annotation,
            )


# ---------------------------------------------------------------------------------------- FR202
REQUEST_READS = {"fastapi.Request.json": "json", "fastapi.Request.form": "form", "fastapi.Request.body": "body"}
JSON_LOADS = frozenset({"json.loads", "orjson.loads", "ujson.loads", "simplejson.loads", "rapidjson.loads", "msgspec.json.decode"})
# calls that take the parsed body without reading it as data
_FORWARD_PREFIXES = (
    "fastapi.responses.", "starlette.responses.", "fastapi.Response", "httpx.", "requests.", "aiohttp.",
    "logging.", "structlog.", "loguru.", "json.dumps", "orjson.dumps", "ujson.dumps", "builtins.print",
    "builtins.len", "builtins.isinstance", "builtins.type", "builtins.repr", "builtins.str", "builtins.bool",
    "hmac.", "hashlib.", "pydantic.TypeAdapter", "base64.",
)
_LOGGER_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "exception", "critical", "log"})
_VALIDATE_METHODS = frozenset(
    {"model_validate", "model_validate_json", "parse_obj", "parse_raw", "validate_python", "validate_json", "from_dict", "model_construct"}
)
_SCHEMA_LIBRARIES = frozenset({"marshmallow", "msgspec", "cattrs", "cattr", "dacite", "jsonschema", "fastjsonschema", "voluptuous", "cerberus", "schema"})
_COPIES = frozenset({"builtins.dict", "builtins.list", "copy.copy", "copy.deepcopy"})


class _Reads:
    def __init__(self, ctx: CheckContext, kinds: ModelKinds, ref: FunctionRef) -> None:
        self.ctx = ctx
        self.kinds = kinds
        self.ref = ref
        self.fn = ref.function

    def callee(self, index: int) -> str:
        call = self.fn.calls[index]
        sym = self.ctx.index.resolve(call.target)
        return sym.name if sym.known else (call.target or call.raw)

    def validates(self, index: int) -> bool:
        """A call that validates its argument into a model: Model(**x), Model.model_validate(x), ..."""
        call = self.fn.calls[index]
        sym = self.ctx.index.resolve(call.target)
        if sym.kind == "class" and self.kinds.kind(sym.name) in ("pydantic", "pydantic-v1", "dataclass"):
            return True
        method = call.raw.rsplit(".", 1)[-1]
        if method in _VALIDATE_METHODS or "validate" in method or "deserializ" in method:
            return True
        if sym.kind == "external" and sym.name.split(".")[0] in _SCHEMA_LIBRARIES:
            return True
        if call.target and "." in call.target:  # a classmethod of a model: `Form.model_validate_form(data)`
            owner = self.ctx.index.resolve(call.target.rsplit(".", 1)[0])
            if owner.kind in ("class", "instance") and self.kinds.kind(owner.name) in ("pydantic", "pydantic-v1", "dataclass"):
                return True
        return False

    def forwards(self, index: int) -> bool:
        call = self.fn.calls[index]
        name = self.callee(index)
        method = call.raw.rsplit(".", 1)[-1]
        if name.startswith(_FORWARD_PREFIXES) or is_response_type(name):
            return True
        if method in _LOGGER_METHODS and ("log" in call.raw.lower()):
            return True
        sym = self.ctx.index.resolve(call.target)
        return sym.kind == "class" and self.kinds.kind(sym.name) == "response"

    def data_use(self, uses: list[UseFact], seen: set[str] | None = None) -> str | None:
        """How a parsed body is read as data, or None when it is only echoed, forwarded or validated.

        A body that is validated into a model anywhere is not reported: the model exists, the other
        reads are incidental (re-rendering a form with what the user typed, logging)."""
        seen = seen if seen is not None else set()
        if self._validated(uses, set()):
            return None
        order = {"subscript": 0, "receiver": 1, "iter": 2}
        uses = sorted(uses, key=lambda u: order.get(u.kind, 3))
        for use in uses:
            if use.kind == "subscript":
                return "subscripted"
            if use.kind == "iter":
                return "iterated"
            if use.kind == "receiver":
                method = self.fn.calls[use.call].raw.rsplit(".", 1)[-1]
                return f"`.{method}()`"
            if use.kind in ("arg", "star", "arg-part"):
                if self.validates(use.call) or self.forwards(use.call):
                    continue
                if use.kind == "arg" and self.callee(use.call) in _COPIES:  # dict(form): follow the copy
                    found = self.data_use(uses_of(self.fn, use.call), seen)
                    if found:
                        return found
                    continue
                callee = self.fn.calls[use.call].raw
                return f"passed to `{callee}()`"
            if use.kind == "assign" and use.keyword and use.keyword not in seen:
                seen.add(use.keyword)
                found = self.data_use(self.fn.uses.get(use.keyword, []), seen)
                if found:
                    return found
        return None

    def _validated(self, uses: list[UseFact], seen: set[str]) -> bool:
        for use in uses:
            if use.kind in ("arg", "star") and self.validates(use.call):
                return True
            if use.kind == "arg" and self.callee(use.call) in _COPIES and self._validated(uses_of(self.fn, use.call), seen):
                return True
            if use.kind == "assign" and use.keyword and use.keyword not in seen:
                seen.add(use.keyword)
                if self._validated(self.fn.uses.get(use.keyword, []), seen):
                    return True
        return False

    def body_parse(self, index: int) -> tuple[int, str] | None:
        """`json.loads(await request.body())` read as data, when the raw body goes nowhere else."""
        parsed: list[int] = []
        for use in uses_of(self.fn, index):
            if use.kind in ("arg", "arg-part") and self.callee(use.call) in JSON_LOADS:
                parsed.append(use.call)
            elif use.kind == "receiver" and self.fn.calls[use.call].raw.rsplit(".", 1)[-1] == "decode":
                for inner in uses_of(self.fn, use.call):
                    if inner.kind in ("arg", "arg-part") and self.callee(inner.call) in JSON_LOADS:
                        parsed.append(inner.call)
                    else:
                        return None
            elif use.kind in ("arg", "arg-part", "star", "receiver", "assign"):
                return None  # the raw bytes go to a signature check, a proxy, a file ...
        for call in parsed:
            found = self.data_use(uses_of(self.fn, call))
            if found:
                return call, found
        return None


def _hand_parsed(ctx: CheckContext, kinds: ModelKinds) -> Iterator[Finding]:
    for full, ref in ctx.scoped_functions():
        roles = ctx.app.role_of(full)
        if not roles & {"route", "dependency"} or is_test_path(ref.module.path):
            continue
        fn = ref.function
        if not fn.is_async:
            continue
        reads = None
        for i, call in enumerate(fn.calls):
            if not call.awaited or call.target is None or not call.target.endswith((".json", ".form", ".body")):
                continue
            kind = REQUEST_READS.get(ctx.index.resolve(call.target).name)
            if kind is None:
                continue
            reads = reads or _Reads(ctx, kinds, ref)
            text = f"await {call.raw}()"
            if kind == "body":
                found = reads.body_parse(i)
                if found is None:
                    continue
                loads, use = found
                text = f"{fn.calls[loads].raw}(await {call.raw}())"
            else:
                use = reads.data_use(uses_of(fn, i))
                if use is None:
                    continue
            yield ctx.finding(
                "FR202", ref.module, call.span, fn.qualname,
                call=f"`{text}`", use=use, role=ctx.app.label(full),
            )


# ---------------------------------------------------------------------------------------- FR203
DICT_BUILDERS = frozenset(
    {"builtins.dict", "fastapi.encoders.jsonable_encoder", "dataclasses.asdict", "json.loads", "orjson.loads", "ujson.loads"}
)
ORM_FETCH = frozenset({"all", "first", "one", "one_or_none", "get", "fetchall", "fetchone", "unique", "get_or_none", "filter"})
QUERY_BUILDERS = frozenset({"select", "query", "get", "get_one", "scalars", "exec_query"})
_DUMP_METHODS = frozenset({"model_dump", "dict"})


def _orm_entities(ctx: CheckContext, kinds: ModelKinds, fn: FunctionFacts) -> set[str]:
    """Kinds of the classes the function queries: `select(User)`, `session.query(User)`."""
    found: set[str] = set()
    for call in fn.calls:
        method = (call.target or call.raw).rsplit(".", 1)[-1]
        if method not in QUERY_BUILDERS or not call.args:
            continue
        sym = ctx.index.resolve(call.args[0])
        if sym.kind == "class":
            found.add(kinds.kind(sym.name) or "other")
    return found


def _fetch_result(ctx: CheckContext, kinds: ModelKinds, text: str, fn: FunctionFacts) -> str | None:
    """`<sqlalchemy session>...all()` / `User.all()` (Tortoise): ORM objects, described."""
    body = text.removesuffix("()")
    if "." not in body:
        return None
    prefix, method = body.rsplit(".", 1)
    if method not in ORM_FETCH:
        return None
    sym = ctx.index.resolve(prefix)
    if sym.kind == "class" and kinds.kind(sym.name) == "orm":
        return f"`{sym.name.rsplit('.', 1)[-1]}` ORM objects"
    if sym.kind in ("external", "instance-ext") and sym.name.startswith(("sqlalchemy.", "sqlmodel.")):
        entities = _orm_entities(ctx, kinds, fn)
        if entities and entities <= {"orm"}:
            return "SQLAlchemy ORM objects"
    return None


def _untyped_return(ctx: CheckContext, kinds: ModelKinds, fn: FunctionFacts) -> str | None:
    index = ctx.index
    for ret in fn.return_values:
        if ret.kind == "dict":
            return "a dict"
        if ret.kind == "list-of-dicts":
            return "a list of dicts"
        if ret.kind == "name" and ret.value:
            if ret.value == "builtins.dict()":
                return "a dict"
            sym = index.resolve(ret.value)
            if sym.kind == "instance" and kinds.kind(sym.name) == "orm":
                return f"a `{sym.name.rsplit('.', 1)[-1]}` ORM object"
            found = _fetch_result(ctx, kinds, ret.value, fn)
            if found:
                return found
        if ret.kind == "call" and ret.value:
            callee = index.resolve(ret.value)
            if callee.name in DICT_BUILDERS:
                return f"a dict from `{callee.name.rsplit('.', 1)[-1]}()`"
            method = ret.value.rsplit(".", 1)[-1]
            if method in _DUMP_METHODS:
                owner = index.resolve(ret.value.rsplit(".", 1)[0]) if "." in ret.value else None
                if owner is not None and owner.kind == "instance" and kinds.is_schema(owner.name):
                    return f"a dict from `.{method}()`"
            result = index.resolve(ret.value + "()")
            if result.kind == "instance" and kinds.kind(result.name) == "orm":
                return f"a `{result.name.rsplit('.', 1)[-1]}` ORM object"
            found = _fetch_result(ctx, kinds, ret.value, fn)
            if found:
                return found
    return None


def _untyped_responses(ctx: CheckContext, kinds: ModelKinds) -> Iterator[Finding]:
    for full, routes in _route_functions(ctx).items():
        ref = ctx.index.function(full)
        if ref is None:
            continue
        fn = ref.function
        if any(k in r.kwargs for r in routes for k in ("response_model", "response_class")):
            continue
        if all(r.method in ("head", "options") for r in routes):
            continue  # no response body
        if any(r.kwargs.get("include_in_schema") == "False" for r in routes):
            continue
        if any(re.search(r"(?:^|\D)(?:204|304)(?:\D|$)|NO_CONTENT|NOT_MODIFIED", r.kwargs.get("status_code", "")) for r in routes):
            continue
        if annotation_kind(fn.returns, ctx.index, kinds) not in ("none", "untyped"):
            continue
        what = _untyped_return(ctx, kinds, fn)
        if what is None:
            continue
        yield ctx.finding("FR203", ref.module, fn.span, fn.qualname, what=what)


# ---------------------------------------------------------------------------------------- FR204
V1_METHODS = {
    "dict": ("model_dump()", True),
    "json": ("model_dump_json()", True),
    "copy": ("model_copy()", True),
    "parse_obj": ("model_validate(obj)", False),
    "parse_raw": ("model_validate_json(data)", False),
    "parse_file": ("model_validate_json(Path(path).read_text())", False),
    "from_orm": ("model_validate(obj) with `model_config = ConfigDict(from_attributes=True)`", False),
    "schema": ("model_json_schema()", False),
    "schema_json": ("json.dumps(Model.model_json_schema())", False),
    "construct": ("model_construct()", False),
    "update_forward_refs": ("model_rebuild()", False),
    "validate": ("model_validate(obj)", False),
}
# instance-only methods (True above) must be called on an instance; `validate` only on the class
_CLASS_ONLY = frozenset({"validate"})
V1_DECORATORS = {
    "pydantic.validator": "@field_validator(...) (a classmethod: add @classmethod below it)",
    "pydantic.class_validators.validator": "@field_validator(...) (a classmethod: add @classmethod below it)",
    "pydantic.root_validator": "@model_validator(mode=\"before\") or (mode=\"after\")",
    "pydantic.class_validators.root_validator": "@model_validator(mode=\"before\") or (mode=\"after\")",
}
V1_CONFIG_KEYS = {
    "orm_mode": "from_attributes",
    "allow_population_by_field_name": "populate_by_name",
    "anystr_strip_whitespace": "str_strip_whitespace",
    "anystr_lower": "str_to_lower",
    "anystr_upper": "str_to_upper",
    "min_anystr_length": "str_min_length",
    "max_anystr_length": "str_max_length",
    "schema_extra": "json_schema_extra",
    "validate_all": "validate_default",
    "allow_mutation": "frozen (inverted)",
    "copy_on_model_validation": "revalidate_instances",
    "keep_untouched": "ignored_types",
}
V2_ONLY_IMPORTS = frozenset(
    {
        "pydantic.field_validator", "pydantic.model_validator", "pydantic.ConfigDict", "pydantic.TypeAdapter",
        "pydantic.computed_field", "pydantic.RootModel", "pydantic.field_serializer", "pydantic.model_serializer",
        "pydantic.ValidationInfo", "pydantic.AliasChoices", "pydantic.AliasPath", "pydantic.with_config",
        "pydantic.PlainSerializer", "pydantic.BeforeValidator", "pydantic.AfterValidator", "pydantic.WrapValidator",
        "pydantic.SerializeAsAny", "pydantic.InstanceOf", "pydantic.SkipValidation",
    }
)
V2_ONLY_METHODS = frozenset({"model_dump", "model_dump_json", "model_validate", "model_validate_json", "model_copy", "model_json_schema"})


def pydantic_major(ctx: CheckContext, kinds: ModelKinds) -> int | None:
    """The config override, then what the project declares, then v2-only names in the code."""
    if ctx.pydantic_major is not None:
        return ctx.pydantic_major
    declared = declared_major(ctx.root, "pydantic")
    if declared is not None:
        return declared
    if declares(ctx.root, "pydantic-settings"):
        return 2
    for module in ctx.index.modules.values():
        for target in module.imports.values():
            if target in V2_ONLY_IMPORTS or target.startswith("pydantic_settings"):
                return 2
    for module in ctx.index.modules.values():
        for fn in module.functions:
            # a call's target ends with the attribute it calls: only such functions are decoded
            if not any(target and target.rsplit(".", 1)[-1] in V2_ONLY_METHODS for target in call_targets(fn)):
                continue
            for call in fn.calls:
                if call.raw.rsplit(".", 1)[-1] in V2_ONLY_METHODS and call.target and call.target.rsplit(".", 1)[-1] in V2_ONLY_METHODS:
                    owner = ctx.index.resolve(call.target.rsplit(".", 1)[0])
                    if owner.kind in ("instance", "class") and kinds.is_pydantic(owner.name):
                        return 2
    return None


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def _pydantic_v1(ctx: CheckContext, kinds: ModelKinds) -> Iterator[Finding]:
    if pydantic_major(ctx, kinds) != 2:
        return
    index = ctx.index
    for module in ctx.scoped_modules():
        prefix = f"{module.module}." if module.module else ""
        yield from _v1_classes(ctx, kinds, module, prefix)
        for fn in module.functions:
            function = None if fn.qualname == "<module>" else fn.qualname
            if fn.class_name:
                cls_full = prefix + fn.class_name
                if kinds.is_pydantic(cls_full):
                    for dec in fn.decorators:
                        hint = V1_DECORATORS.get(index.resolve(dec.target).name)
                        if hint is not None:
                            span = dec.span or Span(dec.line, 1, dec.line, 1)
                            name = _short(dec.target)
                            yield ctx.finding(
                                "FR204", module, span, function, hint=f"use {hint} from pydantic",
                                api=f"`@{name}`", where=f"on `{_short(fn.class_name)}.{fn.name}`",
                            )
            for call in fn.calls:
                raw = call.raw
                if raw[raw.rfind(".") + 1 :] in _V1_CALLEES:  # the method or callee name, as _v1_call reads it
                    yield from _v1_call(ctx, kinds, module, function, call)


# what _v1_call looks at: a call whose last name is none of these yields nothing (a test of the
# name before a generator is made for each of the project's ~120,000 calls)
_V1_CALLEES = frozenset(V1_METHODS) | {"ConfigDict", "SettingsConfigDict"}


def _v1_call(ctx: CheckContext, kinds: ModelKinds, module: ModuleFacts, function: str | None, call) -> Iterator[Finding]:
    method = call.raw.rsplit(".", 1)[-1]
    if method in ("ConfigDict", "SettingsConfigDict"):
        name = ctx.index.resolve(call.target).name if call.target else ""
        if name in ("pydantic.ConfigDict", "pydantic_settings.SettingsConfigDict"):
            old = [k for k in call.kwargs if k in V1_CONFIG_KEYS]
            if old:
                renamed = ", ".join(f"`{k}` -> `{V1_CONFIG_KEYS[k]}`" for k in old)
                yield ctx.finding(
                    "FR204", module, call.span, function, hint=f"rename {renamed}",
                    api=f"`{method}({old[0]}=...)`", where="a v1 config key that v2 ignores",
                )
        return
    if method not in V1_METHODS or not call.target or "." not in call.target:
        return
    owner = ctx.index.resolve(call.target.rsplit(".", 1)[0])
    if owner.kind not in ("instance", "class") or not kinds.is_pydantic(owner.name):
        return
    v2, instance_only = V1_METHODS[method]
    if instance_only and owner.kind != "instance":
        return
    if method in _CLASS_ONLY and owner.kind != "class":
        return
    if kinds.defines(owner.name, method):
        return
    model = _short(owner.name)
    yield ctx.finding(
        "FR204", module, call.span, function, hint=f"use `.{v2}`" if not v2.startswith("json.") else f"use `{v2}`",
        api=f"`.{method}()`", where=f"on a `{model}` {'instance' if owner.kind == 'instance' else 'class'}",
    )


def _v1_classes(ctx: CheckContext, kinds: ModelKinds, module: ModuleFacts, prefix: str) -> Iterator[Finding]:
    by_qualname = {c.qualname: c for c in module.classes}
    for cls in module.classes:
        if "Config" not in cls.inner_classes or not kinds.is_pydantic(prefix + cls.qualname):
            continue
        config = by_qualname.get(f"{cls.qualname}.Config")
        if config is None:
            continue
        keys = [k for k in config.assigns if not k.startswith("_")]
        settings = kinds.is_settings(prefix + cls.qualname)
        factory = "SettingsConfigDict" if settings else "ConfigDict"
        parts = [f"{V1_CONFIG_KEYS.get(k, k).split(' ')[0]}=..." for k in keys[:4]]
        renamed = [f"`{k}` is `{V1_CONFIG_KEYS[k]}`" for k in keys if k in V1_CONFIG_KEYS]
        hint = f"replace it with `model_config = {factory}({', '.join(parts)})`"
        if renamed:
            hint += "; " + ", ".join(renamed) + " in v2"
        shown = ", ".join(f"`{k}`" for k in keys[:3]) + (", ..." if len(keys) > 3 else "")
        where = f"with {shown}" if keys else "an empty config class"
        yield ctx.finding("FR204", module, config.span, cls.qualname, hint=hint, api="`class Config:`", where=where)
